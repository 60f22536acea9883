/**
 * The ioredis client for one server, a Redis Cluster or a Sentinel-managed master: fails fast while Redis
 * is down, reconnects by itself, never queues offline.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget } from './redis-config';

/** What every store of the app takes: both fit, since every command it sends names keys of one slot. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  target: Exclude<RedisTarget, { kind: 'memory' }>;
  /** A connection attempt is abandoned after this long (ms). */
  connectTimeoutMs: number;
  /** A command that gets no reply within this long fails (ms): a hung Redis gives 503, not a hang. */
  commandTimeoutMs: number;
  logger: Logger;
}

/** Reconnect every second at most, so the app recovers by itself when Redis is back. */
const retryStrategy = (times: number) => Math.min(100 * times, 1000);

/**
 * Sentinel: follow a failover. `failoverDetector` subscribes to the sentinels' +switch-master and
 * reconnects to the new master at once; `reconnectOnError` drops a connection whose server answers
 * READONLY (a master demoted behind our back), and the reconnect asks the sentinels for the master again.
 * (Without both, ioredis keeps its connection to the old master, which turns read-only: 503 for ever.)
 */
export const SENTINEL_FAILOVER_OPTIONS: Pick<RedisOptions, 'failoverDetector' | 'reconnectOnError'> = {
  failoverDetector: true,
  reconnectOnError: (err) => /^READONLY\b/.test(err.message),
};

/**
 * `enableOfflineQueue: false` and `maxRetriesPerRequest: 0`: while the connection is down every command
 * fails at once (the app answers 503) instead of waiting for a reconnect.
 */
function connect({ target, connectTimeoutMs, commandTimeoutMs }: RedisClientOptions): RedisClient {
  const common = { maxRetriesPerRequest: 0, connectTimeout: connectTimeoutMs, commandTimeout: commandTimeoutMs, connectionName: 'passport-martech-example' };
  if (target.kind === 'url') return new Redis(target.url, { ...common, enableOfflineQueue: false, retryStrategy });
  const auth = { username: target.username, password: target.password, ...(target.tls ? { tls: {} } : {}) };
  if (target.kind === 'cluster') {
    const options: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: retryStrategy,
      // Reads go to masters too: a replica may lag behind a write this app just made (a session, a token).
      scaleReads: 'master',
      redisOptions: { ...common, ...auth },
    };
    return new Cluster(target.nodes, options);
  }
  return new Redis({
    ...common,
    ...auth,
    enableOfflineQueue: false,
    retryStrategy,
    sentinels: target.sentinels,
    name: target.name,
    sentinelUsername: target.sentinelUsername,
    sentinelPassword: target.sentinelPassword,
    ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
    ...SENTINEL_FAILOVER_OPTIONS,
  });
}

export function createRedisClient(options: RedisClientOptions): RedisClient {
  const client = connect(options);
  let down = false;
  client.on('ready', () => {
    if (down) options.logger.info('Redis connection restored');
    else options.logger.debug('Redis connected');
    down = false;
  });
  client.on('error', (err: Error & { code?: string }) => {
    // Logged once per outage; ioredis reports every failed reconnect attempt.
    if (!down) options.logger.warn({ code: err.code, message: err.message }, 'Redis unavailable; answering 503 until it is back');
    down = true;
  });
  client.on('close', () => {
    if (!down && client.status !== 'end') options.logger.warn('Redis connection closed; reconnecting');
    down = true;
  });
  return client;
}

/** Resolves when the client is ready, rejects after `timeoutMs`. */
export function waitForRedis(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/**
 * Closes the connection: QUIT when connected (replies in flight arrive first), then a disconnect, which
 * also closes the Sentinel subscriptions of `failoverDetector`: QUIT leaves them open, and they keep the
 * process alive (ioredis issue #1362). No reconnect afterwards.
 */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
    } catch {
      // a hard disconnect below
    }
  }
  client.disconnect(false);
}

/** ioredis errors that mean "Redis is unreachable right now" (as opposed to a bad command). */
export function isRedisUnavailable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const { name, code, message } = err as { name?: unknown; code?: unknown; message?: unknown };
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  // Error replies that mean "this Redis cannot serve right now" (out of memory, a replica after failover,
  // a failed snapshot, ...) are an outage to the user too: 503, not 500.
  return (
    typeof message === 'string' &&
    /enableOfflineQueue|Connection is closed|Command timed out|Command aborted|Stream isn't writeable|LOADING|connect ETIMEDOUT|^(OOM|READONLY|MISCONF|NOREPLICAS|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MOVED|ASK)\b/i.test(message)
  );
}
