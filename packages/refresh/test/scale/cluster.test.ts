/**
 * The refresh package on a real 3-master Redis Cluster (test/scale/topology.js): the cross-process
 * single-flight holds with the lock, store and failure notes spread over shards, and every command
 * the package sends names exactly one key (no CROSSSLOT, whatever slots the keys hash to).
 */
import type { RunningSandbox } from '@passport-martech/sandbox';
import type { Cluster } from 'ioredis';
import { RedisLock, RedisTokenStore, RefreshScheduler, ReauthenticationRequiredError, TokenManager, TokenRefresher, storeKey, type RedisClient } from '../../src';
import { BUILD_HOOK_TIMEOUT_MS, ensureBuilt } from '../helpers/build';
import { expired, hubspotStrategy, login, rawRefresh, refreshCount, startProvider } from '../helpers/provider';
import { killWorkers, startWorker } from './fleet';
import { startCluster, until, type RunningCluster } from './topology';

let sandbox: RunningSandbox;
let cluster: RunningCluster;
let client: Cluster;

beforeAll(async () => {
  await ensureBuilt();
  [sandbox, cluster] = await Promise.all([startProvider(), startCluster()]);
  client = cluster.client();
}, BUILD_HOOK_TIMEOUT_MS + 30_000);
afterAll(async () => {
  killWorkers();
  await Promise.all([sandbox?.close(), cluster?.stop()]);
});

interface OnceResult {
  tokens: Record<string, number>;
  errors: string[];
  refreshes: number;
}

test('4 processes x 100 concurrent callers on one expired token, over the Cluster: exactly 1 refresh, the new token for all 400', async () => {
  const prefix = 'scale:';
  const store = new RedisTokenStore({ client, prefix });
  const tokens = await login(sandbox.url);
  sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
  await store.set(storeKey('cluster-user', 'hubspot'), expired(tokens));

  const topology = { kind: 'cluster' as const, nodes: cluster.nodes };
  const workers = Array.from({ length: 4 }, () => startWorker<OnceResult>(topology, sandbox.url, { PREFIX: prefix, USERS: 'cluster-user', CALLERS: '100', MODE: 'once' }));
  await Promise.all(workers.map((w) => w.ready));
  const before = refreshCount(sandbox);
  for (const w of workers) w.child.send({ go: true });
  const results = await Promise.all(workers.map((w) => w.result));

  expect(results.flatMap((r) => r.errors)).toEqual([]);
  expect(refreshCount(sandbox) - before).toBe(1);
  expect(results.reduce((n, r) => n + r.refreshes, 0)).toBe(1);
  const seen = new Map<string, number>();
  for (const r of results) for (const [token, count] of Object.entries(r.tokens)) seen.set(token, (seen.get(token) ?? 0) + count);
  expect([...seen.values()]).toEqual([400]);
  const [token] = [...seen.keys()];
  expect(token).not.toBe(tokens.accessToken);
  const stored = await store.get(storeKey('cluster-user', 'hubspot'));
  expect(stored?.accessToken).toBe(token);
  expect(sandbox.refreshTokenStatus('hubspot', stored?.refreshToken as string).live).toBe(true);
  expect((await rawRefresh(sandbox.url, stored?.refreshToken as string)).status).toBe(200);
  await Promise.all(workers.map((w) => w.exited));
}, 30_000);

/** Every command sent through the client, with the keys it names (EVAL: its declared KEYS). */
function recording(target: Cluster): { client: RedisClient; commands: { name: string; keys: string[] }[] } {
  const commands: { name: string; keys: string[] }[] = [];
  const client = new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        const keys = property === 'eval' ? (args.slice(2, 2 + Number(args[1])) as string[]) : [args[0] as string];
        commands.push({ name: property, keys });
        return value.apply(object, args);
      };
    },
  });
  return { client: client as unknown as RedisClient, commands };
}

test('login, scheduled refresh, failed scheduler pass, invalid_grant and logout on the Cluster: one key per command, the schedule works', async () => {
  const { client: recorded, commands } = recording(client);
  const manager = new TokenManager({
    refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url)),
    store: new RedisTokenStore({ client: recorded, prefix: 'slots:' }),
    lock: new RedisLock({ client: recorded, ttlMs: 2000 }),
    schedule: { client: recorded, key: 'slots:schedule' },
    retry: false,
  });
  const scheduler = new RefreshScheduler({ manager, aheadSeconds: 300, intervalMs: 10 });
  const member = storeKey('slot-user', 'hubspot');

  // A login whose token expires within the scheduler's window: recorded in the sorted set.
  const first = { ...(await login(sandbox.url)), expiresAt: Date.now() + 60_000 };
  await manager.save('slot-user', 'hubspot', first);
  expect(Number(await client.zscore('slots:schedule', member))).toBe(first.expiresAt);

  // A pass that fails (the provider answers 503): counted in the failures hash, postponed.
  sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'http503', times: 1 });
  expect(await scheduler.tick()).toMatchObject({ due: 1, failed: 1 });
  expect(await client.hget('slots:schedule:failures', member)).toBe('1');
  // The failure note other processes' waiters read lives about a second; the next try comes after it.
  expect(await client.exists(`lock:failed:refresh:${member}`)).toBe(1);
  await until('the failure note to expire', async () => (await client.exists(`lock:failed:refresh:${member}`)) === 0, 5000);

  // Make it due again at once: the next pass refreshes it, moves its score, clears its failure count.
  await client.zadd('slots:schedule', Date.now(), member);
  expect(await scheduler.tick()).toMatchObject({ due: 1, refreshed: 1 });
  const refreshed = await manager.get('slot-user', 'hubspot');
  expect(refreshed?.refreshToken).not.toBe(first.refreshToken);
  expect(Number(await client.zscore('slots:schedule', member))).toBe(refreshed?.expiresAt);
  expect(await client.hget('slots:schedule:failures', member)).toBeNull();

  // The provider drops the grant: invalid_grant retires the record, leaves a failure note, unschedules.
  sandbox.revoke({ provider: 'hubspot', refreshToken: refreshed?.refreshToken });
  await expect(manager.refresh('slot-user', 'hubspot')).rejects.toBeInstanceOf(ReauthenticationRequiredError);
  expect(await manager.get('slot-user', 'hubspot')).toBeUndefined();
  expect(await client.zscore('slots:schedule', member)).toBeNull();

  await manager.save('slot-user', 'hubspot', await login(sandbox.url));
  await manager.delete('slot-user', 'hubspot');
  expect(await client.exists(`slots:${member}`)).toBe(0);

  // Everything the package does went through commands that name one key each.
  expect(commands.filter((c) => c.keys.length !== 1)).toEqual([]);
  expect(new Set(commands.map((c) => c.name))).toEqual(new Set(['get', 'set', 'del', 'eval', 'zadd', 'zrem', 'zrangebyscore', 'hincrby', 'hdel']));
  // ... and those keys really live on different shards (so a multi-key command would have failed).
  const keys = [...new Set(commands.flatMap((c) => c.keys))];
  const slots = await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key)));
  const shards = new Set(slots.map((slot) => client.slots[Number(slot)]?.[0]));
  expect(shards.size).toBeGreaterThan(1);
}, 30_000);
