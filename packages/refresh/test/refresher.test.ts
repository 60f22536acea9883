import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OAuthRequestError, OAuthTokenError, type TokenSet } from '@passport-martech/oauth2';
import { sandboxEndpoints, type RunningSandbox } from '@passport-martech/sandbox';
import OAuth2Strategy from 'passport-oauth2';
import refreshDefault, { AuthTokenRefresh, RefreshErrorCode, StrategyNotRegisteredError, TokenRefresher } from '../src';
import { BUILD_HOOK_TIMEOUT_MS, REFRESH_DIST, ensureBuilt } from './helpers/build';
import { freePort } from './helpers/redis';
import { CALLBACK_URL, CLIENT_ID, CLIENT_SECRET, hubspotEndpoints, hubspotStrategy, login, rawRefresh, refreshCount, startProvider } from './helpers/provider';

const execFileAsync = promisify(execFile);

type Callback = (err: Error | null, accessToken?: string, refreshToken?: string, results?: Record<string, unknown>) => void;

let sandbox: RunningSandbox;

beforeAll(async () => {
  sandbox = await startProvider();
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.clearFaults());

/** A passport-oauth2 strategy that is not ours, pointed at the sandbox's HubSpot. */
function plainStrategy(url: string = sandbox.url): OAuth2Strategy {
  const { authorizationURL, tokenURL } = hubspotEndpoints(url);
  return new OAuth2Strategy(
    {
      authorizationURL,
      tokenURL,
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      callbackURL: CALLBACK_URL,
    },
    (_accessToken: string, _refreshToken: string, _profile: unknown, done: (err: unknown, user?: object) => void) => done(null, {}),
  );
}

function call(refresher: TokenRefresher, name: string, refreshToken: string, params?: Record<string, unknown>) {
  return new Promise<{ err: Error | null; accessToken?: string; refreshToken?: string; results?: Record<string, unknown> }>((resolve) => {
    const done: Callback = (err, accessToken, newRefreshToken, results) => resolve({ err, accessToken, refreshToken: newRefreshToken, results });
    if (params === undefined) refresher.requestNewAccessToken(name, refreshToken, done);
    else refresher.requestNewAccessToken(name, refreshToken, params, done);
  });
}

describe('TokenRefresher with our strategy', () => {
  test('use(strategy) registers under strategy.name; refresh() resolves a rotated TokenSet with expiresAt stamped', async () => {
    const refresher = new TokenRefresher();
    const strategy = hubspotStrategy(sandbox.url);
    expect(refresher.has('hubspot')).toBe(false);
    refresher.use(strategy);
    expect(refresher.has('hubspot')).toBe(true);
    const first = await login(sandbox.url, strategy);
    const before = Date.now();
    const next = await refresher.refresh('hubspot', first.refreshToken as string);
    expect(next.accessToken).toMatch(/^hubspot-at-/);
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(next.refreshToken).toMatch(/^hubspot-rt-/);
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expect(next.expiresAt).toBeGreaterThanOrEqual(before + 1800_000);
    expect(next.expiresAt).toBeLessThanOrEqual(Date.now() + 1800_000);
    // The chain goes on: the new refresh token works, the old one was rotated away.
    expect((await rawRefresh(sandbox.url, next.refreshToken as string)).status).toBe(200);
    expect((await rawRefresh(sandbox.url, first.refreshToken as string)).status).toBe(400);
  });

  test('use(name, strategy) and the refresh URL the strategy declares', async () => {
    const refresher = new TokenRefresher();
    const strategy = hubspotStrategy(sandbox.url, { tokenURL: 'http://127.0.0.1:9/nowhere' });
    // A separate refresh URL wins over the token URL (what passport-oauth2-refresh reads as _refreshURL).
    Object.assign(strategy, { _refreshURL: sandboxEndpoints(sandbox.url, 'hubspot', { apiVersion: 'v3' }).tokenURL });
    refresher.use('crm', strategy);
    expect(refresher.has('crm')).toBe(true);
    expect(refresher.has('hubspot')).toBe(false);
    const first = await login(sandbox.url);
    await expect(refresher.refresh('crm', first.refreshToken as string)).resolves.toMatchObject({ accessToken: expect.stringMatching(/^hubspot-at-/) });
  });

  test('params are sent and never mutated', async () => {
    const refresher = new TokenRefresher().use(hubspotStrategy(sandbox.url));
    const first = await login(sandbox.url);
    const params = Object.freeze({ scope: ['oauth'] });
    const next = await refresher.refresh('hubspot', first.refreshToken as string, params);
    expect(next.scope).toEqual(['oauth']);
    expect(params).toEqual({ scope: ['oauth'] });
    const plain: Record<string, unknown> = { scope: 'oauth' };
    await call(refresher, 'hubspot', next.refreshToken as string, plain);
    expect(plain).toEqual({ scope: 'oauth' });
  });

  test('invalid_grant is an OAuthTokenError with code invalid_grant and no token in it', async () => {
    const refresher = new TokenRefresher().use(hubspotStrategy(sandbox.url));
    const first = await login(sandbox.url);
    sandbox.revoke({ provider: 'hubspot', refreshToken: first.refreshToken });
    const error = await refresher.refresh('hubspot', first.refreshToken as string).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthTokenError);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400 });
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain(first.refreshToken);
  });

  test('an unregistered name rejects with STRATEGY_NOT_REGISTERED, asynchronously in the callback form', async () => {
    const refresher = new TokenRefresher();
    await expect(refresher.refresh('nope', 'rt-123456')).rejects.toBeInstanceOf(StrategyNotRegisteredError);
    let returned = false;
    const calledAfterReturn = new Promise<boolean>((resolve) => refresher.requestNewAccessToken('nope', 'rt-123456', () => resolve(returned)));
    returned = true;
    expect(await calledAfterReturn).toBe(true);
    const { err } = await call(refresher, 'nope', 'rt-123456');
    expect(err).toMatchObject({ code: RefreshErrorCode.STRATEGY_NOT_REGISTERED, provider: 'nope' });
    expect(err?.message).toContain('Strategy was not registered to refresh a token');
  });

  test("rejectionCheck(name) is the registered strategy's own isTokenRejected rule", async () => {
    const strategy = hubspotStrategy(sandbox.url);
    const refresher = new TokenRefresher().use(strategy).use('plain', plainStrategy());
    const check = refresher.rejectionCheck('hubspot');
    // this provider supplies no rule of its own: the strategy's default, HTTP 401
    await expect(check?.(new Response('', { status: 401 }))).resolves.toBe(true);
    await expect(check?.(new Response('{}', { status: 200 }))).resolves.toBe(false);
    const rule = jest.spyOn(strategy, 'isTokenRejected').mockResolvedValue(true);
    await expect(check?.(new Response('{}', { status: 200 }))).resolves.toBe(true);
    expect(rule).toHaveBeenCalledTimes(1);
    // passport-oauth2's strategies carry no rule; an unknown name has none
    expect(refresher.rejectionCheck('plain')).toBeUndefined();
    expect(refresher.rejectionCheck('nope')).toBeUndefined();
  });

  test('use() rejects what passport-oauth2-refresh rejects', () => {
    const refresher = new TokenRefresher();
    expect(() => refresher.use(null as never)).toThrow('Cannot register: strategy is null');
    expect(() => refresher.use({} as never)).toThrow('name must be specified');
    expect(() => refresher.use('x', {} as never)).toThrow('OAuth2 adapter used to refresh the token is not configured correctly');
    expect(() => new TokenRefresher({ timeout: 0 })).toThrow(TypeError);
  });
});

