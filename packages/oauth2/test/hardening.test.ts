/** Behaviour added after review: each case was a real failure before its fix. */
import { inspect } from 'node:util';
import request from 'supertest';
import { ProviderStrategyOptions, isEmail, profileFromUserInfo } from '../src/provider-kit';
import {
  ACCESS_TOKEN,
  AUTH_CODE,
  CLIENT_SECRET,
  FakeServer,
  REFRESH_TOKEN,
  TestStrategy,
  bodyOf,
  buildApp,
  serveProvider,
  startFakeServer,
} from './helpers';

let provider: FakeServer;
beforeAll(async () => {
  provider = await startFakeServer();
});
afterAll(() => provider.close());
beforeEach(() => {
  provider.requests.length = 0;
  serveProvider(provider);
});

async function startLogin(agent: ReturnType<typeof request.agent>, path = '/auth/test'): Promise<string> {
  const res = await agent.get(path).expect(302);
  return new URL(res.headers.location as string).searchParams.get('state') as string;
}

describe('an async verify that still answers through done', () => {
  it('waits for done instead of failing on the resolved undefined', async () => {
    const verify = async (_at: string, _rt: string, profile: { id: string }, done: (e: unknown, u?: unknown) => void) => {
      setTimeout(() => done(null, { id: profile.id }), 20);
    };
    const { app } = buildApp(new TestStrategy(provider.url, {}, verify));
    const agent = request.agent(app);
    const state = await startLogin(agent);
    const res = await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: '4242' } });
  });

  it('an async verify without done that resolves undefined is a failure', async () => {
    const verify = async () => undefined;
    const { app } = buildApp(new TestStrategy(provider.url, {}, verify));
    const agent = request.agent(app);
    const state = await startLogin(agent);
    const res = await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state });
    expect(res.headers.location).toBe('/failed');
  });
});

describe('per-request string state', () => {
  it('goes through the store (PKCE verifier kept) and comes back as info.state', async () => {
    const { app } = buildApp(new TestStrategy(provider.url, {}, (_a: string, _r: string, p: { id: string }, done: (e: unknown, u?: unknown) => void) => done(null, { id: p.id })), {
      startOptions: { state: 'return-to-/reports' },
    });
    const agent = request.agent(app);
    const state = await startLogin(agent);
    expect(state).not.toBe('return-to-/reports');
    const res = await agent.get('/auth/test/report').query({ code: AUTH_CODE, state });
    expect(res.body).toMatchObject({ outcome: 'success', info: { state: 'return-to-/reports' } });
    expect(bodyOf(provider.requestsTo('/oauth/token')[0]!).code_verifier).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]{43}$/));
  });
});

describe('options', () => {
  const verify = () => undefined;
  it('a four-argument custom store with PKCE on is refused at construction', () => {
    const store = { store: (_req: unknown, _state: unknown, _meta: unknown, cb: () => void) => cb(), verify: () => undefined };
    expect(() => new TestStrategy(provider.url, { store } as Partial<ProviderStrategyOptions>, verify)).toThrow(/option "store" must take five arguments/);
    expect(() => new TestStrategy(provider.url, { store, pkce: false } as Partial<ProviderStrategyOptions>, verify)).not.toThrow();
  });

  it("pkce 'plain' is refused where the server requires PKCE", () => {
    expect(() => new TestStrategy(provider.url, { pkce: 'plain' }, verify, { pkce: 'required' })).toThrow(/option "pkce" cannot be 'plain'/);
  });

  it('the client secret is not printed with the strategy', () => {
    const strategy = new TestStrategy(provider.url, {}, verify);
    expect(inspect(strategy, { depth: 6 })).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(Object.entries(strategy))).not.toContain(CLIENT_SECRET);
  });
});

