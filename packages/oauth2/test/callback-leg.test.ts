import OAuth2Strategy from 'passport-oauth2';
import request from 'supertest';
import type { ProviderStrategyOptions } from '../src/provider-kit';
import { AUTH_CODE, AppOptions, TestStrategy, Verify, bodyOf, buildApp, fakeProviderForFile, sendJson, serveProvider } from './helpers';

/**
 * The callback leg is made by this package (callback-leg.ts), not by passport-oauth2's authenticate():
 * for the same callback, every observable outcome must be the one passport-oauth2 gives — the token
 * request's body, the arguments the verify callback gets, the status, the redirect, the info passport
 * hands on. Each case runs twice, once through each leg, and compares.
 */
const fake = fakeProviderForFile();

interface Outcome {
  status: number;
  location: string | undefined;
  body: unknown;
  tokenRequest: Record<string, unknown> | undefined;
  verifyArgs: unknown;
  passportOAuth2Calls: number;
}

interface Case {
  options?: Partial<ProviderStrategyOptions>;
  /** The verify callback; it gets a recorder for its arguments. */
  verify?: (record: (args: unknown[]) => void) => Verify;
  app?: AppOptions;
  /** The callback's query, given the state of the start leg; default code + that state. */
  query?: (state: string) => Record<string, string>;
  /** Route the callback goes to (default /auth/test/report: passport's custom callback, all of it as JSON). */
  route?: string;
  tokenStatus?: number;
}

const recordingVerify =
  (record: (args: unknown[]) => void): Verify =>
  (accessToken: string, refreshToken: string, profile: { id?: string }, done: (err: unknown, user?: unknown, info?: unknown) => void) => {
    record([accessToken, refreshToken, profile]);
    done(null, { id: profile?.id ?? 'no-profile' }, { message: 'welcome' });
  };

async function runLogin(c: Case, viaPassportOAuth2: boolean): Promise<Outcome> {
  fake().route('GET', '/userinfo', (_req, res) => sendJson(res, 200, { id: 4242, email: 'user@example.com' }));
  if (c.tokenStatus) fake().route('POST', '/oauth/token', (_req, res) => sendJson(res, c.tokenStatus!, { error: 'invalid_grant' }));
  else serveProvider(fake());
  let verifyArgs: unknown[] | undefined;
  const verify = (c.verify ?? recordingVerify)((args) => (verifyArgs = args));
  const strategy = new TestStrategy(fake().url, c.options ?? {}, verify);
  if (viaPassportOAuth2) (strategy as unknown as { _legSettings: unknown })._legSettings = undefined;
  const agent = request.agent(buildApp(strategy, c.app).app);
  const start = await agent.get('/auth/test').expect(302);
  const state = new URL(start.headers.location as string).searchParams.get('state') ?? '';
  const before = fake().requests.length;
  const spy = jest.spyOn(OAuth2Strategy.prototype, 'authenticate');
  try {
    const res = await agent.get(c.route ?? '/auth/test/report').query(c.query ? c.query(state) : { code: AUTH_CODE, state });
    const token = fake().requests.slice(before).find((r) => r.path === '/oauth/token');
    const tokenRequest = token && bodyOf(token);
    // The verifier differs per login (random); its presence and shape are what both legs must agree on.
    if (tokenRequest?.code_verifier) tokenRequest.code_verifier = String(tokenRequest.code_verifier).replace(/^[A-Za-z0-9_-]{43}$/, '<verifier>');
    const location = res.headers.location as string | undefined;
    return {
      status: res.status,
      location: location?.replace(/([?&](?:state|code_challenge)=)[A-Za-z0-9_-]+/g, '$1<random>'),
      body: res.body,
      tokenRequest,
      verifyArgs: withoutRandomness(verifyArgs, state),
      passportOAuth2Calls: spy.mock.calls.length,
    };
  } finally {
    spy.mockRestore();
  }
}

/** A value with this login's random state and its clock-derived expiry replaced by placeholders. */
function withoutRandomness(value: unknown, state: string): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value, (key, item: unknown) => (item === state ? '<state>' : key === 'expiresAt' && typeof item === 'number' ? '<time>' : item)));
}

