import OAuth2Strategy from 'passport-oauth2';
import { sandboxEndpoints, sandboxLogin, startSandbox } from '@passport-martech/sandbox';
import { KlaviyoProfile, KlaviyoStrategy, KlaviyoStrategyOptions, parseKlaviyoAccount, parseKlaviyoError } from '../src';
import accounts from './fixtures/accounts.json';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
type Outcome = { kind: 'success'; profile: KlaviyoProfile } | { kind: 'fail' | 'error'; detail: unknown };

const base = { clientID: 'kl-client', clientSecret: 'kl-secret-value', callbackURL: 'https://app.example/cb' };

describe('Klaviyo, offline', () => {
  it('profile from the Accounts API answer: the account, its name and sender address', () => {
    expect(parseKlaviyoAccount(accounts)).toMatchObject({
      provider: 'klaviyo',
      id: 'XyZ789',
      displayName: 'Acme Inc.',
      organizationName: 'Acme Inc.',
      emails: [{ value: 'hello@acme.example', type: 'default_sender' }],
      testAccount: false,
      timezone: 'America/New_York',
      preferredCurrency: 'USD',
      locale: 'en-US',
      websiteUrl: 'https://acme.example',
      publicApiKey: 'XyZ789',
    });
    expect(parseKlaviyoAccount({ data: accounts.data[0] })).toMatchObject({ id: 'XyZ789' });
    expect(parseKlaviyoAccount({ data: [] })).toBeUndefined();
    expect(parseKlaviyoAccount({ data: [{ ...accounts.data[0], type: 'profile' }] })).toBeUndefined();
    expect(parseKlaviyoAccount('nope')).toBeUndefined();
  });

  it('errors: RFC 6749 from the OAuth endpoints, JSON:API from the API', () => {
    expect(parseKlaviyoError({ error: 'invalid_grant' }, 400)).toMatchObject({ code: 'invalid_grant' });
    const jsonApi = { errors: [{ id: 'e1', status: 401, code: 'not_authenticated', title: 'Authentication credentials were not provided.', detail: 'x' }] };
    expect(parseKlaviyoError(jsonApi, 401)).toEqual({
      code: 'not_authenticated',
      description: 'Authentication credentials were not provided.',
      details: { errors: jsonApi.errors },
    });
    expect(parseKlaviyoError({ errors: [{ detail: 'odd' }] }, 400)).toMatchObject({ code: 'KLAVIYO_ERROR', description: 'odd' });
    expect(parseKlaviyoError({ errors: [] }, 400)).toBeUndefined();
    expect(parseKlaviyoError({ message: 'x' }, 500)).toBeUndefined();
  });

  it('documented defaults: www authorize, a.klaviyo.com token, Basic, form, PKCE required, accounts:read', () => {
    const strategy = new KlaviyoStrategy(base, () => undefined);
    expect(strategy).toBeInstanceOf(OAuth2Strategy);
    expect(strategy.name).toBe('klaviyo');
    expect(strategy.provider).toMatchObject({
      authorizationURL: 'https://www.klaviyo.com/oauth/authorize',
      tokenURL: 'https://a.klaviyo.com/oauth/token',
      userProfileURL: 'https://a.klaviyo.com/api/accounts',
      bodyEncoding: 'form',
      clientAuthentication: 'client_secret_basic',
      pkce: 'required',
      requiredScope: ['accounts:read'],
    });
    expect(strategy.apiBaseURL).toBe('https://a.klaviyo.com/api');
    expect(strategy.revision).toBe('2026-10-15');
    expect(new KlaviyoStrategy({ ...base, skipUserProfile: true }, () => undefined).provider.requiredScope).toEqual([]);
    expect(new KlaviyoStrategy({ ...base, apiBaseURL: 'http://127.0.0.1:9/k/api' }, () => undefined).provider.userProfileURL).toBe('http://127.0.0.1:9/k/api/accounts');
  });

  it('option mistakes are TypeErrors naming the option', () => {
    const make = (options: unknown) => () => new KlaviyoStrategy(options as KlaviyoStrategyOptions, () => undefined);
    expect(make(undefined)).toThrow(new TypeError('@passport-martech/klaviyo: options object is required'));
    expect(make({ ...base, clientSecret: undefined })).toThrow(/clientSecret/);
    expect(make({ ...base, apiBaseURL: 'ftp://x' })).toThrow(/option "apiBaseURL"/);
    expect(make({ ...base, apiBaseURL: 'http://a.klaviyo.example/api' })).toThrow(/option "apiBaseURL"/);
    expect(make({ ...base, revision: 'latest' })).toThrow(/option "revision"/);
    expect(make({ ...base, pkce: false })).toThrow(/pkce/);
    expect(make({ ...base, pkce: 'plain' })).toThrow(/pkce/);
    expect(make({ ...base, pkce: 'S256' })).not.toThrow();
    expect(make({ ...base, revision: '2024-10-15.pre' })).not.toThrow();
  });
});

