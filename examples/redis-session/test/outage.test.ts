/**
 * Redis outage: the app answers 503 at once (no hang, no crash), /healthz says so, and it recovers by
 * itself when Redis is back on the same port.
 */
import request from 'supertest';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { appFor, csrfFrom, login, sandboxFor, startRedisServer, testConfig, waitFor, type PrivateRedis, type TestApp } from './helpers';

let redis: PrivateRedis;
let sandbox: RunningSandbox;
let app: TestApp;

beforeAll(async () => {
  redis = await startRedisServer();
  sandbox = await sandboxFor({ autoApprove: true });
  app = await appFor(testConfig(sandbox, redis.url, { REDIS_COMMAND_TIMEOUT_MS: '500' }), { logLevel: 'silent' });
});

afterAll(async () => {
  await app?.close();
  await sandbox?.close();
  await redis?.stop();
});

async function timed(run: () => Promise<request.Response>): Promise<{ res: request.Response; ms: number }> {
  const started = Date.now();
  const res = await run();
  return { res, ms: Date.now() - started };
}

test('Redis stopped mid-session: 503 within 1 s, /healthz unhealthy; back on the same port: logins work again', async () => {
  const agent = request.agent(app.app);
  await login(agent, 'hubspot');
  const account = await agent.get('/account');
  expect(account.status).toBe(200);
  const csrf = csrfFrom(account.text);

  // Crash: SIGKILL, no goodbye.
  const port = redis.port;
  redis.process.kill('SIGKILL');
  await redis.stop();

  for (const run of [
    () => agent.get('/account'),
    () => agent.get('/'),
    () => agent.post('/logout').type('form').send({ _csrf: csrf }),
    () => agent.post('/account/hubspot/api').type('form').send({ _csrf: csrf }),
    () => request(app.app).get('/auth/marketo'),
  ]) {
    const { res, ms } = await timed(run);
    expect(res.status).toBe(503);
    expect(ms).toBeLessThan(1000);
    expect(res.text).toContain('Temporarily unavailable');
    expect(res.headers['retry-after']).toBe('5');
    expect(res.text).not.toMatch(/ECONNREFUSED|ioredis|\.js:\d+/);
  }
  const health = await timed(() => request(app.app).get('/healthz'));
  expect(health.res.status).toBe(503);
  expect(health.res.body).toEqual({ status: 'unavailable', redis: 'down', reason: 'no connection' });
  expect(health.ms).toBeLessThan(1000);
  // A cookie-less home page still renders.
  expect((await request(app.app).get('/')).status).toBe(200);

  // Redis comes back (empty: nothing was persisted). No app restart.
  redis = await startRedisServer({ port });
  await waitFor(async () => (await request(app.app).get('/healthz')).status === 200, 5000, '/healthz to recover');
  expect((await agent.get('/account')).status).toBe(303); // the old session died with Redis
  const fresh = request.agent(app.app);
  const { callback } = await login(fresh, 'marketo');
  expect(callback.status).toBe(303);
  expect((await fresh.get('/account')).status).toBe(200);
});

test('a hung Redis (SIGSTOP) gives 503 within 1 s instead of a hang, then recovers', async () => {
  const agent = request.agent(app.app);
  await login(agent, 'boomtown');
  redis.process.kill('SIGSTOP');
  try {
    const { res, ms } = await timed(() => agent.get('/account'));
    expect(res.status).toBe(503);
    expect(ms).toBeLessThan(1000);
  } finally {
    redis.process.kill('SIGCONT');
  }
  await waitFor(async () => (await agent.get('/account')).status === 200, 5000, 'the session to be readable again');
});
