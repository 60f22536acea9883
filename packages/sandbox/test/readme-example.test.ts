/** The README's examples, verbatim (they import the built package, as a user would). */
import request from 'supertest';
import { startSandbox, type RunningSandbox } from '@passport-martech/sandbox';

let sandbox: RunningSandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ autoApprove: true }); // free port on 127.0.0.1
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.reset());

test('BoomTown login, then a token endpoint outage', async () => {
  const redirectUri = 'http://localhost:3000/auth/boomtown/callback';
  const authorize = await request(sandbox.url).get('/boomtown/oauth/authorize').query({
    client_id: 'demo-boomtown-client', redirect_uri: redirectUri, response_type: 'code',
    scope: 'offline_access', state: 'abc',
  });
  const code = new URL(authorize.headers.location).searchParams.get('code');

  const token = await request(sandbox.url).post('/boomtown/oauth/token').send({
    grant_type: 'authorization_code', code, redirect_uri: redirectUri,
    client_id: 'demo-boomtown-client', client_secret: 'demo-boomtown-secret',
  });
  expect(token.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, user_id: 'bt-demo-agent-1' });

  sandbox.addFault({ provider: 'boomtown', endpoint: 'refresh', fault: 'http503', times: 1 });
  const refresh = await request(sandbox.url).post('/boomtown/oauth/token').send({
    grant_type: 'refresh_token', refresh_token: token.body.refresh_token,
    client_id: 'demo-boomtown-client', client_secret: 'demo-boomtown-secret',
  });
  expect(refresh.status).toBe(503);
  expect(sandbox.stats().boomtown).toMatchObject({ authorize: 1, token: 1, refresh: 1 });
});

const client = { client_id: 'demo-boomtown-client', client_secret: 'demo-boomtown-secret' };
async function login(): Promise<{ access_token: string; refresh_token: string }> {
  const redirect_uri = 'http://localhost:3000/auth/boomtown/callback';
  const authorize = await request(sandbox.url).get('/boomtown/oauth/authorize').query({
    client_id: client.client_id, redirect_uri, response_type: 'code', scope: 'offline_access',
  });
  const code = new URL(authorize.headers.location).searchParams.get('code');
  const token = await request(sandbox.url).post('/boomtown/oauth/token')
    .send({ grant_type: 'authorization_code', code, redirect_uri, ...client });
  return token.body;
}
const refresh = (refreshToken: string) => request(sandbox.url).post('/boomtown/oauth/token')
  .send({ grant_type: 'refresh_token', refresh_token: refreshToken, ...client });

test('reuse detection, then an answer lost after the provider rotated', async () => {
  sandbox.setRefreshTokenReuse('revoke-grant'); // or { graceSeconds: 30 }; reset() restores the option
  const first = await login();
  const second = await refresh(first.refresh_token);
  expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant'); // a reuse...
  expect(sandbox.refreshTokenStatus('boomtown', second.body.refresh_token))
    .toEqual({ live: false, grantRevoked: true, rotated: false }); // ...revoked the whole grant

  const again = await login();
  sandbox.addFault({ provider: 'boomtown', endpoint: 'refresh', fault: 'lost_answer', times: 1 });
  await expect(refresh(again.refresh_token)).rejects.toThrow(/socket hang up|ECONNRESET/);
  expect(sandbox.refreshTokenStatus('boomtown', again.refresh_token)).toMatchObject({ live: false, rotated: true });
  expect(sandbox.audit().boomtown)
    .toEqual({ refreshGranted: 2, rotatedPresented: 1, grantsRevokedByReuse: 1, lostAnswers: 1 });
});