async function expectSameOutcome(c: Case): Promise<Outcome> {
  const ours = await runLogin(c, false);
  const theirs = await runLogin(c, true);
  const { passportOAuth2Calls: ourCalls, ...ourOutcome } = ours;
  const { passportOAuth2Calls: theirCalls, ...theirOutcome } = theirs;
  expect(ourOutcome).toEqual(theirOutcome);
  expect(theirCalls).toBe(1);
  return { ...ours, passportOAuth2Calls: ourCalls };
}

describe('the callback leg', () => {
  it('a login: the same token request, verify arguments and success info, without passport-oauth2', async () => {
    const outcome = await expectSameOutcome({});
    expect(outcome.passportOAuth2Calls).toBe(0);
    expect(outcome.status).toBe(200);
    expect(outcome.body).toMatchObject({ outcome: 'success', user: { id: '4242' }, info: { message: 'welcome' } });
    expect(outcome.tokenRequest).toMatchObject({ grant_type: 'authorization_code', code: AUTH_CODE, code_verifier: '<verifier>' });
  });

  it.each([
    ['verify with params (arity 5)', { verify: (record: (args: unknown[]) => void) => (at: string, rt: string, params: unknown, profile: unknown, done: (e: unknown, u?: unknown) => void) => (record([at, rt, params, profile]), done(null, { id: 'p' })) }],
    [
      'passReqToCallback, arity 5',
      { options: { passReqToCallback: true }, verify: (record: (args: unknown[]) => void) => (req: { query: object }, at: string, rt: string, profile: unknown, done: (e: unknown, u?: unknown) => void) => (record([req.query, at, rt, profile]), done(null, { id: 'r5' })) },
    ],
    [
      'passReqToCallback, arity 6',
      { options: { passReqToCallback: true }, verify: (record: (args: unknown[]) => void) => (req: { query: object }, at: string, rt: string, params: unknown, profile: unknown, done: (e: unknown, u?: unknown) => void) => (record([req.query, at, rt, params, profile]), done(null, { id: 'r6' })) },
    ],
    ['a Promise verify', { verify: (record: (args: unknown[]) => void) => async (at: string, rt: string, profile: unknown) => (record([at, rt, profile]), { id: 'async' }) }],
    ['PKCE off', { options: { pkce: false } }],
    ['skipUserProfile', { options: { skipUserProfile: true } }],
    ['app state from the start request', { app: { startOptions: { state: { returnTo: '/inbox' } } } }],
    ['verify answers no user, with info', { verify: () => (_at: string, _rt: string, _profile: unknown, done: (e: unknown, u?: unknown, i?: unknown) => void) => done(null, false, { message: 'not allowed' }) }],
    ['verify answers an error', { verify: () => (_at: string, _rt: string, _profile: unknown, done: (e: unknown) => void) => done(new Error('db down')) }],
    ['verify throws', { verify: () => () => { throw new Error('verify threw'); } }],
    ['the token endpoint refuses the code', { tokenStatus: 400 }],
    ['an unknown state (403, no token request)', { query: () => ({ code: AUTH_CODE, state: 'not-the-state' }) }],
    ['no state', { query: () => ({ code: AUTH_CODE }) }],
    ['the standard callback route (failureRedirect) after a refused code', { tokenStatus: 400, route: '/auth/test/callback' }],
    ['the standard callback route after a state failure', { route: '/auth/test/callback', query: () => ({ code: AUTH_CODE, state: 'x' }) }],
  ] as [string, Case][])('%s: as passport-oauth2', async (_name, c) => {
    const outcome = await expectSameOutcome(c);
    expect(outcome.passportOAuth2Calls).toBe(0);
  });

  it('leaves an empty code and a per-request callbackURL to passport-oauth2, with the same outcome', async () => {
    const empty = await expectSameOutcome({ query: (state) => ({ code: '', state }) });
    expect(empty.passportOAuth2Calls).toBe(1);
    const perRequest = await expectSameOutcome({ app: { callbackOptions: { callbackURL: 'http://app.test/other/callback' } }, route: '/auth/test/callback' });
    expect(perRequest.passportOAuth2Calls).toBe(1);
    expect(perRequest.tokenRequest).toMatchObject({ redirect_uri: 'http://app.test/other/callback' });
  });
});
