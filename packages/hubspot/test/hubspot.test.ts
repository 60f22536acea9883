import OAuth2Strategy from 'passport-oauth2';
import { HubSpotStrategy, Strategy, parseHubSpotError, parseHubSpotProfile } from '../src';
import introspect from './fixtures/introspect-2026-03.json';
import accessTokensV1 from './fixtures/access-tokens-v1.json';
import tokenResponse from './fixtures/token-response.json';
import badRefresh from './fixtures/error-bad-refresh-token.json';
import rfcError from './fixtures/error-rfc.json';
import api401 from './fixtures/api-401.json';
import errorModel from './fixtures/error-model.json';

const base = { clientID: 'hub-client', clientSecret: 'hub-secret-value', callbackURL: 'https://app.example/auth/hubspot/callback' };
const verify = () => undefined;

/** Runs the authorize leg the way passport does (a derived object per request) and returns the redirect. */
function authorizeRedirect(strategy: HubSpotStrategy, options: Record<string, unknown> = {}): Promise<URL> {
  return new Promise((resolve, reject) => {
    const attempt = Object.create(strategy) as HubSpotStrategy & Record<string, unknown>;
    attempt.redirect = (location: string) => resolve(new URL(location));
    attempt.error = reject;
    attempt.fail = (info: unknown) => reject(new Error(`fail: ${JSON.stringify(info)}`));
    const session = { save: (cb: () => void) => cb() };
    attempt.authenticate({ query: {}, session, headers: {}, url: '/auth/hubspot' } as never, options);
  });
}

describe('parseHubSpotProfile', () => {
  it('reads the 2026-03 introspection answer', () => {
    const profile = parseHubSpotProfile(introspect);
    expect(profile).toMatchObject({
      provider: 'hubspot',
      id: '1234567',
      displayName: 'ada@example.com',
      emails: [{ value: 'ada@example.com' }],
      photos: [],
      hubId: 62515,
      hubDomain: 'example-62515.com',
      appId: 456789,
      scopes: ['oauth', 'crm.objects.contacts.read'],
    });
  });

  it('reads the v1 access-tokens answer', () => {
    expect(parseHubSpotProfile(accessTokensV1)).toMatchObject({ id: '1234567', hubId: 62515, hubDomain: 'example-62515.com' });
  });

  it('reads a token response (no email or domain there)', () => {
    const profile = parseHubSpotProfile(tokenResponse);
    expect(profile).toMatchObject({ id: '1234567', hubId: 62515, emails: [], scopes: ['oauth', 'crm.objects.contacts.read'] });
    expect(profile?.displayName).toBeUndefined();
    expect(profile?.hubDomain).toBeUndefined();
  });

  it('gives undefined without user_id, and tolerates odd fields', () => {
    expect(parseHubSpotProfile({ hub_id: 1 })).toBeUndefined();
    expect(parseHubSpotProfile(null)).toBeUndefined();
    expect(parseHubSpotProfile({ user_id: '77', scopes: 'oauth', user: 'not-an-email' })).toMatchObject({ id: '77', scopes: [], emails: [] });
  });
});

describe('parseHubSpotError', () => {
  it('maps legacy statuses to RFC 6749 codes and keeps the legacy fields', () => {
    expect(parseHubSpotError(badRefresh, 400)).toEqual({
      code: 'invalid_grant',
      description: 'missing or unknown refresh token',
      uri: undefined,
      details: { status: 'BAD_REFRESH_TOKEN', message: 'missing or unknown refresh token', correlationId: badRefresh.correlationId },
    });
  });

  it('prefers the RFC error when both are present', () => {
    expect(parseHubSpotError(rfcError, 400)).toMatchObject({
      code: 'invalid_grant',
      description: 'missing or unknown auth code',
      details: { status: 'BAD_AUTH_CODE', correlationId: rfcError.correlationId },
    });
  });

  it("keeps HubSpot's error model (subCategory, errors[], context) in details, string fields only", () => {
    expect(parseHubSpotError(errorModel, 400)).toEqual({
      code: 'VALIDATION_ERROR',
      description: 'Property values were not valid',
      uri: undefined,
      details: {
        message: 'Property values were not valid',
        correlationId: errorModel.correlationId,
        category: 'VALIDATION_ERROR',
        subCategory: 'CrmObjectValidation.INVALID_PROPERTY',
        errors: [
          { message: 'Email address is invalid', code: 'INVALID_EMAIL', in: 'email', subCategory: 'INVALID_FORMAT', context: { propertyName: ['email'] } },
          {},
        ],
        context: { propertyName: ['email'] },
        status: 'error',
      },
    });
  });

  it('uses the category of API errors, and ignores success bodies', () => {
    expect(parseHubSpotError(api401, 401)).toMatchObject({ code: 'INVALID_AUTHENTICATION', details: { category: 'INVALID_AUTHENTICATION' } });
    expect(parseHubSpotError(tokenResponse, 200)).toBeUndefined();
    expect(parseHubSpotError('nope', 500)).toBeUndefined();
  });
});

