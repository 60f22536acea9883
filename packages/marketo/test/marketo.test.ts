import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import OAuth2Strategy from 'passport-oauth2';
import { MarketoClientCredentials, MarketoStrategy, OAuthTokenError, marketoTokenRejected, parseMarketoError, type Profile } from '../src';
import identityToken from './fixtures/identity-token.json';
import rest601 from './fixtures/rest-601.json';
import rest602 from './fixtures/rest-602.json';
import identity401 from './fixtures/identity-401.json';

const SECRET = 'mkto-s3cret-value-XYZ';

// The profile a login builds from its token response (the strategy's protected hook).
const tokenProfile = (raw: Record<string, unknown>) => (new MarketoStrategy({ clientID: 'c', clientSecret: 's', callbackURL: '/cb', instanceURL: 'https://app-ab12.marketo.com' }, () => undefined) as unknown as { profileFromTokenSet(set: object): Profile | undefined }).profileFromTokenSet({ raw });

describe('the profile from a token response (scope is the API user email)', () => {
  it('takes the API user email from scope', () => {
    expect(tokenProfile(identityToken)).toEqual({
      provider: 'marketo',
      id: 'apiuser@example.com',
      displayName: 'apiuser@example.com',
      emails: [{ value: 'apiuser@example.com' }],
      photos: [],
      _raw: JSON.stringify({ token_type: 'bearer', expires_in: 3599, scope: 'apiuser@example.com' }),
      _json: { token_type: 'bearer', expires_in: 3599, scope: 'apiuser@example.com' },
    });
  });

  it('prefers an explicit user_id and ignores a scope that is not an email', () => {
    expect(tokenProfile({ access_token: 'x', user_id: 42, scope: 'apiuser@example.com' })?.id).toBe('42');
    expect(tokenProfile({ access_token: 'x', scope: 'read write' })).toBeUndefined();
  });
});

describe('parseMarketoError', () => {
  it('reads REST errors and identity (RFC 6749) errors', () => {
    expect(parseMarketoError(rest601, 200)).toEqual({ code: '601', description: 'Access token invalid', details: { errors: [{ code: '601', message: 'Access token invalid' }] } });
    expect(parseMarketoError(rest602, 200)?.code).toBe('602');
    expect(parseMarketoError(identity401, 401)).toMatchObject({ code: 'invalid_client', description: 'Bad client credentials' });
    expect(parseMarketoError({ success: true, result: [] }, 200)).toBeUndefined();
  });
});

describe('MarketoStrategy', () => {
  const base = { clientID: 'mkto-client', clientSecret: SECRET, callbackURL: 'https://app.example/cb' };

  it('requires instanceURL and keeps its path', () => {
    expect(() => new MarketoStrategy(base as never, () => undefined)).toThrow(/@passport-martech\/marketo: option "instanceURL"/);
    const strategy = new MarketoStrategy({ ...base, instanceURL: 'http://127.0.0.1:4000/marketo' }, () => undefined);
    expect(strategy).toBeInstanceOf(OAuth2Strategy);
    expect(strategy.name).toBe('marketo');
    expect(strategy.provider.authorizationURL).toBe('http://127.0.0.1:4000/marketo/oauth/authorize');
    expect(strategy.provider.tokenURL).toBe('http://127.0.0.1:4000/marketo/oauth/token');
    expect(strategy.tokenClient.bodyEncoding).toBe('form');
  });
});

/** A stand-in for Marketo's identity and REST services that counts what it gets. */
class FakeMarketo {
  server!: Server;
  url = '';
  tokenRequests: URL[] = [];
  restAuthorizations: string[] = [];
  tokenSerial = 0;
  expiresIn = 3599;
  /** Answers to the next REST calls, in order; then success. */
  restScript: unknown[] = [];
  tokenDelayMs = 0;
  /** Like Marketo: the same token again until it expires. */
  sameToken = false;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/identity/oauth/token') {
      this.tokenRequests.push(url);
      if (this.tokenDelayMs) await new Promise((r) => setTimeout(r, this.tokenDelayMs));
      if (url.searchParams.get('client_secret') !== SECRET) return send(401, identity401);
      if (!this.sameToken || this.tokenSerial === 0) this.tokenSerial += 1;
      return send(200, { ...identityToken, access_token: `token-${this.tokenSerial}`, expires_in: this.expiresIn });
    }
    if (url.pathname === '/rest/v1/leads.json') {
      this.restAuthorizations.push(String(req.headers.authorization));
      const scripted = this.restScript.shift();
      return send(200, scripted ?? { requestId: 'r1', success: true, result: [{ id: 1, email: 'lead@example.com' }] });
    }
    send(404, { error: 'not_found' });
  }
}

