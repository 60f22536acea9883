import OAuth2Strategy from 'passport-oauth2';
import { ErrorBodyParser, OAuthRequestError, OAuthTokenError, TokenClient, TokenClientOptions, basicAuthorization, isRecord } from '../src/provider-kit';
import { FakeServer, RecordedRequest, bodyOf, expectNoSecrets, freePort, rejectionOf, sendJson, sendText, startFakeServer } from './helpers';

const SECRET = 's3cr3t-client-secret-XYZ';
const CODE = 'code-ABC123456';
const REFRESH = 'rt-REFRESH-abc-987654';
const VERIFIER = 'verifier-QWERTY-0123456789-abcdefghijklmnop';
const ALL_SECRETS = [SECRET, CODE, REFRESH, VERIFIER];

let provider: FakeServer;
let elsewhere: FakeServer;

beforeAll(async () => {
  provider = await startFakeServer();
  elsewhere = await startFakeServer();
});
afterAll(async () => {
  await provider.close();
  await elsewhere.close();
});
beforeEach(() => {
  provider.requests.length = 0;
  elsewhere.requests.length = 0;
});

function client(options: Partial<TokenClientOptions> = {}): TokenClient {
  return new TokenClient({ tokenURL: `${provider.url}/token`, clientID: 'client-1', clientSecret: SECRET, ...options });
}

function tokenRoute(status: number, body: unknown): void {
  provider.route('POST', '/token', (_req, res) => sendJson(res, status, body));
}

function only(path = '/token'): RecordedRequest {
  const seen = provider.requestsTo(path);
  expect(seen).toHaveLength(1);
  return seen[0];
}

const OK = { access_token: 'at-1', token_type: 'bearer', expires_in: 3600 };

