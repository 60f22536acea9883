/**
 * The server's configuration from environment variables (each provider's: provider-config.ts), validated
 * once at start. Every wrong value gets its own line in one ConfigError, so a person fixes them all in
 * one go.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, EnvReader, isEncryptionKey, type Env } from './env';
import { readProviders, type ProvidersConfig } from './provider-config';
import { readRedisTarget, readReplicaAcks, type RedisTarget } from './redis-config';

export { ConfigError };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface AppConfig {
  port: number;
  host: string;
  /** Origin the browser uses, without a trailing slash; callback URLs are built from it. */
  baseUrl: string;
  sessionSecret: string;
  sessionTtlSeconds: number;
  /** A session's expiry in Redis is pushed at most this often per instance (0 = on every request). */
  sessionTouchSeconds: number;
  /** One server (`REDIS_URL`), a Cluster, Sentinel, or in-process stores (`REDIS_URL=memory`, one process only). */
  redis: RedisTarget;
  /** Replicas that must have a refreshed token set before it counts as saved (RedisTokenStore `replicaAcks`). */
  redisReplicaAcks: number;
  redisConnectTimeoutMs: number;
  redisCommandTimeoutMs: number;
  /** 32-byte key as 64 hex chars or base64; tokens are stored encrypted when set. */
  tokenEncryptionKey?: string;
  /** Express `trust proxy`. */
  trustProxy: boolean | number;
  /** Requests to /auth/* per minute per client address (0 = no limit). */
  authRateLimit: number;
  /** HTTP server limits (server.ts): all of a request's headers / the whole request must arrive within these. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; further ones are closed at once (0 = no cap). */
  maxConnections: number;
  logLevel: LogLevel;
  /** When set, `GET /metrics` serves the token-traffic counters to `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** Demo mode: providers point at this sandbox with its demo clients. */
  sandboxUrl?: string;
  /** Milliseconds per request to a provider (every provider's `timeoutMs`). */
  providerTimeoutMs: number;
  providers: ProvidersConfig;
}

/**
 * Reads and checks the configuration. Throws ConfigError listing every problem. With SANDBOX_URL set
 * (demo mode) every provider is configured against the sandbox, and a missing SESSION_SECRET or
 * TOKEN_ENCRYPTION_KEY is generated.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const r = new EnvReader(env);
  const sandboxUrl = r.url('SANDBOX_URL', { protocols: ['http:', 'https:'] });
  const demo = sandboxUrl !== undefined || r.get('SANDBOX_URL') !== undefined;

  const port = r.integer('PORT', 3000, 0, 65535);
  const host = r.get('HOST') ?? '127.0.0.1';
  let baseUrl = r.url('BASE_URL', { originOnly: true });
  if (baseUrl === undefined && r.get('BASE_URL') === undefined) {
    if (port === 0) r.problem('BASE_URL', 'is required when PORT is 0 (the callback URLs need the real port)');
    baseUrl = `http://localhost:${port}`;
  }
  const https = baseUrl?.startsWith('https:') ?? false;

  let sessionSecret = r.get('SESSION_SECRET');
  if (sessionSecret === undefined) {
    if (demo) sessionSecret = randomBytes(32).toString('base64url');
    else r.problem('SESSION_SECRET', 'is required (32+ random characters, e.g. `openssl rand -base64 32`); only demo mode generates one');
  } else if (sessionSecret.length < 32) {
    r.problems.push(`SESSION_SECRET must be at least 32 characters (got ${sessionSecret.length})`);
  }
  const sessionTtlSeconds = r.integer('SESSION_TTL_SECONDS', 86400, 60, 365 * 86400);
  // An idle session expires between TTL - touch and TTL after its last request: keep the touch small.
  const touchDefault = Math.min(60, Math.floor(sessionTtlSeconds / 10));
  let sessionTouchSeconds = r.integer('SESSION_TOUCH_SECONDS', touchDefault, 0, 365 * 86400);
  if (sessionTouchSeconds > sessionTtlSeconds / 2) {
    r.problem('SESSION_TOUCH_SECONDS', `must be at most half of SESSION_TTL_SECONDS, here ${Math.floor(sessionTtlSeconds / 2)}`, String(sessionTouchSeconds));
    sessionTouchSeconds = touchDefault;
  }

  const redis = readRedisTarget(r);
  const redisReplicaAcks = readReplicaAcks(r, redis);
  const redisConnectTimeoutMs = r.integer('REDIS_CONNECT_TIMEOUT_MS', 1000, 50, 60_000);
  const redisCommandTimeoutMs = r.integer('REDIS_COMMAND_TIMEOUT_MS', 800, 50, 60_000);

  let tokenEncryptionKey = r.get('TOKEN_ENCRYPTION_KEY');
  if (tokenEncryptionKey !== undefined && !isEncryptionKey(tokenEncryptionKey)) {
    r.problems.push('TOKEN_ENCRYPTION_KEY must be 32 bytes as 64 hex characters or 44 base64 characters (e.g. `openssl rand -hex 32`)');
    tokenEncryptionKey = undefined;
  }
  if (tokenEncryptionKey === undefined && demo) tokenEncryptionKey = randomBytes(32).toString('hex');

  let trustProxy: boolean | number = https ? 1 : false;
  const trust = r.get('TRUST_PROXY');
  if (trust !== undefined) {
    if (trust === 'true') trustProxy = true;
    else if (trust === 'false') trustProxy = false;
    else if (/^\d{1,2}$/.test(trust)) trustProxy = Number(trust);
    else r.problem('TRUST_PROXY', 'must be true, false or a number of proxy hops', trust);
  }
  const logLevel = r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info');
  const metricsToken = r.get('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 32) r.problems.push(`METRICS_TOKEN must be at least 32 characters (got ${metricsToken.length})`);
  const authRateLimit = r.integer('AUTH_RATE_LIMIT', 30, 0, 1_000_000);
  const headersTimeoutMs = r.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = r.integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000);
  if (requestTimeoutMs < headersTimeoutMs) {
    r.problem('HTTP_REQUEST_TIMEOUT_MS', `must be at least HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs})`, String(requestTimeoutMs));
  }
  const keepAliveTimeoutMs = r.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 65_000, 100, 600_000);
  const maxConnections = r.integer('MAX_CONNECTIONS', 1000, 0, 1_000_000);

  const providerTimeoutMs = r.integer('PROVIDER_TIMEOUT_MS', 10_000, 100, 120_000);
  const providers = readProviders(r, sandboxUrl, providerTimeoutMs);

  if (r.problems.length) throw new ConfigError(r.problems);
  return {
    port,
    host,
    baseUrl: baseUrl as string,
    sessionSecret: sessionSecret as string,
    sessionTtlSeconds,
    sessionTouchSeconds,
    redis,
    redisReplicaAcks,
    redisConnectTimeoutMs,
    redisCommandTimeoutMs,
    tokenEncryptionKey,
    trustProxy,
    authRateLimit,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    maxConnections,
    logLevel,
    metricsToken,
    sandboxUrl,
    providerTimeoutMs,
    providers,
  };
}
