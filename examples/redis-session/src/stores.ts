/**
 * Where the app keeps its state: sessions, accounts (with the session index for "Log out everywhere")
 * and provider tokens, all in one Redis (a single server, a Cluster or a Sentinel-managed master), or all
 * in this process in memory mode (`REDIS_URL=memory`). README "Redis Cluster: key layout" says which
 * keys share a slot, and why.
 */
import { MemoryStore, type Store } from 'express-session';
import type { Logger } from 'pino';
import { MemoryTokenStore, RedisTokenStore, type TokenStore } from '@passport-martech/refresh';
import { MemoryAccountStore, RedisAccountStore, type AccountStore } from './accounts';
import type { AppConfig } from './config';
import { writeProbe, type Readiness } from './readiness';
import { closeRedis, createRedisClient, type RedisClient } from './redis';
import { MemorySessionIndex, RedisSessionIndex, type SessionIndex } from './session-index';
import { ThrottledTouchRedisStore } from './session-store';

export const SESSION_PREFIX = 'sess:';
export const TOKEN_PREFIX = 'tokens:';
export const ACCOUNT_PREFIX = 'app:';

export interface Stores {
  /** The ioredis client the stores share (undefined in memory mode). */
  redis?: RedisClient;
  memory: boolean;
  sessionStore: Store;
  accounts: AccountStore;
  tokenStore: TokenStore;
  sessionIndex: SessionIndex;
  /** Tokens are encrypted at rest with this key (TOKEN_ENCRYPTION_KEY). */
  encryptionKey?: string;
  /** True when the session store can be used right now. */
  healthy(): boolean;
  /** Whether Redis takes a write right now (readiness.ts); always ready in memory mode. */
  readiness(): Promise<Readiness>;
  /** Quits every Redis connection the stores opened. */
  close(): Promise<void>;
}

export function createStores(config: AppConfig, logger: Logger): Stores {
  // Validated by loadConfig with the refresh package's own parser; RedisTokenStore takes the string as is.
  const encryptionKey = config.tokenEncryptionKey || undefined;
  if (config.redis.kind === 'memory') {
    return {
      memory: true,
      sessionStore: new MemoryStore(),
      accounts: new MemoryAccountStore(),
      tokenStore: new MemoryTokenStore(),
      sessionIndex: new MemorySessionIndex(),
      encryptionKey,
      healthy: () => true,
      readiness: async () => ({ ready: true }),
      close: async () => undefined,
    };
  }
  const target = config.redis;
  const connect = () => createRedisClient({ target, connectTimeoutMs: config.redisConnectTimeoutMs, commandTimeoutMs: config.redisCommandTimeoutMs, logger });
  const redis = connect();
  // WAIT (replicaAcks) holds its connection until the replicas answer: on a connection of its own, a
  // save that waits for a lagging replica during a failover does not hold up every session read.
  const tokenRedis = config.redisReplicaAcks > 0 ? connect() : redis;
  if (!encryptionKey) {
    logger.warn(
      'TOKEN_ENCRYPTION_KEY is not set: provider tokens (refresh tokens included) are stored in Redis unencrypted. Set it to 32 random bytes (e.g. `openssl rand -hex 32`).',
    );
  }
  return {
    redis,
    memory: false,
    // EXPIRE at most once per SESSION_TOUCH_SECONDS per session, not after every request, and no write
    // brings back a session that a logout ended (session-store.ts).
    sessionStore: new ThrottledTouchRedisStore({
      client: redis,
      prefix: SESSION_PREFIX,
      ttl: config.sessionTtlSeconds,
      touchIntervalMs: config.sessionTouchSeconds * 1000,
      onEndedSessionWrite: () => logger.info('a request of a session that was logged out meanwhile ended; the session stays ended'),
    }),
    accounts: new RedisAccountStore(redis, ACCOUNT_PREFIX),
    sessionIndex: new RedisSessionIndex(redis, SESSION_PREFIX, ACCOUNT_PREFIX),
    tokenStore: new RedisTokenStore({
      client: tokenRedis,
      prefix: TOKEN_PREFIX,
      encryptionKey,
      replicaAcks: config.redisReplicaAcks,
      onCorruptRecord: (report) => logger.warn({ key: report.key, reason: report.reason }, 'unreadable token record treated as absent'),
    }),
    encryptionKey,
    healthy: () => redis.status === 'ready',
    readiness: writeProbe(redis, ACCOUNT_PREFIX),
    close: async () => {
      await Promise.all([...new Set([redis, tokenRedis])].map((client) => closeRedis(client)));
    },
  };
}
