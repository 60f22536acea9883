/** Which Redis the app uses: REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS, with auth and TLS. */
import { Cluster, Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { closeRedis, createRedisClient, SENTINEL_FAILOVER_OPTIONS } from '../src/redis';
import { describeRedisTarget } from '../src/redis-config';

const SECRET = 'x'.repeat(40);

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ SESSION_SECRET: SECRET, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('REDIS_CLUSTER_NODES: host:port list (IPv6 in brackets), with username, password and TLS', () => {
  const { redis } = loadConfig({ SESSION_SECRET: SECRET, REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b.internal:7001,[::1]:7002', REDIS_USERNAME: 'app', REDIS_PASSWORD: 'pw', REDIS_TLS: 'true' });
  expect(redis).toEqual({
    kind: 'cluster',
    nodes: [
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
      { host: '::1', port: 7002 },
    ],
    username: 'app',
    password: 'pw',
    tls: true,
  });
  expect(describeRedisTarget(redis)).toBe('Redis Cluster via 10.0.0.1:7000,redis-b.internal:7001,[::1]:7002 (TLS)');
});

test('REDIS_SENTINELS needs REDIS_SENTINEL_NAME; the sentinels may have their own credentials', () => {
  expect(problems({ REDIS_SENTINELS: '10.0.0.1:26379' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME is required with REDIS_SENTINELS/)]);
  const { redis } = loadConfig({ SESSION_SECRET: SECRET, REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_SENTINEL_PASSWORD: 'spw' });
  expect(redis).toMatchObject({ kind: 'sentinel', name: 'mymaster', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }], sentinelPassword: 'spw', tls: false });
});

test('one problem per mistake, and never a password in a message', () => {
  expect(problems({ REDIS_URL: 'redis://:hunter2@a:6379', REDIS_CLUSTER_NODES: 'a:1' })).toEqual(['REDIS_URL and REDIS_CLUSTER_NODES are both set: use one (a single server, a Cluster, or Sentinel)']);
  expect(problems({ REDIS_CLUSTER_NODES: 'a:1,b,user:hunter2@c:3,d:70000' })).toEqual([
    'REDIS_CLUSTER_NODES must be a comma-separated list of host:port (like 10.0.0.1:6379,10.0.0.2:6379) (got "b")',
    'REDIS_CLUSTER_NODES must be a comma-separated list of host:port (like 10.0.0.1:6379,10.0.0.2:6379) (got "***@c:3")',
    'REDIS_CLUSTER_NODES must be a comma-separated list of host:port (like 10.0.0.1:6379,10.0.0.2:6379) (got "d:70000")',
  ]);
  expect(problems({ REDIS_CLUSTER_NODES: ' , ' })).toEqual(['REDIS_CLUSTER_NODES must name at least one host:port']);
  expect(problems({ REDIS_CLUSTER_NODES: 'a:1', REDIS_TLS: 'yes' })).toEqual(['REDIS_TLS must be one of true, false (got "yes")']);
  // With REDIS_URL they would be ignored: the URL carries its own credentials and scheme.
  expect(problems({ REDIS_URL: 'redis://a:6379', REDIS_PASSWORD: 'hunter2' })).toEqual([expect.stringMatching(/^REDIS_PASSWORD applies to REDIS_CLUSTER_NODES or REDIS_SENTINELS only/)]);
  expect(describeRedisTarget(loadConfig({ SESSION_SECRET: SECRET, REDIS_URL: 'rediss://app:hunter2@a:6380' }).redis)).toBe('rediss://***@a:6380');
  // Sentinel-only variables beside a Cluster or a URL: refused, not ignored.
  expect(problems({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINEL_NAME: 'mymaster' })).toEqual(['REDIS_SENTINEL_NAME applies to REDIS_SENTINELS only']);
  expect(problems({ REDIS_URL: 'redis://a:6379', REDIS_SENTINEL_PASSWORD: 'spw' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_PASSWORD applies to/)]);
});

test('REDIS_REPLICA_ACKS: for a server or Sentinel, refused with a Cluster', () => {
  expect(loadConfig({ SESSION_SECRET: SECRET, REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm', REDIS_REPLICA_ACKS: '1' }).redisReplicaAcks).toBe(1);
  expect(loadConfig({ SESSION_SECRET: SECRET }).redisReplicaAcks).toBe(0);
  expect(problems({ REDIS_CLUSTER_NODES: 'a:1', REDIS_REPLICA_ACKS: '1' })).toEqual([expect.stringMatching(/^REDIS_REPLICA_ACKS cannot be used with REDIS_CLUSTER_NODES/)]);
});

test('the client per kind: a Cluster, or a Redis that follows Sentinel failovers; TLS and auth passed on', async () => {
  const logger = createLogger('silent');
  const common = { connectTimeoutMs: 100, commandTimeoutMs: 100, logger };
  const cluster = createRedisClient({ ...common, target: { kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 1 }], username: 'app', password: 'pw', tls: true } });
  const sentinel = createRedisClient({ ...common, target: { kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'm', password: 'pw', tls: true, sentinelPassword: 'spw' } });
  try {
    expect(cluster).toBeInstanceOf(Cluster);
    expect((cluster as Cluster).options).toMatchObject({ enableOfflineQueue: false, scaleReads: 'master', redisOptions: { username: 'app', password: 'pw', tls: {}, maxRetriesPerRequest: 0 } });
    expect(sentinel).toBeInstanceOf(Redis);
    expect((sentinel as Redis).options).toMatchObject({ name: 'm', password: 'pw', sentinelPassword: 'spw', tls: {}, enableTLSForSentinelMode: true, failoverDetector: true, enableOfflineQueue: false });
    // A demoted master's READONLY reply drops the connection (the reconnect asks the sentinels again).
    const reconnect = SENTINEL_FAILOVER_OPTIONS.reconnectOnError as (err: Error) => boolean;
    expect(reconnect(new Error("READONLY You can't write against a read only replica."))).toBe(true);
    expect(reconnect(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
  } finally {
    await Promise.all([closeRedis(cluster), closeRedis(sentinel)]);
  }
});
