/** Identity and sample API endpoints with bad/expired tokens, Marketo client credentials, expire/revoke controls. */
import request from 'supertest';
import { startSandbox, type RunningSandbox } from '../src';
import { client, errorCode, flow, obtainTokens, sleep, tokenRequest } from './helpers';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const api = (path: string, token?: string) => {
  const req = request(sb.url).get(path);
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
};

describe('sample API: the provider answer to unknown and expired tokens', () => {
  test('hubspot: 401 INVALID_AUTHENTICATION / EXPIRED_AUTHENTICATION', async () => {
    const tokens = await obtainTokens(sb.url, flow('hubspot'));
    const unknown = await api('/hubspot/crm/v3/objects/contacts', 'nope');
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ status: 'error', message: expect.any(String), correlationId: expect.any(String), category: 'INVALID_AUTHENTICATION' });
    expect((await api('/hubspot/crm/v3/objects/contacts')).body.category).toBe('INVALID_AUTHENTICATION');
    expect(sb.expire({ provider: 'hubspot', accessToken: tokens.access_token })).toBe(1);
    const expired = await api('/hubspot/crm/v3/objects/contacts', tokens.access_token);
    expect(expired.status).toBe(401);
    expect(expired.body.category).toBe('EXPIRED_AUTHENTICATION');
    // v1 identity refuses it too, without echoing the token.
    const identity = await request(sb.url).get(`/hubspot/oauth/v1/access-tokens/${tokens.access_token}`);
    expect(identity.status).toBe(401);
    expect(identity.text).not.toContain(tokens.access_token);
  });

  test('marketo: HTTP 200 with success false and 600/601/602', async () => {
    const tokens = await obtainTokens(sb.url, flow('marketo'));
    const codes = async (token?: string) => {
      const res = await api('/marketo/rest/v1/leads.json', token);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ requestId: expect.any(String), success: false, errors: [{ code: expect.any(String), message: expect.any(String) }] });
      return res.body.errors[0];
    };
    expect(await codes()).toEqual({ code: '600', message: 'Access token not specified' });
    expect(await codes('bogus')).toEqual({ code: '601', message: 'Access token invalid' });
    sb.expire({ provider: 'marketo' });
    expect(await codes(tokens.access_token)).toEqual({ code: '602', message: 'Access token expired' });
    // The sandbox-only userinfo says 401 (same body), so a profile loader sees a failure.
    const userinfo = await api('/marketo/userinfo', tokens.access_token);
    expect(userinfo.status).toBe(401);
    expect(userinfo.body.errors[0].code).toBe('602');
  });

  test('ontraport: 401 { code: 1, message }', async () => {
    const res = await api('/ontraport/1/Contacts', 'nope');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ code: 1, message: 'Invalid token' });
  });

  test('customerio: 401 { meta: { error } }', async () => {
    const res = await api('/customerio/v1/customers', 'nope');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ meta: { error: 'Unauthorized request' } });
  });

  test('boomtown: RFC 6750 401 with WWW-Authenticate', async () => {
    const res = await api('/boomtown/v1/leads', 'nope');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    expect(res.body).toMatchObject({ error: 'invalid_token' });
    const missing = await api('/boomtown/v1/leads');
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const malformed = await request(sb.url).get('/boomtown/v1/leads').set('Authorization', 'Token abc');
    expect(malformed.headers['www-authenticate']).toMatch(/invalid_token/);
  });

  test("a token of one provider is unknown at another", async () => {
    const tokens = await obtainTokens(sb.url, flow('boomtown'));
    expect((await api('/customerio/v1/customers', tokens.access_token)).status).toBe(401);
    expect((await api('/boomtown/v1/leads', tokens.access_token)).status).toBe(200);
  });
});

