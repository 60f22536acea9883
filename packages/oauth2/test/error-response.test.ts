/**
 * Authorization error responses (`?error=` on the callback): the URL is anyone's to write, so the state is
 * checked first and only a known error name reaches an error; error_description and error_uri never do.
 */
import OAuth2Strategy from 'passport-oauth2';
import request from 'supertest';
import { AUTHORIZATION_ERROR_CODES, OAuthAuthorizationError, ProviderDefinition, UNKNOWN_AUTHORIZATION_ERROR, knownAuthorizationError } from '../src/provider-kit';
import { AUTH_CODE, fakeProviderForFile, TestStrategy, buildApp, errorTexts } from './helpers';

const fake = fakeProviderForFile();

const STATE_FAIL = 'Unable to verify authorization request state: it is unknown, expired or already used.';
const NO_STATE = 'Unable to verify authorization request state: the callback carries no state.';
const ATTACKER_TEXT = 'Your HubSpot account is suspended. Call +1-555-0100';

function setup(overrides: Partial<ProviderDefinition> = {}) {
  const verify = (_a: string, _r: string, profile: { id: string }, done: (e: unknown, u?: unknown) => void) => done(null, { id: profile.id });
  const built = buildApp(new TestStrategy(fake().url, {}, verify, overrides));
  return { ...built, agent: request.agent(built.app) };
}

async function start(agent: ReturnType<typeof request.agent>): Promise<string> {
  const res = await agent.get('/auth/test').expect(302);
  return new URL(res.headers.location as string).searchParams.get('state') as string;
}

async function failureMessages(agent: ReturnType<typeof request.agent>): Promise<string[]> {
  return (await agent.get('/failed').expect(401)).body.messages;
}

describe('an error response that is not for a login this browser started', () => {
  it.each([
    ['no state', {}, NO_STATE],
    ['a forged state', { state: 'forged-state-0123456789abcdef' }, STATE_FAIL],
  ])('with %s: a plain state failure (403 / failureRedirect), nothing reaches the error handler', async (_label, extra, message) => {
    const { agent, errors } = setup();
    await start(agent);
    const res = await agent.get('/auth/test/callback').query({ error: 'server_error', error_description: ATTACKER_TEXT, ...extra });
    expect(res.headers.location).toBe('/failed');
    expect(await failureMessages(agent)).toEqual([message]);
    expect(errors).toEqual([]);
    const plain = await agent.get('/auth/test/plain').query({ error: 'server_error', error_description: ATTACKER_TEXT, ...extra });
    expect(plain.status).toBe(403);
    expect(plain.text).not.toContain('suspended');
  });

  it("with another session's valid state: a state failure", async () => {
    const { app, errors } = setup();
    const victim = request.agent(app);
    const state = await start(victim);
    const attacker = request.agent(app);
    await start(attacker);
    const res = await attacker.get('/auth/test/callback').query({ error: 'access_denied', error_description: ATTACKER_TEXT, state });
    expect(res.headers.location).toBe('/failed');
    expect(await failureMessages(attacker)).toEqual([STATE_FAIL]);
    expect(errors).toEqual([]);
  });
});

describe('an error response for a login this browser started', () => {
  it('an unknown error code becomes code "unknown" with no attacker text anywhere in the error', async () => {
    const { agent, errors } = setup();
    const state = await start(agent);
    const res = await agent
      .get('/auth/test/callback')
      .query({ error: `server_error). ${ATTACKER_TEXT}`, error_description: ATTACKER_TEXT, error_uri: 'https://evil.example/call-us', state });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'unknown' });
    expect(errors).toHaveLength(1);
    const error = errors[0] as OAuthAuthorizationError;
    expect(error).toBeInstanceOf(OAuthAuthorizationError);
    expect(error).toBeInstanceOf(OAuth2Strategy.AuthorizationError);
    expect({ name: error.name, code: error.code, provider: error.provider, description: error.description, uri: error.uri }).toEqual({
      name: 'AuthorizationError',
      code: UNKNOWN_AUTHORIZATION_ERROR,
      provider: 'test',
      description: undefined,
      uri: undefined,
    });
    for (const text of errorTexts(error)) {
      expect(text).not.toContain('suspended');
      expect(text).not.toContain('555');
      expect(text).not.toContain('evil.example');
      expect(text).not.toContain(state);
    }
    expect(fake().requestsTo('/oauth/token')).toHaveLength(0);
  });

  it.each(AUTHORIZATION_ERROR_CODES.filter((code) => code !== 'access_denied'))('%s keeps its code, never the description', async (code) => {
    const { agent, errors } = setup();
    const state = await start(agent);
    await agent.get('/auth/test/callback').query({ error: code, error_description: ATTACKER_TEXT, state }).expect(500);
    const error = errors[0] as OAuthAuthorizationError;
    expect(error.code).toBe(code);
    expect(errorTexts(error).some((text) => text.includes('suspended'))).toBe(false);
  });

  it('access_denied is a failure whose message is ours, not the description', async () => {
    const { agent, errors } = setup();
    const state = await start(agent);
    const res = await agent.get('/auth/test/callback').query({ error: 'access_denied', error_description: ATTACKER_TEXT, state });
    expect(res.headers.location).toBe('/failed');
    expect(await failureMessages(agent)).toEqual(['The sign-in was denied at test (access_denied).']);
    expect(errors).toEqual([]);
  });

  it('the error response ends that login: its state cannot be used for a code afterwards', async () => {
    const { agent } = setup();
    const state = await start(agent);
    await agent.get('/auth/test/callback').query({ error: 'access_denied', state });
    const res = await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state });
    expect(res.headers.location).toBe('/failed');
    expect(fake().requestsTo('/oauth/token')).toHaveLength(0);
  });

  it("a provider's documented extra error names are kept; others are still unknown", async () => {
    const { agent, errors } = setup({ authorizationErrors: ['account_suspended'] });
    const first = await start(agent);
    await agent.get('/auth/test/callback').query({ error: 'account_suspended', state: first }).expect(500);
    const second = await start(agent);
    await agent.get('/auth/test/callback').query({ error: 'call_us_now', state: second }).expect(500);
    expect(errors.map((e) => (e as OAuthAuthorizationError).code)).toEqual(['account_suspended', 'unknown']);
  });
});

describe('knownAuthorizationError', () => {
  it('lets only the fixed names through', () => {
    expect(knownAuthorizationError('invalid_scope')).toBe('invalid_scope');
    expect(knownAuthorizationError('invalid_scope ')).toBe('unknown');
    expect(knownAuthorizationError('INVALID_SCOPE')).toBe('unknown');
    expect(knownAuthorizationError('server_error). Call us')).toBe('unknown');
    expect(knownAuthorizationError(undefined)).toBe('unknown');
    expect(knownAuthorizationError('x_custom', ['x_custom'])).toBe('x_custom');
    expect([...AUTHORIZATION_ERROR_CODES].sort()).toEqual(
      ['access_denied', 'invalid_request', 'invalid_scope', 'server_error', 'temporarily_unavailable', 'unauthorized_client', 'unsupported_response_type'].sort(),
    );
  });
});