describe('MarketoClientCredentials', () => {
  const marketo = new FakeMarketo();
  beforeAll(() => marketo.start());
  afterAll(() => marketo.stop());
  beforeEach(() => {
    marketo.tokenRequests = [];
    marketo.restAuthorizations = [];
    marketo.restScript = [];
    marketo.expiresIn = 3599;
    marketo.tokenDelayMs = 0;
    marketo.sameToken = false;
  });

  const create = (overrides: Partial<ConstructorParameters<typeof MarketoClientCredentials>[0]> = {}) =>
    new MarketoClientCredentials({
      identityURL: `${marketo.url}/identity`,
      restURL: `${marketo.url}/rest`,
      clientId: 'mkto-client',
      clientSecret: SECRET,
      ...overrides,
    });

  it('derives both bases from a Munchkin id', () => {
    const client = new MarketoClientCredentials({ munchkinId: '123-ABC-456', clientId: 'a', clientSecret: 'b' });
    expect(client.identityURL).toBe('https://123-abc-456.mktorest.com/identity');
    expect(client.restURL).toBe('https://123-abc-456.mktorest.com/rest');
    expect(() => new MarketoClientCredentials({ clientId: 'a', clientSecret: 'b' })).toThrow(/munchkinId/);
  });

  it('asks with query parameters and caches the token', async () => {
    const client = create();
    const first = await client.getToken();
    const second = await client.getToken();
    expect(first.accessToken).toBe(second.accessToken);
    expect(marketo.tokenRequests).toHaveLength(1);
    const query = marketo.tokenRequests[0]!.searchParams;
    expect(query.get('grant_type')).toBe('client_credentials');
    expect(query.get('client_id')).toBe('mkto-client');
    expect(first.expiresAt).toBeGreaterThan(Date.now() + 3500_000);
    expect(first.scope).toEqual(['apiuser@example.com']);
  });

  it('sends one request for 100 concurrent callers', async () => {
    marketo.tokenDelayMs = 50;
    const client = create();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => client.getToken()));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(marketo.tokenRequests).toHaveLength(1);
  });

  it('asks again when the token is within the skew of expiry', async () => {
    marketo.expiresIn = 30;
    const client = create({ skewSeconds: 60 });
    await client.getToken();
    await client.getToken();
    expect(marketo.tokenRequests).toHaveLength(2);
  });

  it('in the last seconds, when Marketo hands back the same token, it is used to its end without asking again', async () => {
    marketo.expiresIn = 30;
    marketo.sameToken = true;
    const client = create({ skewSeconds: 60 });
    const tokens = [];
    for (let i = 0; i < 5; i += 1) tokens.push(await client.getToken());
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(marketo.tokenRequests).toHaveLength(2);
  });

  it.each([
    ['601', rest601],
    ['602', rest602],
  ])('on %s fetch() gets a new token and retries once', async (_code, rejection) => {
    const client = create();
    marketo.restScript = [rejection];
    const response = await client.fetch('/v1/leads.json');
    expect(await response.json()).toMatchObject({ success: true });
    expect(marketo.restAuthorizations).toHaveLength(2);
    expect(marketo.restAuthorizations[0]).not.toBe(marketo.restAuthorizations[1]);
    expect(marketo.restAuthorizations[1]).toMatch(/^Bearer token-\d+$/);
    expect(marketo.tokenRequests).toHaveLength(2);
  });

  it('retries only once', async () => {
    const client = create();
    marketo.restScript = [rest601, rest602];
    const response = await client.fetch('/v1/leads.json');
    expect(await response.json()).toMatchObject({ success: false, errors: [{ code: '602' }] });
    expect(marketo.restAuthorizations).toHaveLength(2);
  });

  it('bad client credentials give a clear typed error without the secret', async () => {
    const client = create({ clientSecret: 'wrong-secret-value-123' });
    const error = await client.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthTokenError);
    expect(error).toMatchObject({ code: 'invalid_client', status: 401, description: 'Bad client credentials' });
    expect(String((error as Error).message)).not.toContain('wrong-secret-value-123');
    expect(JSON.stringify(error)).not.toContain('wrong-secret-value-123');
  });
});

