/**
 * The happy flow of every provider dialect, as a strategy drives it: consent page -> Approve -> code ->
 * token -> refresh (rotation) -> identity -> sample API, with exact response fields.
 */
import request from 'supertest';
import { startSandbox, type RunningSandbox } from '../src';
import { FLOWS, REDIRECT_URI, STATE, client, codeBody, errorCode, flow, obtainCode, obtainTokens, tokenRequest, type FlowSpec } from './helpers';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const token = expect.stringMatching(/^[A-Za-z0-9\-._~+/]{20,}$/);

/** The exact token response per flow (tokens aside). */
const TOKEN_RESPONSES: Record<string, (scope: string) => Record<string, unknown>> = {
  hubspot: () => ({
    access_token: token, refresh_token: token, expires_in: 1800, token_type: 'bearer',
    hub_id: 2345678, user_id: 7654321, scopes: ['oauth', 'crm.objects.contacts.read'], token_use: 'access_token',
  }),
  marketo: () => ({ access_token: token, refresh_token: token, token_type: 'bearer', expires_in: 3600, scope: 'demo+marketo@example.com' }),
  ontraport: () => ({ access_token: token, refresh_token: token, token_type: 'Bearer', expires_in: 3600, account_id: 240155 }),
  'ontraport mcp': () => ({
    access_token: token, refresh_token: token, token_type: 'Bearer', expires_in: 3600, account_id: 240155, scope: 'mcp:tools',
  }),
  customerio: (scope) => ({
    access_token: token, refresh_token: token, token_type: 'Bearer', expires_in: 3600, scope,
    user_id: 'cio-demo-user-1', email: 'demo+customerio@example.com',
  }),
  boomtown: (scope) => ({
    access_token: token, refresh_token: token, token_type: 'Bearer', expires_in: 3600, scope,
    user_id: 'bt-demo-agent-1', email: 'demo+boomtown@example.com',
  }),
};
TOKEN_RESPONSES['customerio mcp'] = TOKEN_RESPONSES.customerio;

