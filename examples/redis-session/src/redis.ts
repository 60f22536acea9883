/** The ioredis client: fails fast while Redis is down, reconnects by itself, never queues offline. */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisClientOptions {
  url: string;
  /** A connection attempt is abandoned after this long (ms). */
  connectTimeoutMs: number;
  /** A command that gets no reply within this long fails (ms): a hung Redis gives 503, not a hang. */
  commandTimeoutMs: number;
  logger: Logger;
}

/**
 * `enableOfflineQueue: false` and `maxRetriesPerRequest: 0`: while the connection is down every command
 * fails at once (the app answers 503) instead of waiting for a reconnect. `retryStrategy` keeps trying
 * every second at most, so the app recovers by itself when Redis is back.
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    connectionName: 'passport-martech-example',
  });
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
export function waitForRedis(client: Redis, timeoutMs: number): Promise<void> {
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

/** Closes the connection: QUIT when connected, else just disconnect (no reconnect afterwards). */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through to a hard disconnect
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
    /enableOfflineQueue|Connection is closed|Command timed out|Command aborted|Stream isn't writeable|LOADING|connect ETIMEDOUT|^(OOM|READONLY|MISCONF|NOREPLICAS|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/i.test(message)
  );
}