describe('MarketoClientCredentials.fetch query strings', () => {
  it('keeps the query string out of the path', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(req.url?.startsWith('/identity') ? JSON.stringify({ access_token: 'tok-1', token_type: 'bearer', expires_in: 3599, scope: 'a@b.co' }) : '{"success":true,"result":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const client = new MarketoClientCredentials({ identityURL: `${url}/identity`, restURL: `${url}/rest`, clientId: 'c', clientSecret: SECRET });
      await client.fetch('/v1/leads.json?filterType=email&filterValues=a%40b.co');
      expect(seen[1]).toBe('/rest/v1/leads.json?filterType=email&filterValues=a%40b.co');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('MarketoClientCredentials: a Munchkin id can only name a host under mktorest.com', () => {
  const hostile = [
    '123-ABC-456@evil.example/x',
    '123-ABC-456@evil.example',
    'evil.example/x',
    '123-ABC-456/../x',
    '123-ABC-456#frag',
    '123-ABC-456.evil.example',
    '123-ABC-456 ',
    ' 123-ABC-456',
    '123-ABC-456\n',
    '123-ABC\t456',
    '123-ABC-456?x=1',
    '123-ABC-456:8443',
    '',
  ];

  it.each(hostile)('%j is refused before any request leaves', async (munchkinId) => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    try {
      expect(() => new MarketoClientCredentials({ munchkinId, clientId: 'a', clientSecret: SECRET })).toThrow(
        munchkinId === '' ? /munchkinId/ : /option "munchkinId" must look like 123-ABC-456/,
      );
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it('a valid id gives hosts under mktorest.com only', () => {
    for (const munchkinId of ['123-ABC-456', 'abc-123-xyz', '999']) {
      const client = new MarketoClientCredentials({ munchkinId, clientId: 'a', clientSecret: 'b' });
      expect(new URL(client.identityURL).host).toBe(`${munchkinId.toLowerCase()}.mktorest.com`);
      expect(new URL(client.restURL).host).toBe(`${munchkinId.toLowerCase()}.mktorest.com`);
    }
  });
});

describe("MarketoClientCredentials.fetch and Marketo's REST limits (606, 615, 607)", () => {
  /** A Marketo whose REST answers are played from `answers` in turn (then success). */
  async function marketoAnswering(answers: unknown[]) {
    const restCalls: number[] = [];
    const server = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (req.url?.startsWith('/identity')) return res.end(JSON.stringify({ access_token: 'tok-1', token_type: 'bearer', expires_in: 3599, scope: 'a@b.co' }));
      restCalls.push(Date.now());
      res.end(JSON.stringify(answers.shift() ?? { success: true, result: [{ id: 1 }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const close = () => new Promise((resolve) => server.close(resolve));
    return { url, restCalls, close };
  }
  const limited = (code: string) => ({ success: false, errors: [{ code, message: `limit ${code}` }] });

  it.each([['606'], ['615']])('%s: waits and tries again, with a growing wait; the caller gets the success', async (code) => {
    const marketo = await marketoAnswering([limited(code), limited(code)]);
    try {
      const client = new MarketoClientCredentials({ identityURL: `${marketo.url}/identity`, restURL: `${marketo.url}/rest`, clientId: 'c', clientSecret: SECRET, rateLimitDelayMs: 50 });
      const response = await client.fetch('/v1/leads.json');
      expect(await response.json()).toEqual({ success: true, result: [{ id: 1 }] });
      expect(marketo.restCalls).toHaveLength(3);
      expect(marketo.restCalls[1] - marketo.restCalls[0]).toBeGreaterThanOrEqual(45);
      expect(marketo.restCalls[2] - marketo.restCalls[1]).toBeGreaterThanOrEqual(95);
    } finally {
      await marketo.close();
    }
  });

  it('still limited after rateLimitRetries: the 606 answer is handed back as it is (bounded, no storm)', async () => {
    const marketo = await marketoAnswering([limited('606'), limited('606'), limited('606'), limited('606')]);
    try {
      const client = new MarketoClientCredentials({ identityURL: `${marketo.url}/identity`, restURL: `${marketo.url}/rest`, clientId: 'c', clientSecret: SECRET, rateLimitDelayMs: 10, rateLimitRetries: 2 });
      const response = await client.fetch('/v1/leads.json');
      expect(await response.json()).toMatchObject({ success: false, errors: [{ code: '606' }] });
      expect(marketo.restCalls).toHaveLength(3);
    } finally {
      await marketo.close();
    }
  });

  it('607 (daily quota): a typed error, MARKETO_DAILY_QUOTA_EXCEEDED, without retries', async () => {
    const marketo = await marketoAnswering([limited('607')]);
    try {
      const client = new MarketoClientCredentials({ identityURL: `${marketo.url}/identity`, restURL: `${marketo.url}/rest`, clientId: 'c', clientSecret: SECRET, rateLimitDelayMs: 10 });
      await expect(client.fetch('/v1/leads.json')).rejects.toMatchObject({ name: 'OAuthRequestError', code: 'MARKETO_DAILY_QUOTA_EXCEEDED' });
      expect(marketo.restCalls).toHaveLength(1);
    } finally {
      await marketo.close();
    }
  });

  it('checks rateLimitRetries and rateLimitDelayMs', () => {
    const base = { identityURL: 'https://x.mktorest.com/identity', restURL: 'https://x.mktorest.com/rest', clientId: 'c', clientSecret: SECRET };
    expect(() => new MarketoClientCredentials({ ...base, rateLimitRetries: -1 })).toThrow(/rateLimitRetries/);
    expect(() => new MarketoClientCredentials({ ...base, rateLimitDelayMs: Number.NaN })).toThrow(/rateLimitDelayMs/);
  });
});

describe("Marketo's token-rejected rule (601/602 in an HTTP 200), supplied with the strategy", () => {
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

  it('marketoTokenRejected reads 601 and 602 from a 200 body and leaves the body readable', async () => {
    const rejected = json(rest601);
    await expect(marketoTokenRejected(rejected)).resolves.toBe(true);
    expect(((await rejected.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('601');
    await expect(marketoTokenRejected(json(rest602))).resolves.toBe(true);
    await expect(marketoTokenRejected(json({ success: true, result: [] }))).resolves.toBe(false);
    await expect(marketoTokenRejected(json({ success: false, errors: [{ code: '606', message: 'Max rate limit' }] }))).resolves.toBe(false);
    await expect(marketoTokenRejected(new Response('<html>', { status: 200 }))).resolves.toBe(false);
    await expect(marketoTokenRejected(new Response('', { status: 401 }))).resolves.toBe(true);
  });

  it("is the strategy's isTokenRejected (what TokenRefresher hands to TokenManager.fetch)", async () => {
    const strategy = new MarketoStrategy({ clientID: 'c', clientSecret: 's', callbackURL: '/cb', instanceURL: 'https://app-ab12.marketo.com' }, () => undefined);
    await expect(strategy.isTokenRejected(json(rest602))).resolves.toBe(true);
    await expect(strategy.isTokenRejected(json({ success: true, result: [] }))).resolves.toBe(false);
  });
});

test('a missing options object is the typed "options object is required" error, as in every strategy', () => {
  expect(() => new MarketoStrategy(undefined as never, () => undefined)).toThrow(new TypeError('@passport-martech/marketo: options object is required'));
});
