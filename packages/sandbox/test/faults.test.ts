/** Fault injection (every kind, `times`, every endpoint), the control routes, stats and latency. */
import request from 'supertest';
import { FAULT_REDIRECT_LOCATION, startSandbox, type Fault, type RunningSandbox } from '../src';
import { REDIRECT_URI, authorizeQuery, client, codeBody, errorCode, flow, obtainCode, obtainTokens, tokenRequest } from './helpers';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const hubspot = flow('hubspot');
const badCodeExchange = () => tokenRequest(sb.url, hubspot, codeBody(hubspot, 'bogus'));

describe('each fault kind at the token endpoint', () => {
  test('http500: 500 JSON in the provider shape', async () => {
    sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'http500' });
    const res = await badCodeExchange();
    expect(res.status).toBe(500);
    expect(errorCode('hubspot', res.body)).toBe('server_error');
  });

  test('http503: 503 with Retry-After, in the provider shape', async () => {
    sb.addFault({ provider: 'customerio', endpoint: 'token', fault: 'http503' });
    const res = await tokenRequest(sb.url, flow('customerio'), { grant_type: 'refresh_token' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(errorCode('customerio', res.body)).toBe('temporarily_unavailable');
  });

  test('html: 200 with an HTML page', async () => {
    sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'html' });
    const res = await badCodeExchange();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toMatch(/^<!doctype html>/);
  });

  test('redirect: 302 elsewhere', async () => {
    sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'redirect' });
    const res = await badCodeExchange();
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(FAULT_REDIRECT_LOCATION);
    expect(FAULT_REDIRECT_LOCATION).toBe('http://127.0.0.1:9/elsewhere');
  });

  test('empty: 200 with no body', async () => {
    sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'empty' });
    const res = await badCodeExchange();
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['content-length']).toBe('0');
  });

  test('invalid_grant: 400 even for a valid code; HubSpot names the subject', async () => {
    const { code } = await obtainCode(sb.url, hubspot);
    sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'invalid_grant', times: 1 });
    const res = await tokenRequest(sb.url, hubspot, codeBody(hubspot, code));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_grant', status: 'BAD_AUTH_CODE' });
    sb.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'invalid_grant', times: 1 });
    const refresh = await tokenRequest(sb.url, hubspot, { grant_type: 'refresh_token', refresh_token: 'x', ...client('hubspot') });
    expect(refresh.body).toMatchObject({ error: 'invalid_grant', status: 'BAD_REFRESH_TOKEN' });
  });

  test('delay: waits delayMs then answers normally', async () => {
    const tokens = await obtainTokens(sb.url, flow('boomtown'));
    sb.addFault({ provider: 'boomtown', endpoint: 'token', fault: 'delay', delayMs: 300 });
    const started = Date.now();
    const res = await tokenRequest(sb.url, flow('boomtown'), { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...client('boomtown') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(res.status).toBe(200);
    expect(res.body.access_token).toEqual(expect.any(String));
  });

  test('drop: the connection is destroyed without an answer', async () => {
    sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'drop', times: 1 });
    await expect(badCodeExchange()).rejects.toThrow(/socket hang up|ECONNRESET/);
    // The server is still fine.
    expect((await badCodeExchange()).status).toBe(400);
  });
});

