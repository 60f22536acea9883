import { ErrorCode } from '../src';
import { CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, TestStrategy, bodyOf, expectNoSecrets, fakeProviderForFile, rejectionOf, sendJson } from './helpers';

const provider = fakeProviderForFile();
const verify = () => undefined;

test('revoke posts token and token_type_hint with the client authentication as a form, and resolves on 200 with an empty body', async () => {
  provider().route('POST', '/oauth/revoke', (_req, res) => res.writeHead(200).end());
  const strategy = new TestStrategy(provider().url, {}, verify, { revocationURL: `${provider().url}/oauth/revoke`, bodyEncoding: 'json' });
  await strategy.revoke(REFRESH_TOKEN);
  const [request] = provider().requestsTo('/oauth/revoke');
  expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  expect(bodyOf(request!)).toEqual({ token: REFRESH_TOKEN, token_type_hint: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
});

test('HTTP Basic client authentication when the provider uses it; access_token hint on request', async () => {
  provider().route('POST', '/oauth/revoke', (_req, res) => res.writeHead(200).end());
  const strategy = new TestStrategy(provider().url, {}, verify, { revocationURL: `${provider().url}/oauth/revoke`, clientAuthentication: 'client_secret_basic' });
  await strategy.revoke('at-to-revoke-123456', 'access_token');
  const [request] = provider().requestsTo('/oauth/revoke');
  expect(request?.headers.authorization).toMatch(/^Basic /);
  expect(bodyOf(request!)).toEqual({ token: 'at-to-revoke-123456', token_type_hint: 'access_token' });
});

test('a refusal is the typed error, without the token or the secret', async () => {
  provider().route('POST', '/oauth/revoke', (_req, res) => sendJson(res, 400, { error: 'unsupported_token_type', error_description: `cannot revoke ${REFRESH_TOKEN}` }));
  const strategy = new TestStrategy(provider().url, {}, verify, { revocationURL: `${provider().url}/oauth/revoke` });
  const error = await rejectionOf(strategy.revoke(REFRESH_TOKEN));
  expect(error).toMatchObject({ code: 'unsupported_token_type', status: 400 });
  expectNoSecrets(error, [REFRESH_TOKEN, CLIENT_SECRET]);
});

test('no revocation endpoint: OAUTH_REVOCATION_UNSUPPORTED and no request', async () => {
  const strategy = new TestStrategy(provider().url, {}, verify);
  await expect(strategy.revoke(REFRESH_TOKEN)).rejects.toMatchObject({ code: ErrorCode.REVOCATION_UNSUPPORTED, provider: 'test' });
  expect(provider().requests).toHaveLength(0);
});

test('tokenURL pointed elsewhere: the default revocation endpoint is not used (tokens never go to the real provider unasked); revocationURL brings it back', async () => {
  provider().route('POST', '/elsewhere/revoke', (_req, res) => res.writeHead(200).end());
  const definition = { revocationURL: `${provider().url}/oauth/revoke` };
  const proxied = new TestStrategy(provider().url, { tokenURL: `${provider().url}/elsewhere/token` }, verify, definition);
  expect(proxied.provider.revocationURL).toBeUndefined();
  await expect(proxied.revoke(REFRESH_TOKEN)).rejects.toMatchObject({ code: ErrorCode.REVOCATION_UNSUPPORTED });
  expect(provider().requests).toHaveLength(0);
  const explicit = new TestStrategy(provider().url, { tokenURL: `${provider().url}/elsewhere/token`, revocationURL: `${provider().url}/elsewhere/revoke` }, verify, definition);
  await explicit.revoke(REFRESH_TOKEN);
  expect(provider().requestsTo('/elsewhere/revoke')).toHaveLength(1);
});

test('revoke() without a token is a TypeError', async () => {
  const strategy = new TestStrategy(provider().url, {}, verify, { revocationURL: `${provider().url}/oauth/revoke` });
  await expect(strategy.revoke('')).rejects.toThrow(TypeError);
});