describe('TokenRefresher with a plain passport-oauth2 strategy (not ours)', () => {
  test('refresh() clones its _oauth2 and resolves a TokenSet that keeps the rotated refresh token', async () => {
    const refresher = new TokenRefresher();
    const strategy = plainStrategy();
    refresher.use(strategy);
    expect(refresher.has('oauth2')).toBe(true);
    const first = await login(sandbox.url);
    const before = Date.now();
    const next = await refresher.refresh('oauth2', first.refreshToken as string);
    expect(next).toMatchObject({ accessToken: expect.stringMatching(/^hubspot-at-/), refreshToken: expect.stringMatching(/^hubspot-rt-/), tokenType: 'bearer', scope: ['oauth'] });
    expect(next.expiresAt).toBeGreaterThanOrEqual(before + 1800_000);
    expect(next.raw.refresh_token).toBe(next.refreshToken);
    expect((await rawRefresh(sandbox.url, next.refreshToken as string)).status).toBe(200);
  });

  test('node-oauth errors become typed errors: invalid_grant recognised, statusCode and a parseable data kept', async () => {
    const refresher = new TokenRefresher().use(plainStrategy());
    const first = await login(sandbox.url);
    sandbox.revoke({ provider: 'hubspot', refreshToken: first.refreshToken });
    const error = (await refresher.refresh('oauth2', first.refreshToken as string).catch((e: unknown) => e)) as OAuthTokenError & { statusCode: number; data: string };
    expect(error).toBeInstanceOf(OAuthTokenError);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 400, statusCode: 400, provider: 'oauth2' });
    expect(JSON.parse(error.data)).toMatchObject({ error: 'invalid_grant', status: 'BAD_REFRESH_TOKEN' });
  });

  test('a 503 is typed with its status; a dead host is OAUTH_NETWORK; no answer is OAUTH_TIMEOUT', async () => {
    const first = await login(sandbox.url);
    const refresher = new TokenRefresher({ timeout: 300 }).use(plainStrategy());
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'http503', times: 1 });
    await expect(refresher.refresh('oauth2', first.refreshToken as string)).rejects.toMatchObject({ status: 503 });

    const dead = `http://127.0.0.1:${await freePort()}`;
    refresher.use('dead', plainStrategy(dead));
    const network = await refresher.refresh('dead', first.refreshToken as string).catch((e: unknown) => e);
    expect(network).toBeInstanceOf(OAuthRequestError);
    expect(network).toMatchObject({ code: 'OAUTH_NETWORK' });

    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 1500, times: 1 });
    const started = Date.now();
    await expect(refresher.refresh('oauth2', first.refreshToken as string)).rejects.toMatchObject({ code: 'OAUTH_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1450);
  });

  test('setRefreshOAuth2 (passport-oauth2-refresh option) is honoured', async () => {
    const refresher = new TokenRefresher();
    const strategy = plainStrategy();
    const seen: unknown[] = [];
    refresher.use(strategy, {
      setRefreshOAuth2: ({ strategyOAuth2, refreshOAuth2 }) => {
        seen.push(strategyOAuth2, refreshOAuth2);
        return refreshOAuth2 as NonNullable<typeof refreshOAuth2>;
      },
    });
    expect(seen[0]).toBe((strategy as unknown as { _oauth2: unknown })._oauth2);
    expect(seen[1]).not.toBe(seen[0]);
    const first = await login(sandbox.url);
    await expect(refresher.refresh('oauth2', first.refreshToken as string)).resolves.toMatchObject({ accessToken: expect.any(String) });
  });
});

