import OAuth2Strategy from 'passport-oauth2';
import { BoomTownStrategy, parseBoomTownError, type Profile } from '../src';
import tokenResponse from './fixtures/token-response.json';

const base = { clientID: 'bt-client', clientSecret: 'bt-secret-value', callbackURL: 'https://app.example/cb' };

// The profile a login builds from its token response (the strategy's protected hook).
const tokenProfile = (raw: Record<string, unknown>) => (new BoomTownStrategy(base, () => undefined) as unknown as { profileFromTokenSet(set: object): Profile | undefined }).profileFromTokenSet({ raw });

describe('BoomTown', () => {
  it('profile from the token response', () => {
    expect(tokenProfile(tokenResponse)).toMatchObject({ provider: 'boomtown', id: 'agent-3141', emails: [{ value: 'agent@example.com' }] });
    expect(tokenProfile({ ...tokenResponse, user_id: undefined, email: undefined })).toBeUndefined();
  });

  it('errors are RFC 6749', () => {
    expect(parseBoomTownError({ error: 'invalid_client', error_description: 'no' }, 401)).toMatchObject({ code: 'invalid_client', description: 'no' });
    expect(parseBoomTownError({ message: 'x' }, 500)).toBeUndefined();
  });

  it('guide defaults', () => {
    const strategy = new BoomTownStrategy(base, () => undefined);
    expect(strategy).toBeInstanceOf(OAuth2Strategy);
    expect(strategy.name).toBe('boomtown');
    expect(strategy.provider).toMatchObject({
      authorizationURL: 'https://auth.boomtownroi.com/oauth/authorize',
      tokenURL: 'https://auth.boomtownroi.com/oauth/token',
      bodyEncoding: 'json',
      defaultScope: ['offline_access'],
    });
    expect(strategy.apiBaseURL).toBe('https://api.boomtownroi.com/v1');
    expect(() => new BoomTownStrategy({ ...base, apiBaseURL: 'ftp://x' }, () => undefined)).toThrow(/option "apiBaseURL"/);
  });
});

test('a missing options object is the typed "options object is required" error, as in every strategy', () => {
  expect(() => new BoomTownStrategy(undefined as never, () => undefined)).toThrow(new TypeError('@passport-martech/boomtown: options object is required'));
});
