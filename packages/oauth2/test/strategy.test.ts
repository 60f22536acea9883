import { createHash } from 'node:crypto';
import OAuth2Strategy from 'passport-oauth2';
import request from 'supertest';
import {
  OAuthRequestError,
  OAuthTokenError,
  Profile,
  ProviderStrategy,
  ProviderStrategyOptions,
  SessionStateStore,
  TokenClientOAuth2,
  TokenParams,
} from '../src/provider-kit';
import {
  ACCESS_TOKEN,
  AUTH_CODE,
  AppOptions,
  CALLBACK_URL,
  CLIENT_ID,
  CLIENT_SECRET,
  FakeServer,
  REFRESH_TOKEN,
  TestStrategy,
  USERINFO,
  Verify,
  bodyOf,
  buildApp,
  expectNoSecrets,
  locationParams,
  sendJson,
  sendText,
  serveProvider,
  startFakeServer,
  testDefinition,
} from './helpers';

let provider: FakeServer;

beforeAll(async () => {
  provider = await startFakeServer();
});
afterAll(async () => {
  await provider.close();
});
beforeEach(() => {
  provider.requests.length = 0;
  serveProvider(provider);
});

interface VerifyCall {
  accessToken: string;
  refreshToken: string;
  params: TokenParams;
  profile: Profile;
}

/** A strategy whose verify records its arguments and logs in `{ id }`. */
function setup(options: Partial<ProviderStrategyOptions> = {}, overrides: Parameters<typeof testDefinition>[1] = {}, app: AppOptions = {}) {
  const calls: VerifyCall[] = [];
  const verify = (accessToken: string, refreshToken: string, params: TokenParams, profile: Profile, done: (e: unknown, u?: unknown) => void) => {
    calls.push({ accessToken, refreshToken, params, profile });
    done(null, { id: profile?.id ?? 'no-profile' });
  };
  const strategy = new TestStrategy(provider.url, options, verify, overrides);
  const built = buildApp(strategy, app);
  return { strategy, calls, ...built, agent: request.agent(built.app) };
}

async function start(agent: request.Agent, path = '/auth/test'): Promise<URL> {
  const res = await agent.get(path).expect(302);
  return new URL(res.headers.location as string);
}

const tokenRequests = () => provider.requestsTo('/oauth/token');

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not reached');
}