describe('matching', () => {
  test('times: only the next N matching requests', async () => {
    sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'http500', times: 2 });
    expect((await badCodeExchange()).status).toBe(500);
    expect(sb.state.faults()).toEqual([{ provider: 'hubspot', endpoint: 'token', fault: 'http500', times: 1 }]);
    expect((await badCodeExchange()).status).toBe(500);
    expect((await badCodeExchange()).status).toBe(400);
    expect(sb.state.faults()).toEqual([]);
  });

  test('without times a fault stays until cleared', async () => {
    sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'http503' });
    for (let i = 0; i < 3; i++) expect((await badCodeExchange()).status).toBe(503);
    sb.clearFaults();
    expect((await badCodeExchange()).status).toBe(400);
  });

  test('`refresh` hits only the refresh grant; `token` hits both', async () => {
    const spec = flow('marketo');
    const tokens = await obtainTokens(sb.url, spec);
    sb.addFault({ provider: 'marketo', endpoint: 'refresh', fault: 'http500' });
    const { code } = await obtainCode(sb.url, spec);
    expect((await tokenRequest(sb.url, spec, codeBody(spec, code))).status).toBe(200);
    const refresh = { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...client('marketo') };
    expect((await tokenRequest(sb.url, spec, refresh)).status).toBe(500);
    sb.reset();
    sb.addFault({ provider: 'marketo', endpoint: 'token', fault: 'http503' });
    expect((await tokenRequest(sb.url, spec, refresh)).status).toBe(503);
  });

  test('a fault of one provider does not touch another', async () => {
    sb.addFault({ provider: 'boomtown', endpoint: 'token', fault: 'http500' });
    expect((await badCodeExchange()).status).toBe(400);
  });

  test('faults at authorize, identity, api and clientCredentials', async () => {
    const tokens = await obtainTokens(sb.url, hubspot);
    sb.addFault({ provider: 'hubspot', endpoint: 'authorize', fault: 'html', times: 1 });
    sb.addFault({ provider: 'hubspot', endpoint: 'identity', fault: 'http500', times: 1 });
    sb.addFault({ provider: 'hubspot', endpoint: 'api', fault: 'empty', times: 1 });
    sb.addFault({ provider: 'marketo', endpoint: 'clientCredentials', fault: 'redirect', times: 1 });
    sb.addFault({ provider: 'boomtown', endpoint: 'identity', fault: 'http503', times: 1 });
    const page = await request(sb.url).get('/hubspot/oauth/authorize').query(authorizeQuery(hubspot));
    expect(page.text).toContain('Down for maintenance');
    const identity = await request(sb.url).get(`/hubspot/oauth/v1/access-tokens/${tokens.access_token}`);
    expect(identity.status).toBe(500);
    expect(identity.body.status).toBe('error');
    const contacts = await request(sb.url).get('/hubspot/crm/v3/objects/contacts').set('Authorization', `Bearer ${tokens.access_token}`);
    expect(contacts.status).toBe(200);
    expect(contacts.text).toBe('');
    const cc = await request(sb.url).get('/marketo/identity/oauth/token?grant_type=client_credentials&client_id=demo-marketo-client&client_secret=demo-marketo-secret');
    expect(cc.status).toBe(302);
    const userinfo = await request(sb.url).get('/boomtown/userinfo').set('Authorization', 'Bearer x');
    expect(userinfo.status).toBe(503);
    expect(userinfo.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    // All used up: normal answers again.
    expect((await request(sb.url).get(`/hubspot/oauth/v1/access-tokens/${tokens.access_token}`)).status).toBe(200);
  });

  test('faults given at start stay until reset', async () => {
    const faults: Fault[] = [{ provider: 'ontraport', endpoint: 'api', fault: 'http500' }];
    const started = await startSandbox({ faults });
    try {
      const get = () => request(started.url).get('/ontraport/1/Contacts').set('Authorization', 'Bearer x');
      expect((await get()).status).toBe(500);
      expect((await get()).status).toBe(500);
      started.reset();
      expect((await get()).status).toBe(401);
    } finally {
      await started.close();
    }
  });
});