describe('on the wire: body encoding x client authentication', () => {
  const cases: [TokenClientOptions['bodyEncoding'], TokenClientOptions['clientAuthentication']][] = [
    ['form', 'client_secret_post'],
    ['form', 'client_secret_basic'],
    ['form', 'none'],
    ['json', 'client_secret_post'],
    ['json', 'client_secret_basic'],
    ['json', 'none'],
  ];

  it.each(cases)('%s + %s', async (bodyEncoding, clientAuthentication) => {
    tokenRoute(200, OK);
    await client({ bodyEncoding, clientAuthentication }).exchangeCode(CODE, { redirectURI: 'http://app.test/cb', codeVerifier: VERIFIER });
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/token');
    expect(req.headers['content-type']).toBe(bodyEncoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded');
    expect(req.headers.accept).toBe('application/json');

    const body = bodyEncoding === 'json' ? (JSON.parse(req.body) as unknown) : Object.fromEntries(new URLSearchParams(req.body));
    const grant = { grant_type: 'authorization_code', code: CODE, redirect_uri: 'http://app.test/cb', code_verifier: VERIFIER };
    const expectedBody = {
      client_secret_post: { ...grant, client_id: 'client-1', client_secret: SECRET },
      client_secret_basic: grant,
      none: { ...grant, client_id: 'client-1' },
    }[clientAuthentication!];
    expect(body).toEqual(expectedBody);
    if (bodyEncoding === 'form') expect(req.body).not.toMatch(/^\s*\{/);

    if (clientAuthentication === 'client_secret_basic') {
      expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`client-1:${SECRET}`).toString('base64')}`);
    } else {
      expect(req.headers.authorization).toBeUndefined();
    }
  });

  it('defaults to form + client_secret_post', async () => {
    tokenRoute(200, OK);
    const c = client();
    expect(c.bodyEncoding).toBe('form');
    expect(c.clientAuthentication).toBe('client_secret_post');
    expect(c.timeout).toBe(10_000);
    await c.exchangeCode(CODE);
    const req = only();
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(bodyOf(req)).toEqual({ grant_type: 'authorization_code', code: CODE, client_id: 'client-1', client_secret: SECRET });
  });

  it('client_secret_basic form-urlencodes id and secret before base64 (RFC 6749 2.3.1)', async () => {
    const id = 'my:client id%+é';
    const secret = 'pa:ss wörd%+/x';
    tokenRoute(200, OK);
    await client({ clientID: id, clientSecret: secret, clientAuthentication: 'client_secret_basic' }).refresh(REFRESH);
    const header = only().headers.authorization ?? '';
    expect(header.startsWith('Basic ')).toBe(true);
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    // application/x-www-form-urlencoded: ':' -> %3A, ' ' -> '+', '%' -> %25, '+' -> %2B, '/' -> %2F, UTF-8 octets.
    expect(decoded).toBe('my%3Aclient+id%25%2B%C3%A9:pa%3Ass+w%C3%B6rd%25%2B%2Fx');
    const [rawId, rawSecret, ...rest] = decoded.split(':');
    expect(rest).toEqual([]);
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    expect([formDecode(rawId), formDecode(rawSecret)]).toEqual([id, secret]);
    expect(basicAuthorization(id, secret)).toBe(header);
  });

  it('sends custom headers, and they cannot override Content-Type', async () => {
    tokenRoute(200, OK);
    await client({ headers: { 'X-Custom': 'yes', 'User-Agent': 'martech-test' } }).exchangeCode(CODE);
    const req = only();
    expect(req.headers['x-custom']).toBe('yes');
    expect(req.headers['user-agent']).toBe('martech-test');
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });
});

describe('grant parameters', () => {
  it('exchangeCode maps redirectURI/codeVerifier, passes extras, drops undefined, never mutates params', async () => {
    tokenRoute(200, OK);
    const params = Object.freeze({ redirectURI: 'http://app.test/cb', codeVerifier: VERIFIER, resource: 'https://api.test/', audience: undefined });
    const snapshot = { ...params };
    await client({ bodyEncoding: 'json' }).exchangeCode(CODE, params);
    expect(params).toEqual(snapshot);
    expect(JSON.parse(only().body)).toEqual({
      resource: 'https://api.test/',
      grant_type: 'authorization_code',
      code: CODE,
      redirect_uri: 'http://app.test/cb',
      code_verifier: VERIFIER,
      client_id: 'client-1',
      client_secret: SECRET,
    });
  });

  it('exchangeCode without a redirect URI or verifier sends neither', async () => {
    tokenRoute(200, OK);
    await client({ clientAuthentication: 'none' }).exchangeCode(CODE);
    expect(bodyOf(only())).toEqual({ grant_type: 'authorization_code', code: CODE, client_id: 'client-1' });
  });

  it('refresh sends grant_type=refresh_token and refresh_token, extras kept, params not mutated', async () => {
    tokenRoute(200, OK);
    const params = { scope: 'contacts email' };
    const before = JSON.stringify(params);
    Object.freeze(params);
    await client().refresh(REFRESH, params);
    expect(JSON.stringify(params)).toBe(before);
    expect(bodyOf(only())).toEqual({
      scope: 'contacts email',
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
      client_id: 'client-1',
      client_secret: SECRET,
    });
  });

  it('refresh cannot be redirected to another grant by params', async () => {
    tokenRoute(200, OK);
    await client().refresh(REFRESH, { grant_type: 'client_credentials', refresh_token: 'other' });
    const body = bodyOf(only());
    expect(body.grant_type).toBe('refresh_token');
    expect(body.refresh_token).toBe(REFRESH);
  });

  it('with() copies every setting and changes only what is given', async () => {
    provider.route('POST', '/refresh', (_req, res) => sendJson(res, 200, OK));
    const base = client({ bodyEncoding: 'json', clientAuthentication: 'client_secret_basic', timeout: 1234, headers: { 'X-A': '1' } });
    const copy = base.with({ tokenURL: `${provider.url}/refresh` });
    expect([copy.tokenURL, copy.clientID, copy.bodyEncoding, copy.clientAuthentication, copy.timeout]).toEqual([
      `${provider.url}/refresh`,
      'client-1',
      'json',
      'client_secret_basic',
      1234,
    ]);
    await copy.refresh(REFRESH);
    const req = only('/refresh');
    expect(req.headers['x-a']).toBe('1');
    expect(req.headers.authorization).toBe(basicAuthorization('client-1', SECRET));
    expect(JSON.parse(req.body)).toEqual({ grant_type: 'refresh_token', refresh_token: REFRESH });
  });
});

describe('TokenSet', () => {
  it('stamps expiresAt at receipt and keeps the whole response in raw', async () => {
    const response = { access_token: 'at-2', refresh_token: 'rt-new-1', token_type: 'bearer', expires_in: 1800, scope: 'contacts  email\toffline' };
    tokenRoute(200, response);
    const before = Date.now();
    const tokenSet = await client().exchangeCode(CODE);
    const after = Date.now();
    expect(tokenSet.accessToken).toBe('at-2');
    expect(tokenSet.refreshToken).toBe('rt-new-1');
    expect(tokenSet.tokenType).toBe('bearer');
    expect(tokenSet.scope).toEqual(['contacts', 'email', 'offline']);
    expect(tokenSet.raw).toEqual(response);
    expect(tokenSet.raw.refresh_token).toBe('rt-new-1');
    expect(tokenSet.expiresAt).toBeGreaterThanOrEqual(before + 1_800_000);
    expect(tokenSet.expiresAt).toBeLessThanOrEqual(after + 1_800_000);
  });

  it('reads a HubSpot-like scopes array and a string expires_in', async () => {
    tokenRoute(200, { access_token: 'at-3', expires_in: '60', scopes: ['oauth', 'crm.objects.contacts.read'] });
    const before = Date.now();
    const tokenSet = await client().exchangeCode(CODE);
    expect(tokenSet.scope).toEqual(['oauth', 'crm.objects.contacts.read']);
    expect(tokenSet.tokenType).toBe('Bearer');
    expect(tokenSet.refreshToken).toBeUndefined();
    expect(tokenSet.expiresAt! - before).toBeGreaterThanOrEqual(60_000);
    expect(tokenSet.expiresAt! - before).toBeLessThan(61_000);
  });

  it('has no expiresAt and no scope when the response gives neither', async () => {
    tokenRoute(200, { access_token: 'at-4' });
    const tokenSet = await client().exchangeCode(CODE);
    expect(tokenSet).toEqual({ accessToken: 'at-4', tokenType: 'Bearer', raw: { access_token: 'at-4' } });
    expect('expiresAt' in tokenSet).toBe(false);
  });

  it('accepts a JSON body served without a JSON Content-Type, and a form-encoded token response', async () => {
    provider.route('POST', '/token', (_req, res) => sendText(res, 200, '{"access_token":"at-5"}', 'text/plain'));
    expect((await client().exchangeCode(CODE)).accessToken).toBe('at-5');
    provider.route('POST', '/token', (_req, res) =>
      sendText(res, 200, 'access_token=at-6&token_type=bearer&expires_in=10', 'application/x-www-form-urlencoded'),
    );
    const tokenSet = await client().exchangeCode(CODE);
    expect([tokenSet.accessToken, tokenSet.tokenType]).toEqual(['at-6', 'bearer']);
    expect(tokenSet.expiresAt).toBeDefined();
  });
});

/** A request error: passport-oauth2's InternalOAuthError, our class, with the code and status given. */
function expectRequestError(error: unknown, code: string, status: number | undefined): asserts error is OAuthRequestError {
  expect(error).toBeInstanceOf(OAuthRequestError);
  expect(error).toBeInstanceOf(OAuth2Strategy.InternalOAuthError);
  expect(error).toBeInstanceOf(Error);
  const e = error as OAuthRequestError;
  expect({ code: e.code, status: e.status }).toEqual({ code, status });
  expect(e.toString()).toBe(`OAuthRequestError: ${e.message}`);
}

function expectTokenError(error: unknown, code: string, status: number): asserts error is OAuthTokenError {
  expect(error).toBeInstanceOf(OAuthTokenError);
  expect(error).toBeInstanceOf(OAuth2Strategy.TokenError);
  expect(error).not.toBeInstanceOf(OAuth2Strategy.InternalOAuthError);
  const e = error as OAuthTokenError;
  expect({ code: e.code, status: e.status }).toEqual({ code, status });
}

describe('errors', () => {
  it('400 with an RFC 6749 body: OAuthTokenError, code = error, description kept, echoed secrets redacted', async () => {
    tokenRoute(400, {
      error: 'invalid_grant',
      error_description: `The code ${CODE} has expired`,
      error_uri: 'https://provider.test/docs/errors#invalid_grant',
      echo: { client_secret: SECRET, code: CODE, code_verifier: VERIFIER },
    });
    const error = await rejectionOf(client().exchangeCode(CODE, { codeVerifier: VERIFIER }));
    expectTokenError(error, 'invalid_grant', 400);
    expect(error.description).toBe('The code [redacted] has expired');
    expect(error.uri).toBe('https://provider.test/docs/errors#invalid_grant');
    expect(error.message).toBe('Token request failed: invalid_grant (The code [redacted] has expired), HTTP 400');
    expect(error.name).toBe('OAuthTokenError');
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('401 invalid_client echoing the Basic credential does not leak it', async () => {
    const credential = basicAuthorization('client-1', SECRET).slice(6);
    provider.route('POST', '/token', (req, res) =>
      sendJson(res, 401, { error: 'invalid_client', error_description: `bad header: ${req.headers.authorization}` }),
    );
    const error = await rejectionOf(client({ clientAuthentication: 'client_secret_basic' }).refresh(REFRESH));
    expectTokenError(error, 'invalid_client', 401);
    expectNoSecrets(error, [...ALL_SECRETS, credential]);
  });

  it('an error_uri echoing the code is redacted', async () => {
    tokenRoute(400, { error: 'invalid_grant', error_uri: `https://provider.test/why?code=${CODE}` });
    const error = await rejectionOf(client().exchangeCode(CODE));
    expectTokenError(error, 'invalid_grant', 400);
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('non-2xx with a non-RFC JSON body: OAUTH_HTTP_ERROR, status set, redacted excerpt in the message', async () => {
    tokenRoute(500, { status: 'BAD_REFRESH_TOKEN', message: `refresh token ${REFRESH} is unknown`, refresh_token: REFRESH });
    const error = await rejectionOf(client().refresh(REFRESH));
    expectRequestError(error, 'OAUTH_HTTP_ERROR', 500);
    expect(error.message).toBe(
      'Token request failed: HTTP 500; body: {"status":"BAD_REFRESH_TOKEN","message":"refresh token [redacted] is unknown","refresh_token":"[redacted]"}',
    );
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('non-2xx with an empty body: OAUTH_HTTP_ERROR with (empty)', async () => {
    provider.route('POST', '/token', (_req, res) => sendText(res, 503, '', 'text/plain'));
    const error = await rejectionOf(client().exchangeCode(CODE));
    expectRequestError(error, 'OAUTH_HTTP_ERROR', 503);
    expect(error.message).toBe('Token request failed: HTTP 503; body: (empty)');
  });

  it('a custom parseError (Customer.io-like meta.errors) sets the code; details are redacted', async () => {
    const parseError: ErrorBodyParser = (json) => {
      if (!isRecord(json) || !isRecord(json.meta)) return undefined;
      const errors = Array.isArray(json.meta.errors) ? json.meta.errors.filter((e): e is string => typeof e === 'string') : [];
      const first = errors[0];
      if (!first) return undefined;
      const match = /^([a-z_]+):\s*(.*)$/.exec(first);
      return {
        code: match ? match[1] : 'customerio_error',
        description: match ? match[2] : first,
        details: { errors, requestEcho: { refresh_token: REFRESH }, note: `for ${REFRESH}` },
      };
    };
    tokenRoute(401, { meta: { errors: [`invalid_grant: revoked ${REFRESH}`, `client ${SECRET} is fine`] } });
    const error = await rejectionOf(client({ parseError, provider: 'customerio' }).refresh(REFRESH));
    expectTokenError(error, 'invalid_grant', 401);
    expect(error.description).toBe('revoked [redacted]');
    expect(error.provider).toBe('customerio');
    expect(error.details).toEqual({
      errors: ['invalid_grant: revoked [redacted]', 'client [redacted] is fine'],
      requestEcho: { refresh_token: '[redacted]' },
      note: 'for [redacted]',
    });
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('a 302 is OAUTH_UNEXPECTED_REDIRECT and is not followed', async () => {
    provider.route('POST', '/token', (_req, res) => {
      res.writeHead(302, { Location: `${elsewhere.url}/steal` });
      res.end();
    });
    const error = await rejectionOf(client().exchangeCode(CODE));
    expectRequestError(error, 'OAUTH_UNEXPECTED_REDIRECT', 302);
    expect(error.message).toBe('Token request failed: the provider answered HTTP 302 with a redirect, which is not followed');
    expect(provider.requestsTo('/token')).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
  });

  it('200 HTML is OAUTH_UNEXPECTED_RESPONSE, echoed code scrubbed', async () => {
    provider.route('POST', '/token', (_req, res) =>
      sendText(res, 200, `<html>\n<body>Login page. code=${CODE} secret ${SECRET}</body></html>`, 'text/html'),
    );
    const error = await rejectionOf(client().exchangeCode(CODE));
    expectRequestError(error, 'OAUTH_UNEXPECTED_RESPONSE', 200);
    expect(error.message).toBe('Token request failed: HTTP 200 with HTML (text/html, 90 bytes)');
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('200 with an empty body is OAUTH_UNEXPECTED_RESPONSE', async () => {
    provider.route('POST', '/token', (_req, res) => sendText(res, 200, '', 'application/json'));
    const error = await rejectionOf(client().exchangeCode(CODE));
    expectRequestError(error, 'OAUTH_UNEXPECTED_RESPONSE', 200);
    expect(error.message).toBe('Token request failed: HTTP 200 with an empty body (application/json, 0 bytes)');
  });

  it('200 with non-JSON text is OAUTH_UNEXPECTED_RESPONSE', async () => {
    provider.route('POST', '/token', (_req, res) => sendText(res, 200, `OK ${REFRESH}`, 'text/plain'));
    const error = await rejectionOf(client().refresh(REFRESH));
    expectRequestError(error, 'OAUTH_UNEXPECTED_RESPONSE', 200);
    expect(error.message).toBe('Token request failed: HTTP 200 with a body that is not a JSON object (text/plain, 24 bytes)');
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('200 with broken JSON under a JSON Content-Type is OAUTH_UNEXPECTED_RESPONSE', async () => {
    provider.route('POST', '/token', (_req, res) => sendText(res, 200, '{"access_token": "at-', 'application/json'));
    const error = await rejectionOf(client().exchangeCode(CODE));
    expectRequestError(error, 'OAUTH_UNEXPECTED_RESPONSE', 200);
  });

  it('200 JSON carrying error is an OAuthTokenError with that code', async () => {
    tokenRoute(200, { error: 'invalid_scope', error_description: 'scope x is not allowed' });
    const error = await rejectionOf(client().exchangeCode(CODE));
    expectTokenError(error, 'invalid_scope', 200);
    expect(error.description).toBe('scope x is not allowed');
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('200 JSON without access_token is OAUTH_NO_ACCESS_TOKEN, tokens in it redacted', async () => {
    tokenRoute(200, { token_type: 'bearer', refresh_token: REFRESH, id_token: 'idt-secret-123456' });
    const error = await rejectionOf(client().refresh(REFRESH));
    expectRequestError(error, 'OAUTH_NO_ACCESS_TOKEN', 200);
    expect(error.message).toBe(
      'Token request failed: HTTP 200 without access_token (keys: token_type, refresh_token, id_token)',
    );
    expectNoSecrets(error, [...ALL_SECRETS, 'idt-secret-123456']);
  });

  it('an empty access_token is OAUTH_NO_ACCESS_TOKEN', async () => {
    tokenRoute(200, { access_token: '' });
    expectRequestError(await rejectionOf(client().exchangeCode(CODE)), 'OAUTH_NO_ACCESS_TOKEN', 200);
  });

  it('connection refused is OAUTH_NETWORK', async () => {
    const port = await freePort();
    const error = await rejectionOf(client({ tokenURL: `http://127.0.0.1:${port}/token` }).exchangeCode(CODE));
    expectRequestError(error, 'OAUTH_NETWORK', undefined);
    expect(error.message).toMatch(/^Token request failed: network error \(.*ECONNREFUSED.*\)$/);
    expect(error.cause).toBeInstanceOf(Error);
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('a server that destroys the socket is OAUTH_NETWORK', async () => {
    provider.route('POST', '/token', (_req, res) => res.socket?.destroy());
    const error = await rejectionOf(client().refresh(REFRESH));
    expectRequestError(error, 'OAUTH_NETWORK', undefined);
    expect(error.message.startsWith('Token request failed: network error (')).toBe(true);
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('a server that never answers is OAUTH_TIMEOUT within 2x the timeout', async () => {
    provider.route('POST', '/token', () => undefined);
    const started = Date.now();
    const error = await rejectionOf(client({ timeout: 300 }).exchangeCode(CODE));
    const elapsed = Date.now() - started;
    expectRequestError(error, 'OAUTH_TIMEOUT', undefined);
    expect(error.message).toBe('Token request failed: no answer within 300 ms');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(600);
    expect(provider.requestsTo('/token')).toHaveLength(1);
    expectNoSecrets(error, ALL_SECRETS);
  });

  it('a body that stalls after the headers is OAUTH_TIMEOUT too (the timeout covers the body)', async () => {
    provider.route('POST', '/token', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"access_token":');
    });
    const started = Date.now();
    const error = await rejectionOf(client({ timeout: 300 }).exchangeCode(CODE));
    expectRequestError(error, 'OAUTH_TIMEOUT', undefined);
    expect(Date.now() - started).toBeLessThan(600);
  });

  it('secrets that reach the provider in a network error cause are redacted', async () => {
    // The token URL itself is not a secret, but a failing socket's message must not carry the body.
    provider.route('POST', '/token', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write(`{"echo":"${req.body}"`);
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const error = await rejectionOf(client().exchangeCode(CODE, { codeVerifier: VERIFIER }));
    expectRequestError(error, 'OAUTH_NETWORK', undefined);
    expectNoSecrets(error, ALL_SECRETS);
  });
});

describe('fresh tokens in odd bodies never reach an error', () => {
  const FRESH_AT = 'fresh-ACCESS-token-5550123';
  const FRESH_RT = 'fresh-REFRESH-token-5550456';
  const bodies: [string, number, string, string][] = [
    ['an XSSI-prefixed JSON 200', 200, `)]}'\n{"access_token":"${FRESH_AT}","refresh_token":"${FRESH_RT}"}`, 'application/json'],
    ['JSON with a trailing comma', 200, `{"access_token":"${FRESH_AT}","refresh_token":"${FRESH_RT}",}`, 'application/json'],
    ['camelCase keys', 200, `{"accessToken":"${FRESH_AT}","refreshToken":"${FRESH_RT}"}`, 'application/json'],
    ['text/plain key: value lines', 200, `access_token: ${FRESH_AT}\nrefresh_token: ${FRESH_RT}`, 'text/plain'],
    ['a 500 echoing an Authorization header', 500, `upstream said: Authorization: Bearer ${FRESH_AT}`, 'text/plain'],
    ['an HTML 502 with a JSON snippet', 502, `<html><pre>{"accessToken": "${FRESH_AT}", "refresh-token": "${FRESH_RT}"}</pre></html>`, 'text/html'],
  ];

  it.each(bodies)('%s', async (_label, status, body, contentType) => {
    provider.route('POST', '/token', (_req, res) => sendText(res, status, body, contentType));
    const error = await rejectionOf(client().exchangeCode(CODE));
    expect(error).toBeInstanceOf(Error);
    expectNoSecrets(error, [...ALL_SECRETS, FRESH_AT, FRESH_RT]);
  });

  it('an answer over 1 MiB is refused, not held', async () => {
    provider.route('POST', '/token', (_req, res) => sendText(res, 200, `{"access_token":"${'x'.repeat(2 * 1024 * 1024)}"}`, 'application/json'));
    const error = await rejectionOf(client().exchangeCode(CODE));
    expect(error).toBeInstanceOf(OAuthRequestError);
    expect(error).toMatchObject({ code: 'OAUTH_UNEXPECTED_RESPONSE' });
    expect((error as Error).message).toMatch(/larger than 1048576 bytes/);
  });
});