describe('HubSpotStrategy options', () => {
  it('is a passport-oauth2 strategy named hubspot with the documented defaults', () => {
    const strategy = new Strategy(base, verify);
    expect(strategy).toBeInstanceOf(OAuth2Strategy);
    expect(strategy).toBeInstanceOf(HubSpotStrategy);
    expect(strategy.name).toBe('hubspot');
    expect(strategy.provider.authorizationURL).toBe('https://app.hubspot.com/oauth/authorize');
    expect(strategy.provider.tokenURL).toBe('https://api.hubapi.com/oauth/2026-03/token');
    expect(strategy.provider.userProfileURL).toBe('https://api.hubapi.com/oauth/2026-03/token/introspect');
    expect(strategy.tokenClient.bodyEncoding).toBe('form');
    expect(strategy.tokenClient.clientAuthentication).toBe('client_secret_post');
  });

  it.each([
    ['v3', 'https://api.hubapi.com/oauth/v3/token', 'https://api.hubapi.com/oauth/v3/token/introspect'],
    ['v1', 'https://api.hubapi.com/oauth/v1/token', 'https://api.hubapi.com/oauth/v1/access-tokens'],
  ] as const)('apiVersion %s picks its token and identity endpoints', (apiVersion, token, identity) => {
    const strategy = new HubSpotStrategy({ ...base, apiVersion }, verify);
    expect(strategy.provider.tokenURL).toBe(token);
    expect(strategy.provider.userProfileURL).toBe(identity);
  });

  it('region eu1 moves only the authorize host', () => {
    const strategy = new HubSpotStrategy({ ...base, region: 'eu1' }, verify);
    expect(strategy.provider.authorizationURL).toBe('https://app-eu1.hubspot.com/oauth/authorize');
    expect(strategy.provider.tokenURL).toBe('https://api.hubapi.com/oauth/2026-03/token');
  });

  it.each([
    [{ region: 'ap1' }, 'region'],
    [{ apiVersion: 'v2' }, 'apiVersion'],
    [{ profileSource: 'cookie' }, 'profileSource'],
    [{ accountId: 'abc' }, 'accountId'],
    [{ tokenURL: 'not a url' }, 'tokenURL'],
    [{ apiBaseURL: 'http://api.example.com' }, 'apiBaseURL'],
    [{ clientID: '' }, 'clientID'],
    [{ clientSecret: undefined }, 'clientSecret'],
    [{ callbackURL: undefined }, 'callbackURL'],
  ])('%j throws a TypeError naming %s', (change, option) => {
    expect(() => new HubSpotStrategy({ ...base, ...change } as never, verify)).toThrow(TypeError);
    expect(() => new HubSpotStrategy({ ...base, ...change } as never, verify)).toThrow(new RegExp(`@passport-martech/hubspot: option "${option}"`));
  });

  it('a missing options object is the typed "options object is required" error, as in every strategy', () => {
    expect(() => new HubSpotStrategy(undefined as never, verify)).toThrow(new TypeError('@passport-martech/hubspot: options object is required'));
  });

  it('apiBaseURL: the API base for calls with the tokens, default https://api.hubapi.com', () => {
    expect(new HubSpotStrategy(base, verify).apiBaseURL).toBe('https://api.hubapi.com');
    expect(new HubSpotStrategy({ ...base, apiBaseURL: 'https://api-eu1.hubapi.com' }, verify).apiBaseURL).toBe('https://api-eu1.hubapi.com');
  });

  it('does not mutate the options', () => {
    const options = Object.freeze({ ...base, scope: Object.freeze(['crm.objects.contacts.read']) as unknown as string[] });
    expect(() => new HubSpotStrategy(options, verify)).not.toThrow();
    expect(options.scope).toEqual(['crm.objects.contacts.read']);
  });
});

describe('HubSpotStrategy authorization redirect', () => {
  it('always asks for oauth, joins with spaces, and uses PKCE S256', async () => {
    const url = await authorizeRedirect(new HubSpotStrategy({ ...base, scope: 'crm.objects.contacts.read,content' }, verify));
    expect(url.origin + url.pathname).toBe('https://app.hubspot.com/oauth/authorize');
    expect(url.searchParams.get('scope')).toBe('oauth crm.objects.contacts.read content');
    expect(url.searchParams.get('client_id')).toBe('hub-client');
    expect(url.searchParams.get('redirect_uri')).toBe(base.callbackURL);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('sends optional_scope and pins the account from the constructor', async () => {
    const url = await authorizeRedirect(new HubSpotStrategy({ ...base, optionalScope: ['automation'], accountId: 62515 }, verify));
    expect(url.pathname).toBe('/oauth/62515/authorize');
    expect(url.searchParams.get('optional_scope')).toBe('automation');
  });

  it('per-request accountId and optionalScope win over the constructor', async () => {
    const strategy = new HubSpotStrategy({ ...base, optionalScope: 'automation', accountId: '1' }, verify);
    const url = await authorizeRedirect(strategy, { accountId: '999', optionalScope: ['content', 'forms'] });
    expect(url.pathname).toBe('/oauth/999/authorize');
    expect(url.searchParams.get('optional_scope')).toBe('content forms');
    // the next request without per-request options is back to the constructor's
    expect((await authorizeRedirect(strategy)).pathname).toBe('/oauth/1/authorize');
  });

  it('pkce: false removes the challenge', async () => {
    const url = await authorizeRedirect(new HubSpotStrategy({ ...base, pkce: false }, verify));
    expect(url.searchParams.has('code_challenge')).toBe(false);
  });
});
