import OAuth2Strategy from 'passport-oauth2';
import request from 'supertest';
import type { ProviderStrategyOptions } from '../src/provider-kit';
import { CALLBACK_URL, TestStrategy, buildApp, testDefinition } from './helpers';

/**
 * The start leg is made by this package (start-leg.ts), not by passport-oauth2's authenticate(): its
 * redirect must be the one passport-oauth2 makes, parameter for parameter and in the same order; only
 * the random values (state, code challenge) differ.
 */
const BASE = 'http://127.0.0.1:9';

/** The redirect of one start request, with the random values replaced by their shape. */
async function redirectOf(options: Partial<ProviderStrategyOptions>, startOptions: Record<string, unknown> = {}, viaPassportOAuth2 = false): Promise<string> {
  const strategy = new TestStrategy(BASE, options, () => undefined, { authorizationParams: { prompt: 'consent', resource: 'https://api.test/x y' } });
  if (viaPassportOAuth2) (strategy as unknown as { _legSettings: unknown })._legSettings = undefined;
  const { app } = buildApp(strategy, { startOptions });
  const res = await request(app).get('/auth/test').expect(302);
  const location = res.headers.location as string;
  return location.replace(/([?&](?:state|code_challenge)=)[A-Za-z0-9_-]+/g, (_m, key: string) => `${key}<random>`);
}

describe('the start leg', () => {
  it.each([
    ['defaults (PKCE S256, state)', {}, {}],
    ['PKCE plain', { pkce: 'plain' as const }, {}],
    ['PKCE off', { pkce: false }, {}],
    ['a scope array with the separator', { scope: ['a b', 'c,d', 'é'] }, {}],
    ['a per-request scope and app state', {}, { scope: ['x'], state: 'app-state' }],
  ])('redirects exactly as passport-oauth2 does: %s', async (_name, options, startOptions) => {
    const ours = await redirectOf(options, startOptions);
    const theirs = await redirectOf(options, startOptions, true);
    expect(ours).toBe(theirs);
    expect(ours.startsWith(`${BASE}/oauth/authorize?prompt=consent&resource=`)).toBe(true);
  });

  it('sends a 43-character base64url S256 challenge (the strategy tests check it against the verifier at the callback)', async () => {
    // The whole login is covered by the strategy tests; here: the verifier's shape in the session.
    const strategy = new TestStrategy(BASE, {}, () => undefined);
    const { app } = buildApp(strategy);
    const agent = request.agent(app);
    const res = await agent.get('/auth/test').expect(302);
    const challenge = new URL(res.headers.location as string).searchParams.get('code_challenge');
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('leaves a relative callback URL, a per-request callbackURL and an authorization URL with a query to passport-oauth2', async () => {
    const relative = new TestStrategy(BASE, { callbackURL: '/auth/test/callback' }, () => undefined);
    expect((relative as unknown as { _legSettings: unknown })._legSettings).toBeUndefined();
    const res = await request(buildApp(relative).app).get('/auth/test').set('Host', 'app.example').expect(302);
    expect(new URL(res.headers.location as string).searchParams.get('redirect_uri')).toBe('http://app.example/auth/test/callback');

    const otherCallback = 'http://app.test/other/callback';
    const perRequest = await request(buildApp(new TestStrategy(BASE, {}, () => undefined), { startOptions: { callbackURL: otherCallback } }).app).get('/auth/test').expect(302);
    expect(new URL(perRequest.headers.location as string).searchParams.get('redirect_uri')).toBe(otherCallback);
    const fixed = await request(buildApp(new TestStrategy(BASE, {}, () => undefined)).app).get('/auth/test').expect(302);
    expect(new URL(fixed.headers.location as string).searchParams.get('redirect_uri')).toBe(CALLBACK_URL);
    const withOwnQuery = new TestStrategy(BASE, {}, () => undefined, { authorizationURL: `${testDefinition(BASE).authorizationURL}?tenant=t1` });
    const own = await request(buildApp(withOwnQuery).app).get('/auth/test').expect(302);
    expect(own.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:9\/oauth\/authorize\?tenant=t1&response_type=code&/);
  });

  it('is what a plain passport-oauth2 Strategy sends for the same settings', async () => {
    const plain = new OAuth2Strategy(
      { authorizationURL: `${BASE}/oauth/authorize`, tokenURL: `${BASE}/oauth/token`, clientID: 'client-id-123', clientSecret: 's', callbackURL: CALLBACK_URL, scope: ['contacts', 'email'], scopeSeparator: ',', state: true, pkce: true },
      () => undefined,
    );
    plain.name = 'test';
    const theirs = await request(buildApp(plain as unknown as TestStrategy).app).get('/auth/test').expect(302);
    const ours = await request(buildApp(new TestStrategy(BASE, {}, () => undefined)).app).get('/auth/test').expect(302);
    const mask = (location: string) => location.replace(/([?&](?:state|code_challenge)=)[A-Za-z0-9_-]+/g, '$1<random>');
    expect(mask(ours.headers.location as string)).toBe(mask(theirs.headers.location as string));
  });
});