describe('passport-oauth2-refresh compatibility', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const upstream = require('passport-oauth2-refresh') as TokenRefresher & { AuthTokenRefresh: typeof TokenRefresher };

  test('the default export is a ready instance, AuthTokenRefresh its class; require() and import agree', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const required = require('../src');
    expect(required).toBe(refreshDefault);
    expect(refreshDefault).toBeInstanceOf(TokenRefresher);
    expect(AuthTokenRefresh).toBe(TokenRefresher);
    expect(required.AuthTokenRefresh).toBe(TokenRefresher);
    expect(required.TokenManager).toBeDefined();
    expect(new required.AuthTokenRefresh()).not.toBe(refreshDefault);
  });

  test.each([
    ['a plain passport-oauth2 strategy', () => plainStrategy(), 'oauth2'],
    ['our HubSpot strategy', () => hubspotStrategy(sandbox.url), 'hubspot'],
  ])('documented usage gives the same callback as passport-oauth2-refresh, with %s', async (_label, make, name) => {
    const ours = new AuthTokenRefresh();
    const theirs = new upstream.AuthTokenRefresh();
    ours.use(make());
    theirs.use(make());
    const [a, b] = [await login(sandbox.url), await login(sandbox.url)];
    const mine = await call(ours, name, a.refreshToken as string);
    const upstreamResult = await call(theirs, name, b.refreshToken as string);
    expect(mine.err).toBeNull();
    expect(upstreamResult.err).toBeNull();
    expect(typeof mine.accessToken).toBe('string');
    expect(typeof mine.refreshToken).toBe('string');
    expect(mine.results).not.toHaveProperty('refresh_token');
    expect(mine.results).toMatchObject({ expires_in: 1800, token_type: 'bearer' });
    // Upstream, cloning our strategy's adapter, also passes on the adapter's `tokenSet` (ours keeps it
    // out of the enumerable keys).
    const keys = (r?: Record<string, unknown>) => Object.keys(r ?? {}).filter((k) => k !== 'tokenSet').sort();
    expect(keys(mine.results)).toEqual(keys(upstreamResult.results));
    expect(Object.keys(mine.results ?? {})).not.toContain('tokenSet');
    // With params (4-argument form), and the callback's tokens are the live ones.
    const again = await call(ours, name, mine.refreshToken as string, {});
    expect(again.err).toBeNull();
    expect(again.accessToken).not.toBe(mine.accessToken);
  });

  test.each([
    ['our strategy', (refresher: TokenRefresher) => refresher.use(hubspotStrategy(sandbox.url))],
    ['a clone of our strategy\'s adapter (setRefreshOAuth2)', (refresher: TokenRefresher) => refresher.use(hubspotStrategy(sandbox.url), { setRefreshOAuth2: ({ refreshOAuth2 }) => refreshOAuth2 as NonNullable<typeof refreshOAuth2> })],
  ])('results do not re-expose the refresh token: tokenSet is kept but not enumerable, with %s (review 2.6)', async (_label, register) => {
    const refresher = register(new AuthTokenRefresh());
    const { err, refreshToken, results } = await call(refresher, 'hubspot', (await login(sandbox.url)).refreshToken as string);
    expect(err).toBeNull();
    expect(refreshToken).toMatch(/^hubspot-rt-/);
    // What a logger prints of `results`:
    expect(JSON.stringify(results)).not.toContain(refreshToken);
    expect(JSON.stringify({ ...results })).not.toContain(refreshToken);
    expect(Object.keys(results ?? {})).not.toContain('tokenSet');
    // Still there for code that reads it.
    expect((results?.tokenSet as TokenSet).refreshToken).toBe(refreshToken);
  });

  test('passport-oauth2-refresh mutates params (it adds grant_type); we do not', async () => {
    const theirs = new upstream.AuthTokenRefresh();
    const ours = new AuthTokenRefresh();
    theirs.use(plainStrategy());
    ours.use(plainStrategy());
    const upstreamParams: Record<string, unknown> = {};
    const ourParams: Record<string, unknown> = {};
    await call(theirs, 'oauth2', (await login(sandbox.url)).refreshToken as string, upstreamParams);
    await call(ours, 'oauth2', (await login(sandbox.url)).refreshToken as string, ourParams);
    expect(upstreamParams.grant_type).toBe('refresh_token');
    expect(ourParams).toEqual({});
  });

  test('an error in the callback is typed for both strategy kinds', async () => {
    const ours = new AuthTokenRefresh().use(plainStrategy()).use(hubspotStrategy(sandbox.url));
    for (const name of ['oauth2', 'hubspot']) {
      const tokens: TokenSet = await login(sandbox.url);
      sandbox.revoke({ provider: 'hubspot', refreshToken: tokens.refreshToken });
      const { err, accessToken } = await call(ours, name, tokens.refreshToken as string);
      expect(accessToken).toBeUndefined();
      expect(err).toBeInstanceOf(OAuthTokenError);
      expect(err).toMatchObject({ code: 'invalid_grant' });
    }
    expect(refreshCount(sandbox)).toBeGreaterThan(0);
  });
});