/** Identity call and the fields it must return. */
async function identity(spec: FlowSpec, accessToken: string) {
  if (spec.provider === 'hubspot') {
    const res = await request(sb.url).get(`/hubspot/oauth/v1/access-tokens/${accessToken}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      token: accessToken, user: 'demo+hubspot@example.com', hub_domain: expect.any(String), scopes: ['oauth', 'crm.objects.contacts.read'],
      hub_id: 2345678, app_id: expect.any(Number), expires_in: expect.any(Number), user_id: 7654321, token_type: 'access',
      signed_access_token: expect.objectContaining({ signature: expect.any(String), newSignature: expect.any(String) }),
    });
    expect(res.body.expires_in).toBeGreaterThan(1790);
    return;
  }
  const res = await request(sb.url).get(`/${spec.provider}/userinfo`).set('Authorization', `Bearer ${accessToken}`);
  expect(res.status).toBe(200);
  const ids: Record<string, string> = { marketo: 'demo-marketo-api-user', ontraport: '240155', customerio: 'cio-demo-user-1', boomtown: 'bt-demo-agent-1' };
  expect(res.body).toEqual({ id: ids[spec.provider], email: `demo+${spec.provider}@example.com`, name: expect.any(String) });
}

/** Sample API call and a check of its success shape. */
async function sampleApi(spec: FlowSpec, accessToken: string) {
  const paths: Record<string, string> = {
    hubspot: '/crm/v3/objects/contacts', marketo: '/rest/v1/leads.json', ontraport: '/1/Contacts', customerio: '/v1/customers', boomtown: '/v1/leads',
  };
  const res = await request(sb.url).get(`/${spec.provider}${paths[spec.provider]}`).set('Authorization', `Bearer ${accessToken}`);
  expect(res.status).toBe(200);
  switch (spec.provider) {
    case 'hubspot':
      expect(res.body.results.map((c: { properties: { email: string } }) => c.properties.email)).toEqual(['ada@example.com', 'grace@example.com']);
      break;
    case 'marketo':
      expect(res.body).toEqual({ requestId: expect.stringMatching(/^[0-9a-f]{4}#[0-9a-f]{11}$/), success: true, result: expect.any(Array) });
      expect(res.body.result).toHaveLength(2);
      break;
    case 'ontraport':
      expect(res.body).toEqual({ code: 0, data: expect.any(Array), account_id: '240155' });
      expect(res.headers['x-rate-limit-limit']).toBe('180');
      expect(Number(res.headers['x-rate-limit-remaining'])).toBeLessThan(180);
      expect(Number(res.headers['x-rate-limit-reset'])).toBeGreaterThan(0);
      break;
    case 'customerio':
      expect(res.body.customers).toHaveLength(2);
      break;
    case 'boomtown':
      expect(res.body.data).toHaveLength(2);
      break;
  }
}

describe.each(FLOWS)('$label happy flow', (spec) => {
  test('consent -> code -> token -> refresh (rotated) -> identity -> API, all counted', async () => {
    const { code, verifier } = await obtainCode(sb.url, spec);
    const exchanged = await tokenRequest(sb.url, spec, codeBody(spec, code, verifier));
    expect(exchanged.status).toBe(200);
    expect(exchanged.headers['cache-control']).toBe('no-store');
    expect(exchanged.headers['content-type']).toMatch(/^application\/json/);
    expect(exchanged.body).toEqual(TOKEN_RESPONSES[spec.label](spec.scope ?? ''));

    const refreshed = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: exchanged.body.refresh_token, ...client(spec.provider) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toEqual(TOKEN_RESPONSES[spec.label](spec.scope ?? ''));
    expect(refreshed.body.refresh_token).not.toBe(exchanged.body.refresh_token);
    expect(refreshed.body.access_token).not.toBe(exchanged.body.access_token);

    // Rotation: the used refresh token is dead.
    const replay = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: exchanged.body.refresh_token, ...client(spec.provider) });
    expect(replay.status).toBe(400);
    expect(errorCode(spec.shape, replay.body)).toBe('invalid_grant');

    await identity(spec, refreshed.body.access_token);
    await sampleApi(spec, refreshed.body.access_token);
    expect(sb.stats()[spec.provider]).toEqual({ authorize: 1, token: 1, refresh: 2, identity: 1, api: 1, clientCredentials: 0 });
  });
});

describe('hubspot specifics', () => {
  const hubspot = flow('hubspot');

  test.each(['/oauth/v1/token', '/oauth/v3/token', '/oauth/2026-03/token'])('token endpoint %s works', async (path) => {
    const { code } = await obtainCode(sb.url, hubspot);
    const res = await tokenRequest(sb.url, { ...hubspot, tokenPath: path }, codeBody(hubspot, code));
    expect(res.status).toBe(200);
    expect(res.body.hub_id).toBe(2345678);
  });

  test.each(['/oauth/v3/token/introspect', '/oauth/2026-03/token/introspect'])('%s introspects access and refresh tokens', async (path) => {
    const tokens = await obtainTokens(sb.url, hubspot);
    const introspect = (t: string, hint = 'access_token') =>
      request(sb.url).post(`/hubspot${path}`).type('form').send({ ...client('hubspot'), token: t, token_type_hint: hint });
    const active = await introspect(tokens.access_token);
    expect(active.status).toBe(200);
    expect(active.body).toEqual({
      active: true, user_id: 7654321, hub_id: 2345678, app_id: expect.any(Number), scopes: ['oauth', 'crm.objects.contacts.read'],
      expires_in: expect.any(Number), token_type: 'access', user: 'demo+hubspot@example.com', hub_domain: expect.any(String),
      client_id: 'demo-hubspot-client',
      signed_access_token: expect.objectContaining({ hubId: 2345678, userId: 7654321, signature: expect.any(String), newSignature: expect.any(String) }),
    });
    const refresh = await introspect(tokens.refresh_token, 'refresh_token');
    expect(refresh.body).toMatchObject({ active: true, token_type: 'refresh', user_id: 7654321 });
    expect(refresh.body.expires_in).toBeUndefined();

    const unknown = await introspect('no-such-token');
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ active: false });

    sb.expire({ provider: 'hubspot', accessToken: tokens.access_token });
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });

    const badClient = await request(sb.url).post(`/hubspot${path}`).type('form').send({ client_id: 'demo-hubspot-client', client_secret: 'nope', token: tokens.access_token });
    expect(badClient.status).toBe(401);
    expect(errorCode('hubspot', badClient.body)).toBe('invalid_client');
    expect(badClient.body.status).toBe('BAD_CLIENT_ID');
  });

  test('account-pinned authorize makes the pinned id the hub_id; optional_scope is granted too', async () => {
    const location = await request(sb.url)
      .get('/hubspot/oauth/99887766/authorize')
      .query({ client_id: 'demo-hubspot-client', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'oauth', optional_scope: 'crm.lists.read', state: STATE })
      .then((page) => {
        const action = /action="([^"]+)"/.exec(page.text)?.[1];
        const tx = /name="transaction_id" value="([^"]+)"/.exec(page.text)?.[1];
        expect(action).toBe('/hubspot/oauth/authorize/decision');
        return request(sb.url).post(action as string).type('form').send({ transaction_id: tx, decision: 'approve' });
      });
    const code = new URL(location.headers.location).searchParams.get('code') as string;
    const res = await tokenRequest(sb.url, hubspot, codeBody(hubspot, code));
    expect(res.body.hub_id).toBe(99887766);
    expect(res.body.scopes).toEqual(['oauth', 'crm.lists.read']);
  });

  test('a non-numeric pinned account id is an error redirect', async () => {
    const res = await request(sb.url)
      .get('/hubspot/oauth/abc/authorize')
      .query({ client_id: 'demo-hubspot-client', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'oauth', state: 's' });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.location).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('options', () => {
  test('accessTokenTtlSeconds per provider, rotateRefreshTokens false, custom users and clients', async () => {
    const custom = await startSandbox({
      accessTokenTtlSeconds: { boomtown: 120 },
      rotateRefreshTokens: false,
      users: { boomtown: { userId: 'agent-9', email: 'nine@example.com' } },
      clients: { boomtown: [{ clientId: 'mine', clientSecret: 's3cret', redirectUris: [REDIRECT_URI] }] },
    });
    try {
      const spec = flow('boomtown');
      const page = await request(custom.url).get('/boomtown/oauth/authorize').query({
        client_id: 'mine', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'offline_access', state: 's',
      });
      expect(page.status).toBe(200);
      expect(page.text).toContain('passport-martech demo');
      const demo = await request(custom.url).get('/boomtown/oauth/authorize').query({
        client_id: 'demo-boomtown-client', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'offline_access',
      });
      expect(demo.status).toBe(400); // the custom list replaced the default client
      const tx = /name="transaction_id" value="([^"]+)"/.exec(page.text)?.[1];
      const approved = await request(custom.url).post('/boomtown/oauth/authorize/decision').type('form').send({ transaction_id: tx, decision: 'approve' });
      const code = new URL(approved.headers.location).searchParams.get('code') as string;
      const body = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: 'mine', client_secret: 's3cret' };
      const exchanged = await tokenRequest(custom.url, spec, body);
      expect(exchanged.body).toMatchObject({ expires_in: 120, user_id: 'agent-9', email: 'nine@example.com' });
      const refresh = { grant_type: 'refresh_token', refresh_token: exchanged.body.refresh_token, client_id: 'mine', client_secret: 's3cret' };
      const first = await tokenRequest(custom.url, spec, refresh);
      const second = await tokenRequest(custom.url, spec, refresh);
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(first.body.refresh_token).toBe(exchanged.body.refresh_token);
      expect(second.body.access_token).not.toBe(first.body.access_token);
      // Other providers keep their defaults.
      const other = await obtainTokens(custom.url, flow('customerio'));
      expect(other.expires_in).toBe(3600);
    } finally {
      await custom.close();
    }
  });

  test('a single accessTokenTtlSeconds number applies to every provider', async () => {
    const custom = await startSandbox({ accessTokenTtlSeconds: 60 });
    try {
      expect((await obtainTokens(custom.url, flow('hubspot'))).expires_in).toBe(60);
      expect((await obtainTokens(custom.url, flow('marketo'))).expires_in).toBe(60);
    } finally {
      await custom.close();
    }
  });

  test('bad options throw at creation', async () => {
    await expect(startSandbox({ accessTokenTtlSeconds: -1 })).rejects.toThrow(/accessTokenTtlSeconds/);
    await expect(startSandbox({ users: { hubspot: { userId: 'abc' } } })).rejects.toThrow(/users.hubspot.userId/);
    await expect(startSandbox({ faults: [{ provider: 'nope', endpoint: 'token', fault: 'http500' } as never] })).rejects.toThrow(/provider/);
    await expect(startSandbox({ clients: { marketo: [{ clientId: 'a', clientSecret: 'b', redirectUris: ['http://x/#frag'] }] } })).rejects.toThrow(/fragment/);
  });
});
