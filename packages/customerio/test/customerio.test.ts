import OAuth2Strategy from 'passport-oauth2';
import { CustomerIoStrategy, parseCustomerIoError, type Profile } from '../src';
import tokenResponse from './fixtures/token-response.json';
import errors from './fixtures/errors.json';

const base = { clientID: 'cio-client', clientSecret: 'cio-secret-value', callbackURL: 'https://app.example/cb' };
const verify = () => undefined;

// The profile a login builds from its token response (the strategy's protected hook).
const tokenProfile = (raw: Record<string, unknown>) => (new CustomerIoStrategy(base, () => undefined) as unknown as { profileFromTokenSet(set: object): Profile | undefined }).profileFromTokenSet({ raw });

describe('Customer.io', () => {
  it('profile from the token response', () => {
    expect(tokenProfile(tokenResponse)).toMatchObject({
      provider: 'customerio',
      id: 'u_8f2c',
      displayName: 'marketer@example.com',
      emails: [{ value: 'marketer@example.com' }],
    });
    expect(tokenProfile({ access_token: 'x', scope: 'full_access' })).toBeUndefined();
  });

  it('errors: meta.errors with an RFC 6749 prefix, meta.error, RFC bodies', () => {
    expect(parseCustomerIoError(errors.list, 400)).toEqual({
      code: 'invalid_grant',
      description: 'refresh token revoked',
      details: { errors: ['invalid_grant: refresh token revoked', 'second problem'] },
    });
    expect(parseCustomerIoError(errors.single, 401)).toMatchObject({ code: 'CUSTOMERIO_ERROR', description: 'Unauthorized request' });
    expect(parseCustomerIoError(errors.singleRfc, 401)).toMatchObject({ code: 'invalid_client', description: 'unknown client' });
    expect(parseCustomerIoError({ error: 'invalid_scope' }, 400)).toMatchObject({ code: 'invalid_scope' });
    expect(parseCustomerIoError({ meta: {} }, 400)).toBeUndefined();
    expect(parseCustomerIoError(tokenResponse, 200)).toBeUndefined();
  });

  it('guide defaults (US), JSON body, scope full_access', () => {
    const strategy = new CustomerIoStrategy(base, verify);
    expect(strategy).toBeInstanceOf(OAuth2Strategy);
    expect(strategy.name).toBe('customerio');
    expect(strategy.provider).toMatchObject({
      authorizationURL: 'https://fly.customer.io/oauth/authorize',
      tokenURL: 'https://api.customer.io/v1/oauth/token',
      bodyEncoding: 'json',
      defaultScope: ['full_access'],
    });
    expect(strategy.apiBaseURL).toBe('https://api.customer.io/v1');
  });

  it("region 'eu' moves the token and API hosts, not the dashboard", () => {
    const strategy = new CustomerIoStrategy({ ...base, region: 'eu' }, verify);
    expect(strategy.provider.authorizationURL).toBe('https://fly.customer.io/oauth/authorize');
    expect(strategy.provider.tokenURL).toBe('https://api-eu.customer.io/v1/oauth/token');
    expect(strategy.apiBaseURL).toBe('https://api-eu.customer.io/v1');
    expect(() => new CustomerIoStrategy({ ...base, region: 'au' as never }, verify)).toThrow(/option "region"/);
  });

  it("authServer 'mcp'", () => {
    const strategy = new CustomerIoStrategy({ ...base, authServer: 'mcp' }, verify);
    expect(strategy.provider).toMatchObject({
      authorizationURL: 'https://mcp.customer.io/oauth2/authorize',
      tokenURL: 'https://mcp.customer.io/oauth2/token',
      bodyEncoding: 'form',
      pkce: 'required',
      tokenParams: { resource: 'https://mcp.customer.io/mcp' },
    });
  });
});

describe('Customer.io MCP: the real authorization redirect', () => {
  it('names the MCP server (https://mcp.customer.io/mcp) as the resource and carries the scopes asked for', async () => {
    const express = (await import('express')).default;
    const session = (await import('express-session')).default;
    const { Passport } = await import('passport');
    const request = (await import('supertest')).default;
    const { MCP_SCOPES } = await import('../src');
    const passport = new Passport();
    passport.use(new CustomerIoStrategy({ ...base, clientSecret: undefined, authServer: 'mcp', scope: [MCP_SCOPES[1], MCP_SCOPES[3]] }, verify));
    const app = express();
    app.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false }));
    app.get('/auth/customerio', passport.authenticate('customerio', { session: false }));
    const response = await request(app).get('/auth/customerio');
    expect(response.status).toBe(302);
    const location = new URL(response.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe('https://mcp.customer.io/oauth2/authorize');
    expect(location.searchParams.get('resource')).toBe('https://mcp.customer.io/mcp');
    expect(location.searchParams.get('scope')).toBe('read write');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
  });
});

test('a missing options object is the typed "options object is required" error, as in every strategy', () => {
  expect(() => new CustomerIoStrategy(undefined as never, () => undefined)).toThrow(new TypeError('@passport-martech/customerio: options object is required'));
});
