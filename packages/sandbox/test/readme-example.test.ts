/** The README's example, verbatim (it imports the built package, as a user would). */
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
