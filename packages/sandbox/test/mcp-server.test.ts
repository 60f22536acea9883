/** The MCP authorization servers: RFC 8414/9728 metadata, RFC 7591 registration, RFC 7009 revocation, RFC 9207 iss. */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { startSandbox, type RunningSandbox } from '../src';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox({ autoApprove: true });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const REDIRECT = 'https://app.example/auth/mcp/callback';
const SERVERS = [
  { id: 'ontraport', authorize: '/oauth/authorize', token: '/oauth/token', register: '/oauth/register', revoke: '/oauth/revoke', iss: true, scope: 'mcp:tools' },
  { id: 'customerio', authorize: '/oauth2/authorize', token: '/oauth2/token', register: '/oauth2/register', revoke: '/oauth2/revoke', iss: false, scope: 'read' },
] as const;
type Server = (typeof SERVERS)[number];

async function registerClient(s: Server, method = 'none') {
  const res = await request(sb.url)
    .post(`/${s.id}${s.register}`)
    .send({ client_name: 'Test app', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: method });
  expect(res.status).toBe(201);
  return res.body as { client_id: string; client_secret?: string };
}

async function login(s: Server, clientId: string, secret?: string) {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const res = await request(sb.url).get(`/${s.id}${s.authorize}`).query({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, state: 'st', scope: s.scope,
    code_challenge: challenge, code_challenge_method: 'S256', resource: `${sb.url}/${s.id}/mcp`,
  });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.location);
  const token = await request(sb.url).post(`/${s.id}${s.token}`).type('form').send({
    grant_type: 'authorization_code', code: location.searchParams.get('code') ?? '', redirect_uri: REDIRECT, client_id: clientId,
    code_verifier: verifier, resource: `${sb.url}/${s.id}/mcp`, ...(secret ? { client_secret: secret } : {}),
  });
  return { location, token };
}

describe.each(SERVERS)('$id MCP authorization server', (s) => {
  test('serves RFC 8414 metadata at the path-inserted location and under the issuer', async () => {
    const issuer = `${sb.url}/${s.id}`;
    for (const path of [`/.well-known/oauth-authorization-server/${s.id}`, `/${s.id}/.well-known/oauth-authorization-server`]) {
      const res = await request(sb.url).get(path);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        issuer,
        authorization_endpoint: `${issuer}${s.authorize}`,
        token_endpoint: `${issuer}${s.token}`,
        registration_endpoint: `${issuer}${s.register}`,
        revocation_endpoint: `${issuer}${s.revoke}`,
        code_challenge_methods_supported: expect.arrayContaining(['S256']),
        token_endpoint_auth_methods_supported: expect.arrayContaining(['none', 'client_secret_post']),
        scopes_supported: expect.arrayContaining([s.scope]),
      });
      expect(res.body.authorization_response_iss_parameter_supported).toBe(s.iss ? true : undefined);
    }
  });

  test('serves RFC 9728 protected-resource metadata naming the authorization server', async () => {
    const res = await request(sb.url).get(`/.well-known/oauth-protected-resource/${s.id}/mcp`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resource: `${sb.url}/${s.id}/mcp`, authorization_servers: [`${sb.url}/${s.id}`] });
  });

  test('a registered public client logs in; iss is on the redirect only where the server says so', async () => {
    const client = await registerClient(s);
    expect(client.client_secret).toBeUndefined();
    const { location, token } = await login(s, client.client_id);
    expect(location.searchParams.get('iss')).toBe(s.iss ? `${sb.url}/${s.id}` : null);
    expect(token.status).toBe(200);
    expect((await request(sb.url).get('/_sandbox/mcp/registrations')).body).toEqual({ [s.id]: 1 });
  });

  test('a confidential registration gets a secret that the token endpoint checks', async () => {
    const client = await registerClient(s, 'client_secret_post');
    expect(client.client_secret).toEqual(expect.any(String));
    expect((await login(s, client.client_id, client.client_secret)).token.status).toBe(200);
    expect((await login(s, client.client_id, 'wrong')).token.body.error).toBe('invalid_client');
  });

  test('registration refuses bad metadata (RFC 7591 section 3.2.2)', async () => {
    const post = (body: object) => request(sb.url).post(`/${s.id}${s.register}`).send(body);
    expect((await post({ client_name: 'x' })).body.error).toBe('invalid_client_metadata');
    expect((await post({ redirect_uris: ['not a url'] })).body.error).toBe('invalid_redirect_uri');
    expect((await post({ redirect_uris: [REDIRECT], grant_types: ['password'] })).body.error).toBe('invalid_client_metadata');
  });

  test('a revoked refresh token is then invalid_grant (RFC 7009)', async () => {
    const client = await registerClient(s);
    const { token } = await login(s, client.client_id);
    const revoked = await request(sb.url).post(`/${s.id}${s.revoke}`).type('form').send({ token: token.body.refresh_token, token_type_hint: 'refresh_token', client_id: client.client_id });
    expect(revoked.status).toBe(200);
    const refresh = await request(sb.url).post(`/${s.id}${s.token}`).type('form').send({
      grant_type: 'refresh_token', refresh_token: token.body.refresh_token, client_id: client.client_id, resource: `${sb.url}/${s.id}/mcp`,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  test('forget-clients makes registered clients unknown at the token endpoint', async () => {
    const client = await registerClient(s);
    const verifier = 'v'.repeat(43);
    await request(sb.url).post('/_sandbox/mcp/forget-clients').send({ provider: s.id }).expect(200, { forgotten: 1 });
    const token = await request(sb.url).post(`/${s.id}${s.token}`).type('form').send({
      grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT, client_id: client.client_id, code_verifier: verifier, resource: 'https://r.example',
    });
    expect(token.body.error).toBe('invalid_client');
  });
});

test('POST /_sandbox/mcp { iss }: wrong sends another issuer, omit sends none', async () => {
  const s = SERVERS[0];
  const client = await registerClient(s);
  await request(sb.url).post('/_sandbox/mcp').send({ iss: 'wrong' }).expect(200);
  expect((await login(s, client.client_id)).location.searchParams.get('iss')).toBe('https://attacker.example/oauth');
  await request(sb.url).post('/_sandbox/mcp').send({ iss: 'omit' }).expect(200);
  expect((await login(s, client.client_id)).location.searchParams.has('iss')).toBe(false);
  expect((await request(sb.url).post('/_sandbox/mcp').send({ iss: 'bogus' })).status).toBe(400);
});