describe('expire and revoke controls', () => {
  test('expire all, then refresh gets a working token', async () => {
    const spec = flow('customerio');
    const tokens = await obtainTokens(sb.url, spec);
    const res = await request(sb.url).post('/_sandbox/expire').send({ provider: 'customerio' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ expired: 1 });
    expect((await api('/customerio/v1/customers', tokens.access_token)).status).toBe(401);
    const refreshed = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...client('customerio') });
    expect((await api('/customerio/v1/customers', refreshed.body.access_token)).status).toBe(200);
  });

  test('expire one token over HTTP; an unknown token is a 404', async () => {
    const a = await obtainTokens(sb.url, flow('boomtown'));
    const b = await obtainTokens(sb.url, flow('boomtown'));
    const res = await request(sb.url).post('/_sandbox/expire').send({ provider: 'boomtown', accessToken: a.access_token });
    expect(res.body).toEqual({ expired: 1 });
    expect((await api('/boomtown/v1/leads', a.access_token)).status).toBe(401);
    expect((await api('/boomtown/v1/leads', b.access_token)).status).toBe(200);
    const unknown = await request(sb.url).post('/_sandbox/expire').send({ provider: 'boomtown', accessToken: 'nope' });
    expect(unknown.status).toBe(404);
    const bad = await request(sb.url).post('/_sandbox/expire').send({ provider: 'nope' });
    expect(bad.status).toBe(400);
  });

  test('revoke makes the next refresh invalid_grant (one token or all)', async () => {
    const spec = flow('hubspot');
    const a = await obtainTokens(sb.url, spec);
    const b = await obtainTokens(sb.url, spec);
    const one = await request(sb.url).post('/_sandbox/revoke').send({ provider: 'hubspot', refreshToken: a.refresh_token });
    expect(one.body).toEqual({ revoked: 1 });
    const refreshA = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: a.refresh_token, ...client('hubspot') });
    expect(refreshA.status).toBe(400);
    expect(errorCode('hubspot', refreshA.body)).toBe('invalid_grant');
    expect(refreshA.body.status).toBe('BAD_REFRESH_TOKEN');
    expect(sb.revoke({ provider: 'hubspot' })).toBe(1);
    const refreshB = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: b.refresh_token, ...client('hubspot') });
    expect(refreshB.status).toBe(400);
  });
});

describe('marketo client credentials (DOC)', () => {
  const cc = (query: string, method: 'get' | 'post' = 'get') => request(sb.url)[method](`/marketo/identity/oauth/token?${query}`);
  const good = 'grant_type=client_credentials&client_id=demo-marketo-client&client_secret=demo-marketo-secret';

  test('query parameters; the same token with fewer seconds left; usable on REST; GET and POST', async () => {
    const first = await cc(good);
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.body).toEqual({ access_token: expect.any(String), token_type: 'bearer', expires_in: 3600, scope: 'demo+marketo@example.com' });
    await sleep(1100);
    const second = await cc(good, 'post');
    expect(second.status).toBe(200);
    expect(second.body.access_token).toBe(first.body.access_token);
    expect(second.body.expires_in).toBeLessThan(3600);
    expect(second.body.expires_in).toBeGreaterThan(3590);
    const leads = await api('/marketo/rest/v1/leads.json', first.body.access_token);
    expect(leads.body.success).toBe(true);
    // Once expired, a new one.
    sb.expire({ provider: 'marketo' });
    const third = await cc(good);
    expect(third.body.access_token).not.toBe(first.body.access_token);
    expect(third.body.expires_in).toBe(3600);
    expect(sb.stats().marketo.clientCredentials).toBe(3);
  });

  test('bad credentials -> 401 Bad client credentials', async () => {
    for (const query of [
      'grant_type=client_credentials&client_id=demo-marketo-client&client_secret=nope',
      'grant_type=client_credentials&client_id=who&client_secret=demo-marketo-secret',
      'grant_type=client_credentials',
    ]) {
      const res = await cc(query);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: 'Bad client credentials' });
    }
  });

  test('parameters in the body, a wrong grant type, repeated parameters', async () => {
    const inBody = await request(sb.url).post('/marketo/identity/oauth/token').type('form').send(good);
    expect(inBody.status).toBe(400);
    expect(inBody.body).toEqual({ error: 'invalid_request', error_description: 'parameters go in the query string, not the body' });
    expect((await cc('grant_type=password&client_id=a&client_secret=b')).body.error).toBe('unsupported_grant_type');
    const repeated = await cc(`${good}&client_id=demo-marketo-client`);
    expect(repeated.status).toBe(400);
    expect(repeated.body.error).toBe('invalid_request');
  });
});