describe('CommonJS default export of the BUILT package', () => {
  beforeAll(() => ensureBuilt(), BUILD_HOOK_TIMEOUT_MS);

  test("require('@passport-martech/refresh') runs passport-oauth2-refresh's README usage unchanged", async () => {
    const [a, b] = [await login(sandbox.url), await login(sandbox.url)];
    const { stdout } = await execFileAsync(process.execPath, [join(__dirname, 'fixtures', 'compat.js')], {
      env: { ...process.env, SANDBOX_URL: sandbox.url, REFRESH_TOKEN_A: a.refreshToken, REFRESH_TOKEN_B: b.refreshToken },
      timeout: 20_000,
    });
    const out = JSON.parse(stdout);
    expect(out.defaultExportIsInstance).toBe(true);
    expect(out.hasClass).toBe(true);
    expect(out.has).toEqual([true, true, false]);
    expect(out.first).toMatchObject({ err: null, accessToken: expect.stringMatching(/^hubspot-at-/), refreshToken: expect.stringMatching(/^hubspot-rt-/) });
    expect(out.first.resultKeys).toEqual(expect.arrayContaining(['access_token', 'expires_in', 'token_type']));
    expect(out.first.resultKeys).not.toContain('refresh_token');
    expect(out.second).toMatchObject({ err: null, accessToken: expect.stringMatching(/^hubspot-at-/) });
    expect(out.unregistered).toContain('Strategy was not registered to refresh a token');
  });

  test.each([['the error path (unregistered name)', false], ['the success path', true]])(
    'a callback that throws is an uncaught exception, as in passport-oauth2-refresh, never an unhandled rejection: %s (review 3.1)',
    async (_label, success) => {
      const env: Record<string, string> = { ...process.env, SANDBOX_URL: sandbox.url } as Record<string, string>;
      if (success) env.REFRESH_TOKEN = (await login(sandbox.url)).refreshToken as string;
      const { stdout } = await execFileAsync(process.execPath, [join(__dirname, 'fixtures', 'throwing-callback.js')], { env, timeout: 20_000 });
      expect(JSON.parse(stdout)).toEqual({ uncaughtException: 'callback bug' });
    },
  );

  test('the built module: require() is the instance; import default and named exports resolve through it', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const built = require(REFRESH_DIST);
    expect(typeof built.use).toBe('function');
    expect(built.default).toBe(built);
    expect(built.__esModule).toBe(true);
    expect(built).toBeInstanceOf(built.AuthTokenRefresh);
    for (const name of ['TokenManager', 'TokenRefresher', 'MemoryTokenStore', 'RedisTokenStore', 'RedisLock', 'RefreshScheduler', 'ensureAccessToken', 'ReauthenticationRequiredError']) {
      expect(typeof built[name]).toBe('function');
    }
  });
});
