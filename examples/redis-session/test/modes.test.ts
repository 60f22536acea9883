/** In-memory mode (the demo without Redis) and a slow provider. */
import request from 'supertest';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { freePort } from '../src/redis-server';
import { startServer } from '../src/server';
import { appFor, csrfFrom, link, login, sandboxFor, testConfig, type TestApp } from './helpers';

let sandbox: RunningSandbox;
let app: TestApp;

beforeAll(async () => {
  sandbox = await sandboxFor({ autoApprove: true });
  app = await appFor(testConfig(sandbox, 'memory', { PROVIDER_TIMEOUT_MS: '300' }), { logLevel: 'silent' });
});

afterAll(async () => {
  await app?.close();
  await sandbox?.close();
});

test('REDIS_URL=memory: the whole flow works in one process, and the home page says so', async () => {
  const home = await request(app.app).get('/');
  expect(home.text).toContain('kept in this process');
  expect((await request(app.app).get('/healthz')).body).toEqual({ status: 'ok', redis: 'memory' });
  const agent = request.agent(app.app);
  await login(agent, 'marketo');
  await link(agent, 'hubspot');
  const page = await agent.get('/account');
  expect(page.text).toContain('demo+marketo@example.com');
  expect(page.text).toContain('demo+hubspot@example.com');
  const api = await agent.post('/account/marketo/api').type('form').send({ _csrf: csrfFrom(page.text) });
  expect(api.status).toBe(200);
  expect((await agent.post('/logout').type('form').send({ _csrf: csrfFrom(page.text) })).status).toBe(303);
  expect((await agent.get('/account')).status).toBe(303);
});

test('a provider slower than PROVIDER_TIMEOUT_MS: 504 page, quickly', async () => {
  sandbox.addFault({ provider: 'ontraport', endpoint: 'token', fault: 'delay', delayMs: 1000, times: 1 });
  const started = Date.now();
  const { callback } = await login(request.agent(app.app), 'ontraport');
  expect(callback.status).toBe(504);
  expect(callback.text).toContain('Ontraport is not answering');
  expect(Date.now() - started).toBeLessThan(1000);
});

test('a slow API call: 504 page', async () => {
  const agent = request.agent(app.app);
  await login(agent, 'boomtown');
  const csrf = csrfFrom((await agent.get('/account')).text);
  sandbox.addFault({ provider: 'boomtown', endpoint: 'api', fault: 'delay', delayMs: 1000, times: 1 });
  const res = await agent.post('/account/boomtown/api').type('form').send({ _csrf: csrf });
  expect(res.status).toBe(504);
  expect(res.text).toContain('BoomTown is not answering');
});

test('behind an https proxy: Secure cookie, HSTS, trust proxy', async () => {
  const secure = await appFor(testConfig(sandbox, 'memory', { BASE_URL: 'https://app.example.com' }), { logLevel: 'silent' });
  try {
    const res = await request(secure.app).get('/auth/hubspot').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(302);
    expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
    expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(new URL(res.headers.location).searchParams.get('redirect_uri')).toBe('https://app.example.com/auth/hubspot/callback');
  } finally {
    await secure.close();
  }
});

test('graceful shutdown: a request in flight finishes, new connections are refused', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer(testConfig(sandbox, 'memory', { PORT: String(port), BASE_URL: url, LOG_LEVEL: 'silent' }));
  try {
    const start = await fetch(`${url}/auth/customerio`, { redirect: 'manual' });
    const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0];
    const callback = await fetch(start.headers.get('location') as string, { redirect: 'manual' });
    const done = await fetch(callback.headers.get('location') as string, { redirect: 'manual', headers: { cookie } });
    const session = (done.headers.get('set-cookie') ?? '').split(';')[0];
    const page = await (await fetch(`${url}/account`, { headers: { cookie: session } })).text();
    sandbox.addFault({ provider: 'customerio', endpoint: 'api', fault: 'delay', delayMs: 200, times: 1 });
    const inFlight = fetch(`${url}/account/customerio/api`, {
      method: 'POST',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrfFrom(page) }).toString(),
    });
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    const closed = server.close(5000);
    expect((await inFlight).status).toBe(200);
    await closed;
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  } finally {
    await server.close();
  }
});
