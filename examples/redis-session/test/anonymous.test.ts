/**
 * What a visitor who has not signed in can cost: a login start writes one session that lives as long as
 * the login may (10 minutes), and /auth/* is rate-limited per client address, so 10 000 anonymous login
 * starts leave Redis small. Against a real redis-server and the sandbox.
 */
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import request from 'supertest';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { clientKey, rateLimit } from '../src/rate-limit';
import { appFor, inspector, login, sandboxFor, startRedisServer, testConfig, type PrivateRedis, type TestApp } from './helpers';

let redis: PrivateRedis;
let sandbox: RunningSandbox;
let peek: Redis;
const apps: TestApp[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  sandbox = await sandboxFor({ autoApprove: true });
  peek = inspector(redis.url);
});

afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  for (const app of apps.splice(0)) await app.close();
});

afterAll(async () => {
  peek?.disconnect();
  await sandbox?.close();
  await redis?.stop();
});

beforeEach(() => peek.flushall());

async function appWith(env: Record<string, string | undefined>): Promise<TestApp> {
  const app = await appFor(testConfig(sandbox, redis.url, env), { logLevel: 'silent' });
  apps.push(app);
  return app;
}

/** The app on a real port (many requests over keep-alive connections, as a client would send them). */
async function listening(app: TestApp): Promise<number> {
  const server = createServer(app.app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Sends `count` cookie-less GETs, `concurrency` at a time; returns how many got each status. */
async function flood(port: number, path: string, count: number, headers: (i: number) => Record<string, string> = () => ({})): Promise<Record<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers: headers(i) }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: 32 }, worker));
  } finally {
    agent.destroy();
  }
  return statuses;
}

async function sessionTtls(): Promise<number[]> {
  const keys = await peek.keys('sess:*');
  return Promise.all(keys.map((key) => peek.ttl(key)));
}

test("a visitor's login start writes one session that lives 10 minutes; signing in gives the full lifetime", async () => {
  const app = await appWith({});
  const start = await request(app.app).get('/auth/hubspot');
  expect(start.status).toBe(302);
  const expires = Date.parse(/Expires=([^;]+)/.exec(String(start.headers['set-cookie']))?.[1] ?? '') - Date.now();
  expect(expires).toBeGreaterThan(590_000);
  expect(expires).toBeLessThanOrEqual(601_000);
  const [ttl] = await sessionTtls();
  expect(ttl).toBeGreaterThan(590);
  expect(ttl).toBeLessThanOrEqual(600);

  const agent = request.agent(app.app);
  const { sid } = await login(agent, 'hubspot');
  expect(await peek.ttl(`sess:${sid}`)).toBeGreaterThan(86_000);
  // A signed-in user's own link start keeps the full lifetime.
  expect((await agent.get('/account')).status).toBe(200);
  expect(await peek.ttl(`sess:${sid}`)).toBeGreaterThan(86_000);
});

test('10 000 anonymous login starts from one address (spoofed X-Forwarded-For or not) leave Redis memory bounded', async () => {
  const app = await appWith({ AUTH_RATE_LIMIT: undefined }); // the default: 30 a minute
  const port = await listening(app);
  const memoryBefore = Number(/used_memory:(\d+)/.exec(await peek.info('memory'))?.[1]);

  const statuses = await flood(port, '/auth/hubspot', 10_000, (i): Record<string, string> => (i % 2 ? { 'X-Forwarded-For': `203.0.113.${i % 250}` } : {}));
  expect(statuses[302]).toBe(30);
  expect(statuses[429]).toBe(10_000 - 30);

  const ttls = await sessionTtls();
  expect(ttls).toHaveLength(30);
  for (const ttl of ttls) expect(ttl).toBeLessThanOrEqual(600);
  const memoryAfter = Number(/used_memory:(\d+)/.exec(await peek.info('memory'))?.[1]);
  expect(memoryAfter - memoryBefore).toBeLessThan(512 * 1024);

  const refused = await request(app.app).get('/auth/hubspot/callback?code=x&state=y');
  expect(refused.status).toBe(429);
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(refused.text).toContain('Too many sign-in attempts');
  // Pages other than /auth/* are not limited.
  expect((await request(app.app).get('/')).status).toBe(200);
}, 60_000);

test('behind a proxy (TRUST_PROXY=1) each client address has its own budget', async () => {
  const app = await appWith({ AUTH_RATE_LIMIT: '2', TRUST_PROXY: '1' });
  const from = (ip: string) => request(app.app).get('/auth/marketo').set('X-Forwarded-For', ip);
  expect([(await from('198.51.100.1')).status, (await from('198.51.100.1')).status, (await from('198.51.100.1')).status]).toEqual([302, 302, 429]);
  expect((await from('198.51.100.2')).status).toBe(302);
  // One IPv6 /64 is one client.
  expect([(await from('2001:db8:1:2::a')).status, (await from('2001:db8:1:2:ffff::b')).status, (await from('2001:db8:1:2::c')).status]).toEqual([302, 302, 429]);
});

test('the limiter tracks a bounded number of addresses per window', () => {
  const refused: string[] = [];
  const limit = rateLimit({ limit: 5, maxClients: 3, refuse: (req) => void refused.push(String(req.ip)) });
  let passed = 0;
  for (let i = 0; i < 10; i++) {
    const req = { ip: `192.0.2.${i}`, socket: {} } as unknown as Parameters<typeof limit>[0];
    void limit(req, {} as Parameters<typeof limit>[1], () => void passed++);
  }
  expect(passed).toBe(3);
  expect(refused).toHaveLength(7);
});

test('addresses are counted per IPv4 address and per IPv6 /64', () => {
  expect(clientKey('192.0.2.7')).toBe('192.0.2.7');
  expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
  expect(clientKey('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
  expect(clientKey('2001:0db8:0000:0001:abcd:0:0:1')).toBe('2001:db8:0:1::/64');
  expect(clientKey('::1')).toBe('0:0:0:0::/64');
  expect(clientKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
});