/** One login through the strategy against the sandbox; the verify callback hands the profile on as the user. */
async function login(sandbox: Sandbox, options: Partial<KlaviyoStrategyOptions> & { passReqToCallback?: false } = {}): Promise<Outcome> {
  const strategy = new KlaviyoStrategy(
    {
      clientID: 'demo-klaviyo-client',
      clientSecret: 'demo-klaviyo-secret',
      callbackURL: 'http://127.0.0.1:3999/auth/klaviyo/callback',
      ...sandboxEndpoints(sandbox.url, 'klaviyo'),
      ...options,
    },
    (_accessToken, _refreshToken, profile, done) => done(null, profile),
  );
  const outcome = await sandboxLogin(strategy);
  return outcome.kind === 'success' ? { kind: 'success', profile: outcome.user as KlaviyoProfile } : outcome;
}

describe('Klaviyo against the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true });
  });
  afterAll(() => sandbox.close());
  beforeEach(() => sandbox.reset());

  it('a login: PKCE S256, Basic client auth, the account from the Accounts API with the revision header', async () => {
    const outcome = await login(sandbox, { scope: 'lists:read' });
    expect(outcome.kind).toBe('success');
    const { profile } = outcome as Extract<Outcome, { kind: 'success' }>;
    expect(profile).toMatchObject({ provider: 'klaviyo', id: 'AbC123', displayName: 'Sandbox Store', emails: [{ value: 'demo+klaviyo@example.com', type: 'default_sender' }] });
    expect(profile._raw).not.toMatch(/"(access|refresh)_token"/);
    expect(sandbox.stats().klaviyo).toMatchObject({ token: 1, identity: 1 });
  });

  it('a revision the API refuses is a typed error carrying the JSON:API code, not a crash', async () => {
    // The sandbox refuses any revision outside YYYY-MM-DD; the option check does too, so go around it.
    const strategy = new KlaviyoStrategy({ ...base, apiBaseURL: sandboxEndpoints(sandbox.url, 'klaviyo').apiBaseURL }, () => undefined);
    Object.defineProperty(strategy, 'revision', { value: 'bad' });
    const error = await new Promise<unknown>((resolve) => strategy.userProfile('not-a-token', (err) => resolve(err)));
    expect(error).toMatchObject({ status: 400, code: 'invalid' });
  });

  it('a rejected token at the Accounts API is a typed error, with no token in its message', async () => {
    const strategy = new KlaviyoStrategy({ ...base, apiBaseURL: sandboxEndpoints(sandbox.url, 'klaviyo').apiBaseURL }, () => undefined);
    const error = await new Promise<Error>((resolve) => strategy.userProfile('secret-token-value', (err) => resolve(err as Error)));
    expect(error).toMatchObject({ status: 401, code: 'not_authenticated' });
    expect(error.message).not.toContain('secret-token-value');
  });
});
