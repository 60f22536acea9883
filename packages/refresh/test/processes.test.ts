/**
 * Several Node processes (child_process.fork of test/fixtures/worker.js, which runs the BUILT packages)
 * sharing one redis-server and one sandbox.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { RunningSandbox } from '@passport-martech/sandbox';
import type Redis from 'ioredis';
import { RedisLock, RedisTokenStore, TokenManager, TokenRefresher, storeKey, type RefreshEvent } from '../src';
import { BUILD_HOOK_TIMEOUT_MS, ensureBuilt } from './helpers/build';
import { forkWorker, type Worker } from './helpers/workers';
import { startRedis, type RedisServer } from './helpers/redis';
import { expired, hubspotStrategy, login, rawRefresh, refreshCount, startProvider } from './helpers/provider';

let sandbox: RunningSandbox;
let redis: RedisServer;
let client: Redis;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  await ensureBuilt();
  [sandbox, redis] = await Promise.all([startProvider(), startRedis()]);
  client = redis.client();
}, BUILD_HOOK_TIMEOUT_MS);
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([sandbox.close(), redis.stop()]);
});

interface WorkerResult {
  tokens: Record<string, number>;
  errors: string[];
  refreshes: number;
}

function startWorker(env: Record<string, string>): Worker<WorkerResult> {
  return forkWorker<WorkerResult>(join(__dirname, 'fixtures', 'worker.js'), { REDIS_PORT: String(redis.port), SANDBOX_URL: sandbox.url, ...env }, children);
}

test('4 processes x 250 concurrent callers sharing one Redis: exactly 1 refresh, one token for all 1 000', async () => {
  const prefix = 'procs:';
  const store = new RedisTokenStore({ client, prefix });
  const tokens = await login(sandbox.url);
  sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
  await store.set(storeKey('shared-user', 'hubspot'), expired(tokens));

  const workers = Array.from({ length: 4 }, () => startWorker({ PREFIX: prefix, USER_KEY: 'shared-user', CALLERS: '250' }));
  await Promise.all(workers.map((w) => w.ready));
  const before = refreshCount(sandbox);
  for (const w of workers) w.child.send({ go: true });
  const results = await Promise.all(workers.map((w) => w.result));

  expect(refreshCount(sandbox) - before).toBe(1);
  expect(results.flatMap((r) => r.errors)).toEqual([]);
  expect(results.reduce((n, r) => n + r.refreshes, 0)).toBe(1);
  const seen = new Map<string, number>();
  for (const r of results) for (const [token, count] of Object.entries(r.tokens)) seen.set(token, (seen.get(token) ?? 0) + count);
  expect(seen.size).toBe(1);
  const [[token, count]] = [...seen];
  expect(count).toBe(1000);
  expect(token).not.toBe(tokens.accessToken);
  const stored = await store.get(storeKey('shared-user', 'hubspot'));
  expect(stored?.accessToken).toBe(token);
  // Chain intact: the rotated refresh token the winner saved works.
  expect((await rawRefresh(sandbox.url, stored?.refreshToken as string)).status).toBe(200);
  await Promise.all(workers.map((w) => w.exited));
}, 30_000);

test('a lock holder killed mid-refresh: its lock expires after saveHoldMs, the next caller refreshes, nobody waits forever', async () => {
  const prefix = 'crash:';
  const store = new RedisTokenStore({ client, prefix });
  const tokens = await login(sandbox.url);
  sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
  await store.set(storeKey('crash-user', 'hubspot'), expired(tokens));
  // The holder's refresh request hangs at the provider (it will be answered long after the holder died).
  sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 2500, times: 1 });

  // Once it presented the refresh token, the holder's lock lives saveHoldMs (here 1.2 s) even unextended.
  const holder = startWorker({ PREFIX: prefix, USER_KEY: 'crash-user', CALLERS: '1', LOCK_TTL_MS: '800', SAVE_HOLD_MS: '1200' });
  await holder.ready;
  holder.child.send({ go: true });
  const lockKey = `lock:refresh:${storeKey('crash-user', 'hubspot')}`;
  const deadline = Date.now() + 5000;
  while (!(await client.exists(lockKey))) {
    if (Date.now() > deadline) throw new Error('the holder never took the lock');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 100)); // its request is in flight at the provider
  holder.child.kill('SIGKILL');
  await holder.exited;
  expect(await client.exists(lockKey)).toBe(1);

  const events: RefreshEvent[] = [];
  const manager = new TokenManager({
    refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url)),
    store,
    lock: new RedisLock({ client, ttlMs: 800 }),
    onRefresh: (e) => events.push(e),
  });
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 50 }, () => manager.getAccessToken('crash-user', 'hubspot')));
  const waited = Date.now() - started;
  expect(new Set(results).size).toBe(1);
  expect(results[0]).not.toBe(tokens.accessToken);
  expect(events).toHaveLength(1);
  // It waited for the dead holder's lock to expire (< its 1.2 s hold), not for the wait bound or forever.
  expect(waited).toBeGreaterThan(500);
  expect(waited).toBeLessThan(2500);
  expect(await client.exists(lockKey)).toBe(0);
  const stored = await store.get(storeKey('crash-user', 'hubspot'));
  expect(stored?.accessToken).toBe(results[0]);
}, 20_000);