describe('the redirect to the provider', () => {
  it('carries client_id, redirect_uri, response_type=code, scope with the separator, state and an S256 challenge', async () => {
    const { agent } = setup();
    const res = await agent.get('/auth/test').expect(302);
    expect(res.headers['set-cookie']).toBeDefined();
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${provider.url}/oauth/authorize`);
    const params = location.searchParams;
    expect([...params.keys()].sort()).toEqual(['client_id', 'code_challenge', 'code_challenge_method', 'redirect_uri', 'response_type', 'scope', 'state']);
    expect(params.get('client_id')).toBe(CLIENT_ID);
    expect(params.get('redirect_uri')).toBe(CALLBACK_URL);
    expect(params.get('response_type')).toBe('code');
    expect(params.get('scope')).toBe('contacts,email');
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(provider.requests).toEqual([]);
  });

  it('adds required scope, per-request scope and fixed authorization params', async () => {
    const { agent } = setup(
      { scope: 'ignored-by-per-request' },
      { requiredScope: ['oauth'], authorizationParams: { resource: 'https://api.test/' } },
      { startOptions: { scope: 'extra other' } },
    );
    const params = (await start(agent)).searchParams;
    expect(params.get('scope')).toBe('oauth,extra,other');
    expect(params.get('resource')).toBe('https://api.test/');
  });

  it('uses the scope option with a custom separator', async () => {
    const { agent } = setup({ scope: ['a', 'b', 'c'], scopeSeparator: ' ' });
    expect((await start(agent)).searchParams.get('scope')).toBe('a b c');
  });

  it('gives each login its own state', async () => {
    const { agent } = setup();
    const a = (await start(agent)).searchParams.get('state');
    const b = (await start(agent)).searchParams.get('state');
    expect(a).not.toBe(b);
  });
});

describe('the callback', () => {
  it('exchanges the code (PKCE verifier matching the challenge) and calls verify with tokens, params and profile', async () => {
    const { agent, calls, errors } = setup({}, { tokenParams: { resource: 'https://api.test/' } });
    const location = await start(agent);
    const state = location.searchParams.get('state')!;
    const challenge = location.searchParams.get('code_challenge')!;

    const before = Date.now();
    const res = await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(200);
    const after = Date.now();
    expect(res.body).toEqual({ user: { id: '4242' } });
    expect(errors).toEqual([]);

    const [tokenRequest] = tokenRequests();
    expect(tokenRequests()).toHaveLength(1);
    expect(tokenRequest.method).toBe('POST');
    expect(tokenRequest.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const body = bodyOf(tokenRequest);
    expect(body).toEqual({
      resource: 'https://api.test/',
      grant_type: 'authorization_code',
      redirect_uri: CALLBACK_URL,
      code_verifier: expect.any(String),
      code: AUTH_CODE,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(createHash('sha256').update(body.code_verifier as string).digest('base64url')).toBe(challenge);

    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call.accessToken).toBe(ACCESS_TOKEN);
    expect(call.refreshToken).toBe(REFRESH_TOKEN);
    const { tokenSet, ...rest } = call.params;
    expect(rest).toEqual({ access_token: ACCESS_TOKEN, token_type: 'bearer', expires_in: 3600, scope: 'contacts email' });
    expect('refresh_token' in call.params).toBe(false);
    expect(tokenSet.accessToken).toBe(ACCESS_TOKEN);
    expect(tokenSet.refreshToken).toBe(REFRESH_TOKEN);
    expect(tokenSet.raw.refresh_token).toBe(REFRESH_TOKEN);
    expect(tokenSet.scope).toEqual(['contacts', 'email']);
    expect(tokenSet.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(tokenSet.expiresAt).toBeLessThanOrEqual(after + 3_600_000);
    expect(call.profile).toEqual({
      provider: 'test',
      id: '4242',
      displayName: 'Test User',
      emails: [{ value: 'user@example.com' }],
      photos: [],
      _raw: JSON.stringify(USERINFO),
      _json: USERINFO,
    });
  });

  it('loads the profile with Authorization: Bearer and no token in the query string', async () => {
    const { agent } = setup();
    const state = (await start(agent)).searchParams.get('state')!;
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(200);
    const userinfo = provider.requestsTo('/userinfo');
    expect(userinfo).toHaveLength(1);
    expect(userinfo[0].method).toBe('GET');
    expect(userinfo[0].path).toBe('/userinfo');
    expect(userinfo[0].headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(userinfo[0].body).toBe('');
  });

  it('lets two logins started from one session both finish (keepSessionInfo, either order)', async () => {
    for (const order of [
      [0, 1],
      [1, 0],
    ]) {
      provider.requests.length = 0;
      const { agent, calls } = setup({}, {}, { callbackOptions: { keepSessionInfo: true } });
      const states = [(await start(agent)).searchParams.get('state')!, (await start(agent)).searchParams.get('state')!];
      for (const i of order) {
        const res = await agent.get('/auth/test/callback').query({ code: `code-tab-${i}-000000`, state: states[i] });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ user: { id: '4242' } });
      }
      expect(calls).toHaveLength(2);
      expect(tokenRequests().map((r) => bodyOf(r).code)).toEqual(order.map((i) => `code-tab-${i}-000000`));
    }
  });

  it('lets two logins in flight both finish when the callbacks race', async () => {
    const { agent, calls } = setup({}, {}, {});
    const states = [(await start(agent)).searchParams.get('state')!, (await start(agent)).searchParams.get('state')!];
    const results = await Promise.all(states.map((state, i) => agent.get('/auth/test/report').query({ code: `code-race-${i}-000000`, state })));
    expect(results.map((r) => r.body.outcome)).toEqual(['success', 'success']);
    expect(calls).toHaveLength(2);
  });

  it('(passport 0.7 default, no keepSessionInfo) both tabs finish: the other pending login survives the session regeneration', async () => {
    // passport 0.7 regenerates the session on login; the store carries the other tab's pending state over.
    const { agent, calls } = setup({}, {}, { callbackOptions: { failureRedirect: undefined } });
    const stateA = (await start(agent)).searchParams.get('state')!;
    const stateB = (await start(agent)).searchParams.get('state')!;
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state: stateA }).expect(200);
    const res = await agent.get('/auth/test/callback').query({ code: 'code-second-000000', state: stateB });
    expect(res.status).toBe(200);
    expect(calls).toHaveLength(2);
    expect(tokenRequests().map((r) => bodyOf(r).code)).toEqual([AUTH_CODE, 'code-second-000000']);
    // and each state is still one-time after being carried over
    const replay = await agent.get('/auth/test/callback').query({ code: 'code-third-000000', state: stateB });
    expect(replay.status).toBe(403);
    expect(tokenRequests()).toHaveLength(2);
  });
});

describe('state failures: 403, and the code is never spent', () => {
  const STATE_FAIL = 'Unable to verify authorization request state: it is unknown, expired or already used.';

  it('a replayed state fails the second time', async () => {
    const { agent, calls } = setup();
    const state = (await start(agent)).searchParams.get('state')!;
    const first = await agent.get('/auth/test/report').query({ code: AUTH_CODE, state }).expect(200);
    expect(first.body.outcome).toBe('success');
    const replay = await agent.get('/auth/test/report').query({ code: 'code-REPLAY-000000', state }).expect(200);
    expect(replay.body).toEqual({ outcome: 'fail', user: false, info: { message: STATE_FAIL }, status: 403 });
    const plain = await agent.get('/auth/test/plain').query({ code: 'code-REPLAY-000000', state });
    expect([plain.status, plain.text]).toEqual([403, 'Forbidden']);
    expect(tokenRequests().map((r) => bodyOf(r).code)).toEqual([AUTH_CODE]);
    expect(calls).toHaveLength(1);
  });

  it('an unknown (forged) state fails and does not consume the genuine pending state', async () => {
    const { agent } = setup();
    const state = (await start(agent)).searchParams.get('state')!;
    const forged = 'forged-state-value-0123456789abcdef';
    const res = await agent.get('/auth/test/report').query({ code: AUTH_CODE, state: forged }).expect(200);
    expect(res.body).toEqual({ outcome: 'fail', user: false, info: { message: STATE_FAIL }, status: 403 });
    expect(JSON.stringify(res.body)).not.toContain(forged);
    expect(JSON.stringify(res.body)).not.toContain(AUTH_CODE);
    const plain = await agent.get('/auth/test/plain').query({ code: AUTH_CODE, state: forged });
    expect(plain.status).toBe(403);
    expect(tokenRequests()).toEqual([]);
    // the genuine login still completes
    const ok = await agent.get('/auth/test/report').query({ code: AUTH_CODE, state }).expect(200);
    expect(ok.body.outcome).toBe('success');
  });

  it("another session's state fails", async () => {
    const { app, agent } = setup();
    const state = (await start(agent)).searchParams.get('state')!;
    const stranger = request.agent(app);
    await start(stranger);
    const res = await stranger.get('/auth/test/plain').query({ code: AUTH_CODE, state });
    expect(res.status).toBe(403);
    expect(tokenRequests()).toEqual([]);
  });

  it('a missing state fails', async () => {
    const { agent } = setup();
    await start(agent);
    const res = await agent.get('/auth/test/report').query({ code: AUTH_CODE }).expect(200);
    expect(res.body).toEqual({
      outcome: 'fail',
      user: false,
      info: { message: 'Unable to verify authorization request state: the callback carries no state.' },
      status: 403,
    });
    expect((await agent.get('/auth/test/plain').query({ code: AUTH_CODE })).status).toBe(403);
    expect(tokenRequests()).toEqual([]);
  });

  it('an expired state fails (store with a tiny ttlMs through the store option)', async () => {
    const store = new SessionStateStore({ key: 'oauth2:test', ttlMs: 40 });
    const { agent } = setup({ store });
    const state = (await start(agent)).searchParams.get('state')!;
    await new Promise((resolve) => setTimeout(resolve, 80));
    const res = await agent.get('/auth/test/report').query({ code: AUTH_CODE, state }).expect(200);
    expect(res.body).toEqual({ outcome: 'fail', user: false, info: { message: STATE_FAIL }, status: 403 });
    expect(tokenRequests()).toEqual([]);
  });

  it('repeated code or state parameters are a 400 failure, not a 500, and nothing is spent', async () => {
    const { agent, errors } = setup();
    const state = (await start(agent)).searchParams.get('state')!;
    const twiceCode = await agent.get(`/auth/test/plain?code=${AUTH_CODE}&code=code-OTHER-000000&state=${state}`);
    expect([twiceCode.status, twiceCode.text]).toEqual([400, 'Bad Request']);
    const twiceState = await agent.get(`/auth/test/report?code=${AUTH_CODE}&state=${state}&state=${state}`).expect(200);
    expect(twiceState.body).toEqual({
      outcome: 'fail',
      user: false,
      info: { message: 'Malformed authorization response: "state" must appear once.' },
      status: 400,
    });
    const twiceError = await agent.get(`/auth/test/plain?error=access_denied&error=server_error`);
    expect(twiceError.status).toBe(400);
    expect(tokenRequests()).toEqual([]);
    expect(errors).toEqual([]);
    // the pending state was not consumed by the malformed callbacks
    expect((await agent.get('/auth/test/report').query({ code: AUTH_CODE, state })).body.outcome).toBe('success');
  });
});

describe('provider errors on the callback (for a login this browser started)', () => {
  it('error=access_denied is a failure (failureRedirect) with our own message, not the provider text', async () => {
    const { agent, errors } = setup();
    const state = (await start(agent)).searchParams.get('state');
    const res = await agent.get('/auth/test/callback').query({ error: 'access_denied', error_description: 'The user said no', state }).expect(302);
    expect(res.headers.location).toBe('/failed');
    const failed = await agent.get('/failed').expect(401);
    expect(failed.body).toEqual({ failed: true, messages: ['The sign-in was denied at test (access_denied).'] });
    expect(errors).toEqual([]);
    expect(tokenRequests()).toEqual([]);
  });

  it('another known error value is an AuthorizationError for the error handler, without the description or uri', async () => {
    const { agent, errors } = setup();
    const state = (await start(agent)).searchParams.get('state');
    const res = await agent
      .get('/auth/test/callback')
      .query({ error: 'server_error', error_description: 'Try later', error_uri: 'https://provider.test/e', state })
      .expect(500);
    expect(res.body).toEqual({ error: 'server_error' });
    expect(errors).toHaveLength(1);
    const error = errors[0] as InstanceType<typeof OAuth2Strategy.AuthorizationError>;
    expect(error).toBeInstanceOf(OAuth2Strategy.AuthorizationError);
    expect(error.name).toBe('AuthorizationError');
    expect([error.code, error.uri, error.status]).toEqual(['server_error', undefined, 502]);
    expect(error.message).toBe('test answered the authorization request with server_error: the authorization server met an unexpected condition');
    expect(tokenRequests()).toEqual([]);
  });
});

describe('failures that reach the error handler', () => {
  it('without session middleware: a clear error naming express-session and the package', async () => {
    const { agent, errors } = setup({}, {}, { session: false });
    const res = await agent.get('/auth/test').expect(500);
    expect(res.body).toEqual({ error: 'Error' });
    expect(errors).toHaveLength(1);
    const message = (errors[0] as Error).message;
    expect(message).toContain('express-session');
    expect(message).toContain('@passport-martech/test');
    expect(message).toContain('state: { cookie: { key } }');
    expect(message).not.toContain('state: false');
  });

  it('a token endpoint failure arrives as the typed error, nothing secret in it, no stack trace to the browser', async () => {
    provider.route('POST', '/oauth/token', (req, res) =>
      sendJson(res, 400, { error: 'invalid_grant', error_description: `code ${AUTH_CODE} already used`, echo: req.body }),
    );
    const { agent, errors, calls } = setup();
    const location = await start(agent);
    const state = location.searchParams.get('state')!;
    const res = await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(500);
    expect(res.body).toEqual({ error: 'invalid_grant' });
    expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(errors).toHaveLength(1);
    const error = errors[0] as OAuthTokenError;
    expect(error).toBeInstanceOf(OAuthTokenError);
    expect(error).toBeInstanceOf(OAuth2Strategy.TokenError);
    expect([error.code, error.status, error.description]).toEqual(['invalid_grant', 400, 'code [redacted] already used']);
    const verifier = bodyOf(tokenRequests()[0]).code_verifier as string;
    expectNoSecrets(error, [AUTH_CODE, CLIENT_SECRET, verifier, state, location.searchParams.get('code_challenge')!]);
    expect(calls).toEqual([]);
  });

  it('an HTML 502 from the token endpoint arrives as OAUTH_HTTP_ERROR, not a generic wrapper', async () => {
    provider.route('POST', '/oauth/token', (_req, res) => sendText(res, 502, '<html><body>Bad gateway</body></html>', 'text/html'));
    const { agent, errors } = setup();
    const state = (await start(agent)).searchParams.get('state')!;
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(500);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(OAuthRequestError);
    expect(errors[0]).toBeInstanceOf(OAuth2Strategy.InternalOAuthError);
    const error = errors[0] as OAuthRequestError;
    expect([error.code, error.status, error.provider]).toEqual(['OAUTH_HTTP_ERROR', 502, 'test']);
    expect(error.message).toBe('Token request failed: HTTP 502; body: <html><body>Bad gateway</body></html>');
  });

  it('a profile endpoint failure echoing the token arrives as OAUTH_HTTP_ERROR without the token', async () => {
    provider.route('GET', '/userinfo', (req, res) => sendJson(res, 401, { message: `token ${req.headers.authorization} rejected` }));
    const { agent, errors, calls } = setup();
    const state = (await start(agent)).searchParams.get('state')!;
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(500);
    expect(errors).toHaveLength(1);
    const error = errors[0] as OAuthRequestError;
    expect(error).toBeInstanceOf(OAuthRequestError);
    expect([error.code, error.status]).toEqual(['OAUTH_HTTP_ERROR', 401]);
    expect(error.message).toBe('Profile request failed: HTTP 401; body: {"message":"token Bearer [redacted] rejected"}');
    expectNoSecrets(error, [ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET, AUTH_CODE, state]);
    expect(calls).toEqual([]);
  });
});

describe('state and PKCE switches', () => {
  it('state: false with pkce: false works without any session', async () => {
    const { agent, calls, errors } = setup({ state: false, pkce: false }, {}, { session: false });
    const res = await agent.get('/auth/test').expect(302);
    expect(res.headers['set-cookie']).toBeUndefined();
    const params = locationParams(res.headers.location as string);
    expect([...params.keys()].sort()).toEqual(['client_id', 'redirect_uri', 'response_type', 'scope']);
    const done = await agent.get('/auth/test/plain').query({ code: AUTH_CODE }).expect(200);
    expect(done.body).toEqual({ user: { id: '4242' } });
    expect(bodyOf(tokenRequests()[0])).toEqual({
      grant_type: 'authorization_code',
      redirect_uri: CALLBACK_URL,
      code: AUTH_CODE,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(calls).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it('pkce: false removes the challenge and the verifier, state stays', async () => {
    const { agent } = setup({ pkce: false });
    const params = (await start(agent)).searchParams;
    expect(params.has('code_challenge')).toBe(false);
    expect(params.has('code_challenge_method')).toBe(false);
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state: params.get('state')! }).expect(200);
    expect('code_verifier' in bodyOf(tokenRequests()[0])).toBe(false);
  });

  it('a provider without PKCE support sends no challenge by default', async () => {
    const { agent } = setup({}, { pkce: false });
    expect((await start(agent)).searchParams.has('code_challenge')).toBe(false);
  });

  it('state: false while PKCE is on is a TypeError naming the option', () => {
    expect(() => new TestStrategy(provider.url, { state: false }, () => undefined)).toThrow(
      new TypeError('@passport-martech/test: option "state" cannot be false while PKCE is on (set pkce: false too; without a session, use state: { cookie: { key } })'),
    );
  });

  it("pkce: false where the provider requires PKCE is a TypeError naming the option", () => {
    expect(() => new TestStrategy(provider.url, { pkce: false }, () => undefined, { pkce: 'required' })).toThrow(
      /^@passport-martech\/test: option "pkce" cannot be turned off/,
    );
  });
});

describe('profile sources', () => {
  it('reads identity from the token response when there is no userProfileURL', async () => {
    serveProvider(provider, {
      body: { access_token: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN, expires_in: 60, account_id: 987, email: 'api@example.com' },
    });
    const { agent, calls } = setup({}, { userProfileURL: undefined });
    const state = (await start(agent)).searchParams.get('state')!;
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(200);
    expect(provider.requestsTo('/userinfo')).toEqual([]);
    const { profile } = calls[0];
    expect(profile).toEqual({
      provider: 'test',
      id: '987',
      displayName: 'api@example.com',
      emails: [{ value: 'api@example.com' }],
      photos: [],
      _raw: JSON.stringify({ expires_in: 60, account_id: 987, email: 'api@example.com' }),
      _json: { expires_in: 60, account_id: 987, email: 'api@example.com' },
    });
  });

  it('gives each of two overlapping logins the identity of its own token response', async () => {
    // Each code gets its own token and account; an asynchronous skipUserProfile holds the first login's
    // profile step until the second one has finished, so the two profile steps interleave.
    provider.route('POST', '/oauth/token', (req, res) => {
      const tab = String(bodyOf(req).code).split('-')[2];
      sendJson(res, 200, { access_token: `token-of-tab-${tab}`, expires_in: 60, account_id: 700 + Number(tab) });
    });
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const skipUserProfile = (accessToken: string, done: (err: unknown, skip: boolean) => void) => {
      if (accessToken === 'token-of-tab-0') void firstHeld.then(() => done(null, false));
      else setImmediate(() => done(null, false));
    };
    const { agent, calls } = setup({ skipUserProfile } as Partial<ProviderStrategyOptions>, { userProfileURL: undefined });
    const states = [(await start(agent)).searchParams.get('state')!, (await start(agent)).searchParams.get('state')!];
    const first = agent.get('/auth/test/report').query({ code: 'code-tab-0-000000', state: states[0] }).then((r) => r);
    await waitFor(() => tokenRequests().length === 1);
    const second = await agent.get('/auth/test/report').query({ code: 'code-tab-1-000000', state: states[1] });
    releaseFirst();
    const results = [await first, second];
    expect(results.map((r) => r.body.outcome)).toEqual(['success', 'success']);
    expect(calls.map((c) => [c.accessToken, c.profile.id])).toEqual([
      ['token-of-tab-1', '701'],
      ['token-of-tab-0', '700'],
    ]);
    expect(provider.requestsTo('/userinfo')).toEqual([]);
  });

  it('PROFILE_UNAVAILABLE when there is neither an identity endpoint nor identity fields', async () => {
    serveProvider(provider, { body: { access_token: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN } });
    const { agent, errors, calls } = setup({}, { userProfileURL: undefined });
    const state = (await start(agent)).searchParams.get('state')!;
    const res = await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(500);
    expect(res.body).toEqual({ error: 'PROFILE_UNAVAILABLE' });
    const error = errors[0] as OAuthRequestError;
    expect(error).toBeInstanceOf(OAuthRequestError);
    expect(error.code).toBe('PROFILE_UNAVAILABLE');
    expect(error.message).toContain('userProfileURL');
    expectNoSecrets(error, [ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET, AUTH_CODE, state]);
    expect(calls).toEqual([]);
  });

  it('skipUserProfile: true calls verify without a profile and requests no identity', async () => {
    const { agent, calls } = setup({ skipUserProfile: true });
    const state = (await start(agent)).searchParams.get('state')!;
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state }).expect(200);
    expect(calls[0].profile).toBeUndefined();
    expect(provider.requestsTo('/userinfo')).toEqual([]);
  });
});

describe('options', () => {
  const verify: Verify = () => undefined;
  const base = () => ({ clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: CALLBACK_URL });
  const make = (options: Record<string, unknown>, overrides = {}) =>
    new ProviderStrategy(testDefinition(provider.url, overrides), options as unknown as ProviderStrategyOptions, verify);

  it.each([
    ['clientID', { clientID: undefined }, /^@passport-martech\/test: option "clientID" is required/],
    ['clientID (empty)', { clientID: '  ' }, /^@passport-martech\/test: option "clientID" is required/],
    ['callbackURL', { callbackURL: undefined }, /^@passport-martech\/test: option "callbackURL" is required/],
    ['clientSecret', { clientSecret: undefined }, /^@passport-martech\/test: option "clientSecret" is required/],
    ['tokenURL', { tokenURL: 'not a url' }, /^@passport-martech\/test: option "tokenURL" must be an absolute http\(s\) URL/],
    ['tokenURL (ftp)', { tokenURL: 'ftp://x.test/token' }, /^@passport-martech\/test: option "tokenURL" must be an http\(s\) URL/],
    ['authorizationURL', { authorizationURL: '/relative' }, /^@passport-martech\/test: option "authorizationURL" must be/],
    ['userProfileURL', { userProfileURL: 'nope' }, /^@passport-martech\/test: option "userProfileURL" must be/],
    ['timeout 0', { timeout: 0 }, /^@passport-martech\/test: option "timeout" must be a whole number of milliseconds/],
    ['timeout -5', { timeout: -5 }, /^@passport-martech\/test: option "timeout" must be a whole number of milliseconds/],
    ['timeout 1500.5', { timeout: 1500.5 }, /^@passport-martech\/test: option "timeout" must be a whole number/],
    ['timeout 2^32', { timeout: 2 ** 32 }, /^@passport-martech\/test: option "timeout" must be a whole number/],
    ['timeout string', { timeout: '100' }, /^@passport-martech\/test: option "timeout" must be a whole number of milliseconds/],
    ['timeout NaN', { timeout: Number.NaN }, /^@passport-martech\/test: option "timeout" must be a whole number of milliseconds/],
    ['timeout Infinity', { timeout: Number.POSITIVE_INFINITY }, /^@passport-martech\/test: option "timeout" must be a whole number of milliseconds/],
    ['scope', { scope: 42 }, /^@passport-martech\/test: option "scope" must be a string or an array/],
  ])('%s -> TypeError naming the option and the package', (_name, change, message) => {
    let thrown: unknown;
    try {
      make({ ...base(), ...change });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toMatch(message);
  });

  it('clientSecret is optional when the provider uses clientAuthentication none', () => {
    expect(() => make({ clientID: CLIENT_ID, callbackURL: CALLBACK_URL }, { clientAuthentication: 'none' })).not.toThrow();
  });

  it("never mutates the caller's (deep-frozen) options object, also during a login", async () => {
    const options = {
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      callbackURL: CALLBACK_URL,
      scope: ['contacts', 'email'],
      customHeaders: { 'X-Test': 'yes' },
      timeout: 5000,
    };
    const snapshot = structuredClone(options);
    const deepFreeze = (value: object) => {
      Object.freeze(value);
      for (const item of Object.values(value)) if (item && typeof item === 'object') deepFreeze(item);
    };
    deepFreeze(options);
    const calls: string[] = [];
    const strategy = new ProviderStrategy(testDefinition(provider.url, { requiredScope: ['oauth'] }), options, (at: string, _rt: string, _p: unknown, done: (e: null, u: unknown) => void) => {
      calls.push(at);
      done(null, { id: 'u' });
    });
    const { app } = buildApp(strategy);
    const agent = request.agent(app);
    const params = (await start(agent)).searchParams;
    expect(params.get('scope')).toBe('oauth,contacts,email');
    await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state: params.get('state')! }).expect(200);
    expect(tokenRequests()[0].headers['x-test']).toBe('yes');
    expect(calls).toEqual([ACCESS_TOKEN]);
    expect(options).toEqual(snapshot);
  });

  it("is a passport-oauth2 Strategy named by the definition", () => {
    const strategy = new TestStrategy(provider.url, {}, verify);
    expect(strategy).toBeInstanceOf(OAuth2Strategy.Strategy);
    expect(strategy).toBeInstanceOf(OAuth2Strategy);
    expect(strategy.name).toBe('test');
  });
});

describe('passport-oauth2-refresh compatibility', () => {
  function jsonStrategy() {
    return new TestStrategy(provider.url, {}, () => undefined, { bodyEncoding: 'json', clientAuthentication: 'client_secret_post' });
  }

  it('a clone made through _oauth2.constructor refreshes in the provider dialect (JSON)', async () => {
    serveProvider(provider, { body: { access_token: 'at-refreshed-1', refresh_token: 'rt-rotated-1', expires_in: 120 } });
    const strategy = jsonStrategy();
    const oauth2 = (strategy as unknown as { _oauth2: TokenClientOAuth2 })._oauth2;
    const Clone = oauth2.constructor as new (...args: unknown[]) => TokenClientOAuth2;
    const clone = new Clone(CLIENT_ID, CLIENT_SECRET, '', `${provider.url}/oauth/authorize`, `${provider.url}/oauth/token`, {});
    const result = await new Promise<unknown[]>((resolve) => {
      clone.getOAuthAccessToken(REFRESH_TOKEN, { grant_type: 'refresh_token' }, (...args: unknown[]) => resolve(args));
    });
    const [err, accessToken, refreshToken, results] = result as [unknown, string, string, TokenParams];
    expect(err).toBeNull();
    expect([accessToken, refreshToken]).toEqual(['at-refreshed-1', 'rt-rotated-1']);
    expect('refresh_token' in results).toBe(false);
    expect(results.tokenSet.refreshToken).toBe('rt-rotated-1');
    expect(results.tokenSet.expiresAt).toBeGreaterThan(Date.now() + 100_000);

    const [req] = tokenRequests();
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN, client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
  });

  it("a clone's refresh failure is the typed error, passed to the callback", async () => {
    serveProvider(provider, { status: 400, body: { error: 'invalid_grant', error_description: `refresh token ${REFRESH_TOKEN} revoked` } });
    const oauth2 = (jsonStrategy() as unknown as { _oauth2: TokenClientOAuth2 })._oauth2;
    const Clone = oauth2.constructor as new (...args: unknown[]) => TokenClientOAuth2;
    const clone = new Clone(CLIENT_ID, CLIENT_SECRET, '', `${provider.url}/oauth/authorize`, `${provider.url}/oauth/token`, {});
    const err = await new Promise<unknown>((resolve) => clone.getOAuthAccessToken(REFRESH_TOKEN, { grant_type: 'refresh_token' }, (e) => resolve(e)));
    expect(err).toBeInstanceOf(OAuthTokenError);
    expect([(err as OAuthTokenError).code, (err as OAuthTokenError).status]).toEqual(['invalid_grant', 400]);
    expectNoSecrets(err, [REFRESH_TOKEN, CLIENT_SECRET]);
  });

  it('the strategy exposes its token client and the refresh URL client', () => {
    const strategy = new TestStrategy(provider.url, { timeout: 1500 }, () => undefined, { refreshURL: `${provider.url}/oauth/refresh`, bodyEncoding: 'json' });
    expect([strategy.tokenClient.tokenURL, strategy.tokenClient.bodyEncoding, strategy.tokenClient.timeout]).toEqual([
      `${provider.url}/oauth/token`,
      'json',
      1500,
    ]);
    expect(strategy.refreshTokenClient.tokenURL).toBe(`${provider.url}/oauth/refresh`);
    expect((strategy as unknown as { _refreshURL: string })._refreshURL).toBe(`${provider.url}/oauth/refresh`);
  });
});