describe('control routes', () => {
  test('POST/GET/DELETE /_sandbox/faults', async () => {
    const added = await request(sb.url).post('/_sandbox/faults').send({ provider: 'hubspot', endpoint: 'token', fault: 'http500', times: 1 });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({ provider: 'hubspot', endpoint: 'token', fault: 'http500', times: 1 });
    expect((await request(sb.url).get('/_sandbox/faults')).body).toHaveLength(1);
    expect((await badCodeExchange()).status).toBe(500);
    await request(sb.url).post('/_sandbox/faults').send({ provider: 'hubspot', endpoint: 'token', fault: 'http503' });
    expect((await request(sb.url).delete('/_sandbox/faults')).status).toBe(204);
    expect((await badCodeExchange()).status).toBe(400);
  });

  test.each([
    [{ provider: 'nope', endpoint: 'token', fault: 'http500' }],
    [{ provider: 'hubspot', endpoint: 'everything', fault: 'http500' }],
    [{ provider: 'hubspot', endpoint: 'token', fault: 'explode' }],
    [{ provider: 'hubspot', endpoint: 'token', fault: 'delay', delayMs: -5 }],
    [{ provider: 'hubspot', endpoint: 'token', fault: 'http500', times: 0 }],
    [{ provider: 'hubspot', endpoint: 'token', fault: 'http500', extra: true }],
    [[1, 2]],
  ])('a malformed fault %j is a 400', async (body) => {
    const res = await request(sb.url).post('/_sandbox/faults').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(sb.state.faults()).toEqual([]);
  });

  test('addFault() refuses a malformed fault too', () => {
    expect(() => sb.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'nope' } as never)).toThrow(/fault/);
  });

  test('GET /_sandbox/stats and POST /_sandbox/reset', async () => {
    const tokens = await obtainTokens(sb.url, flow('boomtown'));
    await tokenRequest(sb.url, flow('boomtown'), { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...client('boomtown') });
    await request(sb.url).get('/boomtown/v1/leads').set('Authorization', `Bearer ${tokens.access_token}`);
    await request(sb.url).get('/boomtown/userinfo').set('Authorization', `Bearer ${tokens.access_token}`);
    await request(sb.url).get('/marketo/identity/oauth/token?grant_type=client_credentials');
    const stats = await request(sb.url).get('/_sandbox/stats');
    expect(stats.body.boomtown).toEqual({ authorize: 1, token: 1, refresh: 1, identity: 1, api: 1, clientCredentials: 0 });
    expect(stats.body.marketo).toEqual({ authorize: 0, token: 0, refresh: 0, identity: 0, api: 0, clientCredentials: 1 });
    expect(stats.body.hubspot).toEqual({ authorize: 0, token: 0, refresh: 0, identity: 0, api: 0, clientCredentials: 0 });
    expect(sb.stats()).toEqual(stats.body);

    expect((await request(sb.url).post('/_sandbox/reset')).status).toBe(204);
    expect(sb.stats().boomtown.token).toBe(0);
    // Tokens are gone too.
    expect((await request(sb.url).get('/boomtown/v1/leads').set('Authorization', `Bearer ${tokens.access_token}`)).status).toBe(401);
  });

  test('unknown control route -> 404 JSON', async () => {
    const res = await request(sb.url).get('/_sandbox/nope');
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
  });
});

describe('latencyMs', () => {
  test('is added to token, identity and API responses, not to authorize', async () => {
    const slow = await startSandbox({ latencyMs: 200, autoApprove: true });
    try {
      const spec = flow('boomtown');
      let t = Date.now();
      const auth = await request(slow.url).get('/boomtown/oauth/authorize').query(authorizeQuery(spec));
      expect(Date.now() - t).toBeLessThan(180);
      const code = new URL(auth.headers.location).searchParams.get('code') as string;
      t = Date.now();
      const tokens = await tokenRequest(slow.url, spec, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...client('boomtown') });
      expect(Date.now() - t).toBeGreaterThanOrEqual(190);
      t = Date.now();
      await request(slow.url).get('/boomtown/v1/leads').set('Authorization', `Bearer ${tokens.body.access_token}`);
      expect(Date.now() - t).toBeGreaterThanOrEqual(190);
    } finally {
      await slow.close();
    }
  });
});
