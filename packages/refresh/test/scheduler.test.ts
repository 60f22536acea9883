import type { RunningSandbox } from '@passport-martech/sandbox';
import type { TokenSet } from '@passport-martech/oauth2';
import {
  MemoryTokenStore,
  RedisLock,
  RedisTokenStore,
  RefreshScheduler,
  TokenManager,
  TokenRefresher,
  storeKey,
  type RedisClient,
  type RefreshEvent,
} from '../src';
import { startRedis, type RedisServer } from './helpers/redis';
import { hubspotStrategy, login, rawRefresh, refreshCount, startProvider } from './helpers/provider';

let sandbox: RunningSandbox;
let redis: RedisServer;

beforeAll(async () => {
  [sandbox, redis] = await Promise.all([startProvider(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([sandbox.close(), redis.stop()]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One worker: its own Redis connection, refresher, manager (with lock and schedule) and scheduler. */
function worker(prefix: string, key: string, events: RefreshEvent[], errors: unknown[] = []) {
  const client = redis.client();
  const manager = new TokenManager({
    refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url)),
    store: new RedisTokenStore({ client, prefix }),
    lock: new RedisLock({ client, ttlMs: 2000 }),
    schedule: { client, key },
    onRefresh: (e) => events.push(e),
  });
  const scheduler = new RefreshScheduler({ manager, aheadSeconds: 300, intervalMs: 40, onError: (e) => errors.push(e) });
  return { client, manager, scheduler };
}

test('save() records the expiry in the sorted set; delete() removes it; tokens without refresh token are not scheduled', async () => {
  const events: RefreshEvent[] = [];
  const { client, manager } = worker('s0:', 'sched0', events);
  const tokens = await login(sandbox.url);
  await manager.save('u', 'hubspot', tokens);
  expect(Number(await client.zscore('sched0', storeKey('u', 'hubspot')))).toBe(tokens.expiresAt);
  await manager.save('u', 'hubspot', { ...tokens, refreshToken: undefined });
  expect(await client.zscore('sched0', storeKey('u', 'hubspot'))).toBeNull();
  await manager.save('u', 'hubspot', tokens);
  await manager.delete('u', 'hubspot');
  expect(await client.zscore('sched0', storeKey('u', 'hubspot'))).toBeNull();
});

test('3 scheduler instances: a due token is refreshed exactly once, one not due is left alone', async () => {
  const events: RefreshEvent[] = [];
  const workers = [worker('s1:', 'sched1', events), worker('s1:', 'sched1', events), worker('s1:', 'sched1', events)];
  const due: TokenSet = { ...(await login(sandbox.url)) };
  due.expiresAt = Date.now() + 120_000; // inside the 300 s window
  const later = await login(sandbox.url); // 1 800 s: outside it
  await workers[0].manager.save('due-user', 'hubspot', due);
  await workers[1].manager.save('later-user', 'hubspot', later);

  const before = refreshCount(sandbox);
  for (const w of workers) w.scheduler.start();
  const deadline = Date.now() + 5000;
  while (events.length === 0 && Date.now() < deadline) await sleep(10);
  await sleep(400); // ten more intervals of each scheduler
  await Promise.all(workers.map((w) => w.scheduler.stop()));

  expect(refreshCount(sandbox) - before).toBe(1);
  expect(events).toEqual([expect.objectContaining({ userKey: 'due-user', provider: 'hubspot', trigger: 'scheduled' })]);
  const stored = (await workers[2].manager.get('due-user', 'hubspot')) as TokenSet;
  expect(stored.accessToken).not.toBe(due.accessToken);
  expect(Number(await workers[0].client.zscore('sched1', storeKey('due-user', 'hubspot')))).toBe(stored.expiresAt);
  await expect(workers[2].manager.get('later-user', 'hubspot')).resolves.toMatchObject({ accessToken: later.accessToken });
  expect((await rawRefresh(sandbox.url, stored.refreshToken as string)).status).toBe(200);
  expect(workers.every((w) => !w.scheduler.running)).toBe(true);
});

test('tick(): a revoked token is dropped from the schedule and reported; a vanished one is dropped', async () => {
  const events: RefreshEvent[] = [];
  const errors: { provider: string; userKey: string; error: Error }[] = [];
  const { client, manager, scheduler } = worker('s2:', 'sched2', events, errors);
  const tokens = await login(sandbox.url);
  await manager.save('revoked', 'hubspot', { ...tokens, expiresAt: Date.now() + 10_000 });
  sandbox.revoke({ provider: 'hubspot', refreshToken: tokens.refreshToken });
  await client.zadd('sched2', Date.now(), storeKey('ghost', 'hubspot'));
  const result = await scheduler.tick();
  expect(result).toEqual({ due: 2, refreshed: 0, dropped: 2, failed: 0, running: 0 });
  expect(await client.zcard('sched2')).toBe(0);
  expect(errors).toEqual([expect.objectContaining({ userKey: 'revoked', error: expect.objectContaining({ code: 'REAUTHENTICATION_REQUIRED' }) })]);
  await expect(manager.get('revoked', 'hubspot')).resolves.toBeUndefined();
});

/** A real ioredis client whose commands named in `failing` reject. */
function clientFailing(failing: string[]): RedisClient {
  const client = redis.client();
  return new Proxy(client, {
    get(target, property) {
      if (typeof property === 'string' && failing.includes(property)) return () => Promise.reject(new Error(`${property} failed: connection lost`));
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as RedisClient;
}

test('a malformed member whose removal fails does not reject the pass: the other members are refreshed (review 3.5)', async () => {
  const events: RefreshEvent[] = [];
  const { client, manager } = worker('s3:', 'sched3', events);
  const passErrors: Error[] = [];
  const scheduler = new RefreshScheduler({ manager, client: clientFailing(['zrem']), aheadSeconds: 300, onPassError: (e) => passErrors.push(e) });
  const tokens = await login(sandbox.url);
  await manager.save('due', 'hubspot', { ...tokens, expiresAt: Date.now() + 10_000 });
  await client.zadd('sched3', Date.now(), 'no-colon-so-not-a-store-key');
  await expect(scheduler.tick()).resolves.toEqual({ due: 2, refreshed: 1, dropped: 0, failed: 1, running: 0 });
  expect(events).toEqual([expect.objectContaining({ userKey: 'due', trigger: 'scheduled' })]);
  expect(passErrors.map((e) => e.message)).toEqual(['zrem failed: connection lost']);
});

test('a failed pass is reported through onPassError, and the timer goes on (review 3.5)', async () => {
  const events: RefreshEvent[] = [];
  const { manager } = worker('s4:', 'sched4', events);
  const passErrors: Error[] = [];
  const scheduler = new RefreshScheduler({ manager, client: clientFailing(['zrangebyscore']), intervalMs: 20, onPassError: (e) => passErrors.push(e) });
  scheduler.start();
  const deadline = Date.now() + 3000;
  while (passErrors.length < 2 && Date.now() < deadline) await sleep(10);
  await scheduler.stop();
  expect(passErrors.length).toBeGreaterThanOrEqual(2);
  expect(passErrors[0].message).toBe('zrangebyscore failed: connection lost');
});

test('a manager without `schedule` records no expiries: the scheduler refuses it instead of silently doing nothing (issue 5)', () => {
  const manager = new TokenManager({ refresher: new TokenRefresher(), store: new RedisTokenStore({ client: redis.client() }) });
  // As issue 5 writes it: the client given to the scheduler, none to the manager.
  expect(() => new RefreshScheduler({ manager, client: redis.client(), aheadSeconds: 300, intervalMs: 1000 })).toThrow(TypeError);
  expect(() => new RefreshScheduler({ manager, client: redis.client() })).toThrow(/the `schedule` option \(new TokenManager\(\{ schedule: \{ client \} \}\)\)/);
  expect(() => new RefreshScheduler({ manager })).toThrow(/schedule/);
  // A key other than the one the manager writes would be read in vain too.
  const scheduled = new TokenManager({ refresher: new TokenRefresher(), store: new MemoryTokenStore(), schedule: { client: redis.client(), key: 'a' } });
  expect(() => new RefreshScheduler({ manager: scheduled, key: 'b' })).toThrow(/key/);
  expect(new RefreshScheduler({ manager: scheduled, key: 'a', client: redis.client() }).running).toBe(false);
});

test('options are checked', () => {
  const manager = new TokenManager({ refresher: new TokenRefresher(), store: new MemoryTokenStore(), schedule: { client: redis.client() } });
  expect(() => new RefreshScheduler({} as never)).toThrow(/manager/);
  expect(() => new RefreshScheduler({ manager, intervalMs: 0 })).toThrow(TypeError);
  expect(() => new RefreshScheduler({ manager, aheadSeconds: -1 })).toThrow(TypeError);
});
