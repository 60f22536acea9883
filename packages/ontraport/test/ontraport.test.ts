import OAuth2Strategy from 'passport-oauth2';
import { OntraportStrategy, parseOntraportError, type Profile } from '../src';
import tokenResponse from './fixtures/token-response.json';

const base = { clientID: 'op-client', clientSecret: 'op-secret-value', callbackURL: 'https://app.example/cb' };
const verify = () => undefined;

// The profile a login builds from its token response (the strategy's protected hook).
const tokenProfile = (raw: Record<string, unknown>) => (new OntraportStrategy(base, () => undefined) as unknown as { profileFromTokenSet(set: object): Profile | undefined }).profileFromTokenSet({ raw });

describe('Ontraport', () => {
  it('profile: account_id becomes the id; tokens stay out', () => {
    const profile = tokenProfile(tokenResponse);
    expect(profile).toMatchObject({ provider: 'ontraport', id: '187157', emails: [], photos: [] });
    expect(profile?._raw).not.toContain('op-at-');
    expect(profile?._raw).not.toContain('op-rt-');
    expect(tokenProfile({ access_token: 'x' })).toBeUndefined();
  });

  it('errors: RFC 6749 and the REST envelope', () => {
    expect(parseOntraportError({ error: 'invalid_grant', error_description: 'expired' }, 400)).toMatchObject({ code: 'invalid_grant', description: 'expired' });
    expect(parseOntraportError({ code: 1, message: 'Invalid token' }, 401)).toMatchObject({ code: 'ONTRAPORT_1', description: 'Invalid token' });
    expect(parseOntraportError({ code: 0, data: [] }, 200)).toBeUndefined();
  });

  it('guide server by default: JSON body, no PKCE', () => {
    const strategy = new OntraportStrategy(base, verify);
    expect(strategy).toBeInstanceOf(OAuth2Strategy);
    expect(strategy.name).toBe('ontraport');
    expect(strategy.provider).toMatchObject({
      authorizationURL: 'https://api.ontraport.com/oauth2/auth',
      tokenURL: 'https://api.ontraport.com/oauth2/token',
      bodyEncoding: 'json',
      pkce: false,
    });
    expect(strategy.apiBaseURL).toBe('https://api.ontraport.com/1');
  });

  it("authServer 'mcp': form body, PKCE required, resource on both requests, mcp:tools", () => {
    const strategy = new OntraportStrategy({ ...base, authServer: 'mcp' }, verify);
    expect(strategy.provider).toMatchObject({
      authorizationURL: 'https://app.ontraport.com/oauth/authorize',
      tokenURL: 'https://app.ontraport.com/oauth/token',
      bodyEncoding: 'form',
      clientAuthentication: 'client_secret_post',
      pkce: 'required',
      defaultScope: ['mcp:tools'],
      authorizationParams: { resource: 'https://mcp.ontraport.com' },
      tokenParams: { resource: 'https://mcp.ontraport.com' },
    });
    expect(() => new OntraportStrategy({ ...base, authServer: 'mcp', pkce: false }, verify)).toThrow(/option "pkce"/);
    const publicClient = new OntraportStrategy({ clientID: 'op-public', callbackURL: '/cb', authServer: 'mcp' }, verify);
    expect(publicClient.tokenClient.clientAuthentication).toBe('none');
  });

  it('rejects an unknown authServer and a guide client without a secret', () => {
    expect(() => new OntraportStrategy({ ...base, authServer: 'v2' as never }, verify)).toThrow(/option "authServer"/);
    expect(() => new OntraportStrategy({ clientID: 'x', callbackURL: '/cb' }, verify)).toThrow(/option "clientSecret"/);
  });
});

test('a missing options object is the typed "options object is required" error, as in every strategy', () => {
  expect(() => new OntraportStrategy(undefined as never, () => undefined)).toThrow(new TypeError('@passport-martech/ontraport: options object is required'));
});