describe('requests to the provider', () => {
  it('customHeaders go on the profile request too', async () => {
    const { app } = buildApp(
      new TestStrategy(provider.url, { customHeaders: { 'X-Tenant': 'acme' } }, (_a: string, _r: string, p: { id: string }, done: (e: unknown, u?: unknown) => void) =>
        done(null, { id: p.id }),
      ),
    );
    const agent = request.agent(app);
    const state = await startLogin(agent);
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(200);
    expect(provider.requestsTo('/oauth/token')[0]!.headers['x-tenant']).toBe('acme');
    expect(provider.requestsTo('/userinfo')[0]!.headers['x-tenant']).toBe('acme');
  });

  it("a definition's tokenParams (an MCP resource) are sent on refresh too, through both refresh paths", async () => {
    const strategy = new TestStrategy(provider.url, {}, () => undefined, { tokenParams: { resource: 'https://mcp.example' } });
    await strategy.refreshTokenClient.refresh(REFRESH_TOKEN);
    const adapter = (strategy as unknown as { _oauth2: { getOAuthAccessToken: (c: string, p: object, cb: (e: unknown) => void) => void } })._oauth2;
    await new Promise<void>((resolve, reject) => adapter.getOAuthAccessToken(REFRESH_TOKEN, { grant_type: 'refresh_token' }, (e) => (e ? reject(e) : resolve())));
    const bodies = provider.requestsTo('/oauth/token').map(bodyOf);
    expect(bodies).toHaveLength(2);
    for (const body of bodies) expect(body).toMatchObject({ grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN, resource: 'https://mcp.example' });
  });

  it('the node-oauth adapter passes other grants through (client_credentials)', async () => {
    const strategy = new TestStrategy(provider.url, {}, () => undefined);
    const adapter = (strategy as unknown as { _oauth2: { getOAuthAccessToken: (c: string, p: object, cb: (e: unknown, at?: string) => void) => void } })._oauth2;
    const accessToken = await new Promise<string | undefined>((resolve, reject) =>
      adapter.getOAuthAccessToken('', { grant_type: 'client_credentials' }, (e, at) => (e ? reject(e) : resolve(at))),
    );
    expect(accessToken).toBe(ACCESS_TOKEN);
    const body = bodyOf(provider.requestsTo('/oauth/token')[0]!);
    expect(body.grant_type).toBe('client_credentials');
    expect(body).not.toHaveProperty('code');
  });
});

describe('profiles', () => {
  it('an identity document that echoes the token keeps it out of _json and _raw', () => {
    const raw = JSON.stringify({ id: 7, token: ACCESS_TOKEN, access_token: ACCESS_TOKEN, email: 'a@b.co' });
    const profile = profileFromUserInfo('test', JSON.parse(raw), raw);
    expect(profile?._raw).not.toContain(ACCESS_TOKEN);
    expect(JSON.stringify(profile?._json)).not.toContain(ACCESS_TOKEN);
    expect(profile?.emails).toEqual([{ value: 'a@b.co' }]);
  });

  it('isEmail: a length cap and a regex without overlapping runs (no backtracking blow-up)', () => {
    expect(isEmail(`a@${'a.'.repeat(20_000)}`)).toBe(false);
    expect(isEmail(`${'a'.repeat(100)}@${'b'.repeat(100)}.com`)).toBe(true);
    expect(isEmail('first.last@mail.example.co.uk')).toBe(true);
    expect(isEmail('no-at.example.com')).toBe(false);
    expect(isEmail('a@b')).toBe(false);
  });
});

describe('toTokenSet', () => {
  it('caps an absurd expires_in so expiresAt stays a valid date', async () => {
    const { toTokenSet } = await import('../src/provider-kit');
    const tokenSet = toTokenSet({ access_token: 'at-1', expires_in: 1e17 }, 1_000);
    expect(Number.isFinite(new Date(tokenSet.expiresAt as number).getTime())).toBe(true);
    expect(tokenSet.expiresAt).toBe(1_000 + 10 * 365 * 24 * 3600 * 1000);
  });
});
