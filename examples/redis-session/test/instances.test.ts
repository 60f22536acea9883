/** Several app instances behind one Redis share sessions, logins in flight and token refreshes. */
import request from 'supertest';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { appFor, consent, csrfFrom, inspector as redisClient, link, login, sandboxFor, sandboxPost, startRedisServer, testConfig, type PrivateRedis, type TestApp } from './helpers';

let redis: PrivateRedis;
let sandbox: RunningSandbox;
let a: TestApp;
let b: TestApp;

/** Instance A and B: same SESSION_SECRET and TOKEN_ENCRYPTION_KEY, same Redis. */
const shared = { TOKEN_ENCRYPTION_KEY: 'a'.repeat(64) };

beforeAll(async () => {
  redis = await startRedisServer();
  sandbox = await sandboxFor({ autoApprove: false });
  a = await appFor(testConfig(sandbox, redis.url, shared), { logLevel: 'silent' });
  b = await appFor(testConfig(sandbox, redis.url, shared), { logLevel: 'silent' });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await sandbox?.close();
  await redis?.stop();
});

test('login on A, /account on B', async () => {
  const agentA = request.agent(a.app);
  const { cookie } = await login(agentA, 'hubspot');
  const onB = await request(b.app).get('/account').set('Cookie', `sid=${cookie}`);
  expect(onB.status).toBe(200);
  expect(onB.text).toContain('demo+hubspot@example.com');
});

test('linking on A shows on B, disconnecting on B shows on A (the account summary lives in the Redis session)', async () => {
  const agentA = request.agent(a.app);
  const { cookie } = await login(agentA, 'hubspot');
  const linked = await link(agentA, 'marketo'); // linking regenerates the session: a new cookie
  const sid = `sid=${linked.cookie}`;
  expect(linked.cookie).not.toBe(cookie);
  const homeB = await request(b.app).get('/').set('Cookie', sid);
  expect(homeB.text).toContain('You are signed in as');
  expect(homeB.text).not.toContain('Link Marketo');
  const accountB = await request(b.app).get('/account').set('Cookie', sid);
  expect(accountB.text).toContain('id="provider-marketo"');

  const out = await request(b.app).post('/account/marketo/disconnect').set('Cookie', sid).type('form').send({ _csrf: csrfFrom(accountB.text) });
  expect(out.status).toBe(303);
  expect((await request(a.app).get('/').set('Cookie', sid)).text).toContain('Link Marketo');
  expect((await request(a.app).get('/account').set('Cookie', sid)).text).not.toContain('id="provider-marketo"');
});

test('a login started on A finishes on B (state lives in the Redis session)', async () => {
  const agentA = request.agent(a.app);
  const start = await agentA.get('/auth/ontraport');
  const cookie = /sid=([^;]+)/.exec(String(start.headers['set-cookie']))?.[1] as string;
  const callbackURL = await consent(start.headers.location);
  const finish = await request(b.app).get(`${callbackURL.pathname}${callbackURL.search}`).set('Cookie', `sid=${cookie}`);
  expect(finish.status).toBe(303);
  const newCookie = /sid=([^;]+)/.exec(String(finish.headers['set-cookie']))?.[1] as string;
  const onA = await request(a.app).get('/account').set('Cookie', `sid=${newCookie}`);
  expect(onA.status).toBe(200);
  expect(onA.text).toContain('demo+ontraport@example.com');
});

test('one callback delivered to A and B at once exchanges the code once (used states recorded in Redis)', async () => {
  const agentA = request.agent(a.app);
  const start = await agentA.get('/auth/hubspot');
  const cookie = /sid=([^;]+)/.exec(String(start.headers['set-cookie']))?.[1] as string;
  const callbackURL = await consent(start.headers.location);
  const path = `${callbackURL.pathname}${callbackURL.search}`;
  const before = sandbox.stats().hubspot.token;
  const claimsBefore = (await a.redis!.keys('app:state-claim:*')).length;
  const answers = await Promise.all([a, b].map((app) => request(app.app).get(path).set('Cookie', `sid=${cookie}`)));
  expect(sandbox.stats().hubspot.token - before).toBe(1);
  // Both instances live in this one test process, so the copy that loses waits for the first and ends
  // signed in too (303); across processes it is a plain state failure (400). Never a second exchange.
  expect(answers.map((r) => r.status)).toContain(303);
  for (const r of answers) expect([303, 400]).toContain(r.status);
  // The used state is recorded in Redis (a digest as the key, never the state), for other processes.
  const peek = redisClient(redis.url);
  const claims = await peek.keys('app:state-claim:*');
  expect(claims.length).toBe(claimsBefore + 1);
  for (const key of claims) expect(key).not.toContain(callbackURL.searchParams.get('state') as string);
  expect(Math.min(...(await Promise.all(claims.map((key) => peek.pttl(key)))))).toBeGreaterThan(0);
  peek.disconnect();
});

test('logout on B ends the session on A', async () => {
  const { cookie } = await login(request.agent(a.app), 'boomtown');
  const page = await request(b.app).get('/account').set('Cookie', `sid=${cookie}`);
  const out = await request(b.app).post('/logout').set('Cookie', `sid=${cookie}`).type('form').send({ _csrf: csrfFrom(page.text) });
  expect(out.status).toBe(303);
  expect((await request(a.app).get('/account').set('Cookie', `sid=${cookie}`)).status).toBe(303);
});

test('an expired token used on A and B at once is refreshed once (Redis lock)', async () => {
  const { cookie } = await login(request.agent(a.app), 'customerio');
  const page = await request(a.app).get('/account').set('Cookie', `sid=${cookie}`);
  const csrf = csrfFrom(page.text);
  const before = sandbox.stats().customerio.refresh;
  // Expired in the store too, so both instances try to refresh before calling the API.
  const accountId = /<dt>Account id<\/dt><dd>([^<]+)<\/dd>/.exec(page.text)?.[1] as string;
  const stored = await a.tokens.get(accountId, 'customerio');
  await a.tokens.save(accountId, 'customerio', { ...stored!, expiresAt: Date.now() - 1000 });
  await sandboxPost(sandbox, '/_sandbox/expire', { provider: 'customerio' });
  const calls = [a, b, a, b].map((app) => request(app.app).post('/account/customerio/api').set('Cookie', `sid=${cookie}`).type('form').send({ _csrf: csrf }));
  for (const res of await Promise.all(calls)) expect(res.status).toBe(200);
  expect(sandbox.stats().customerio.refresh - before).toBe(1);
});

test('an instance with another SESSION_SECRET does not accept the cookie', async () => {
  const other = await appFor(testConfig(sandbox, redis.url, { SESSION_SECRET: 'another-secret-another-secret-another-secret' }), { logLevel: 'silent' });
  try {
    const { cookie } = await login(request.agent(a.app), 'hubspot');
    expect((await request(other.app).get('/account').set('Cookie', `sid=${cookie}`)).status).toBe(303);
  } finally {
    await other.close();
  }
});
