import { ErrorCode, OAuthTokenError, expiresWithin, isRecord } from '@passport-martech/oauth2';
import type { TokenSet } from '@passport-martech/oauth2';
import { ReauthenticationReason, ReauthenticationRequiredError, RefreshLockTimeoutError } from './errors';
import { storeKey } from './keys';
import type { RefreshLock } from './lock';
import type { RedisClient } from './redis';
import type { RefreshParams } from './refresher';
import type { TokenStore } from './stores/types';

/** What TokenManager needs from a refresher: a TokenRefresher, or anything with the same `refresh`. */
export interface Refresher {
  refresh(name: string, refreshToken: string, params?: RefreshParams): Promise<TokenSet>;
}

export interface RetryOptions {
  /** Tries in all, the first included; default 3. 1 turns retrying off. */
  attempts?: number;
  /** Backoff base in milliseconds; default 100. Try n waits a random time in [0, min(max, base * 2^(n-1))). */
  baseDelayMs?: number;
  /** Backoff cap in milliseconds; default 2 000. */
  maxDelayMs?: number;
}

export interface ScheduleOptions {
  /** An ioredis client: each saved token's expiry is recorded in a sorted set for RefreshScheduler. */
  client: RedisClient;
  /** The sorted set's key; default `refresh:schedule`. */
  key?: string;
}

/** Decides whether an API answer means "this access token is no longer accepted". */
export type TokenRejectedCheck = (response: Response) => boolean | Promise<boolean>;

/** Why a refresh ran. */
export type RefreshTrigger = 'expiry' | 'rejected' | 'scheduled' | 'manual';

export interface RefreshEvent {
  provider: string;
  userKey: string;
  /** Wall time of the refresh, retries and backoff included. */
  durationMs: number;
  /** The try that succeeded (1 = first). */
  attempt: number;
  trigger: RefreshTrigger;
  /** True when the provider sent a new refresh token (it was saved before anyone got the access token). */
  rotated: boolean;
}

export interface RetryEvent {
  provider: string;
  userKey: string;
  /** The try that failed. */
  attempt: number;
  delayMs: number;
  error: Error;
}

export interface RefreshErrorEvent {
  provider: string;
  userKey: string;
  error: Error;
}

export interface TokenManagerOptions {
  /** A TokenRefresher with the providers' strategies registered (`refresher.use(strategy)`). */
  refresher: Refresher;
  store: TokenStore;
  /** Refresh when the access token expires within this many seconds; default 60. */
  skewSeconds?: number;
  /** A RedisLock: one refresh per (user, provider) across every process sharing the Redis. */
  lock?: RefreshLock;
  /** How long a caller waits for another process's refresh before REFRESH_LOCK_TIMEOUT; default 2 × lock ttl + 1 s. */
  lockWaitMs?: number;
  /** How often a waiting caller looks at the store; default 50 ms. */
  lockPollMs?: number;
  /** Retries of transient failures (5xx, 429, network, timeout); `false` = one try. */
  retry?: RetryOptions | false;
  /** Record each saved token's expiry in a Redis sorted set, for RefreshScheduler. */
  schedule?: ScheduleOptions;
  /** Per provider: what counts as a rejected token in `fetch` (default: HTTP 401). */
  isTokenRejected?: Record<string, TokenRejectedCheck>;
  /** After each successful refresh. Carries no token. */
  onRefresh?: (event: RefreshEvent) => void;
  /** Before each retry. Carries no token. */
  onRetry?: (event: RetryEvent) => void;
  /** Once per failed refresh (after retries), whatever the error. Carries no token. */
  onError?: (event: RefreshErrorEvent) => void;
}

export interface FetchOptions {
  /** Overrides the provider's rejection check for this call. */
  isTokenRejected?: TokenRejectedCheck;
}

interface RunOptions {
  /** The access token the caller found unusable. */
  stale: string;
  /** Refresh even when the stored token does not expire within `skewSeconds` (it was rejected). */
  force: boolean;
  skewSeconds: number;
  trigger: RefreshTrigger;
}

const DEFAULT_SCHEDULE_KEY = 'refresh:schedule';

/**
 * Keeps access tokens valid: reads them from a store, refreshes them shortly before they expire, at
 * most once at a time per (user, provider) in this process and — with a lock — across processes.
 */
export class TokenManager {
  readonly store: TokenStore;
  readonly skewSeconds: number;
  readonly #refresher: Refresher;
  readonly #lock: RefreshLock | undefined;
  readonly #lockWaitMs: number;
  readonly #lockPollMs: number;
  readonly #retry: Required<RetryOptions>;
  readonly #schedule: { client: RedisClient; key: string } | undefined;
  readonly #rejectionChecks: Record<string, TokenRejectedCheck>;
  readonly #hooks: Pick<TokenManagerOptions, 'onRefresh' | 'onRetry' | 'onError'>;
  readonly #flights = new Map<string, Promise<TokenSet>>();

  constructor(options: TokenManagerOptions) {
    if (!options || typeof options !== 'object') throw optionError('options object is required');
    if (!options.refresher || typeof options.refresher.refresh !== 'function') throw optionError('refresher (a TokenRefresher) is required');
    if (!options.store || typeof options.store.get !== 'function') throw optionError('store (a TokenStore) is required');
    this.#refresher = options.refresher;
    this.store = options.store;
    this.skewSeconds = nonNegative('skewSeconds', options.skewSeconds ?? 60);
    this.#lock = options.lock;
    this.#lockWaitMs = nonNegative('lockWaitMs', options.lockWaitMs ?? (options.lock ? 2 * options.lock.ttlMs + 1000 : 0));
    this.#lockPollMs = positive('lockPollMs', options.lockPollMs ?? 50);
    const retry = options.retry === false ? { attempts: 1 } : (options.retry ?? {});
    this.#retry = {
      attempts: positiveInteger('retry.attempts', retry.attempts ?? 3),
      baseDelayMs: nonNegative('retry.baseDelayMs', retry.baseDelayMs ?? 100),
      maxDelayMs: nonNegative('retry.maxDelayMs', retry.maxDelayMs ?? 2000),
    };
    if (options.schedule) {
      if (!options.schedule.client) throw optionError('schedule.client (an ioredis client) is required');
      this.#schedule = { client: options.schedule.client, key: options.schedule.key ?? DEFAULT_SCHEDULE_KEY };
    }
    this.#rejectionChecks = { ...options.isTokenRejected };
    this.#hooks = { onRefresh: options.onRefresh, onRetry: options.onRetry, onError: options.onError };
  }

  /** The sorted set tokens are scheduled in, when `schedule` was given. */
  get schedule(): { readonly client: RedisClient; readonly key: string } | undefined {
    return this.#schedule;
  }

  /** Stores a token set (after a login, say) and schedules it by expiry. */
  async save(userKey: string, provider: string, tokens: TokenSet): Promise<void> {
    checkKeys(userKey, provider);
    if (!isRecord(tokens) || typeof tokens.accessToken !== 'string' || tokens.accessToken === '') {
      throw new TypeError('@passport-martech/refresh: save() needs a TokenSet with an accessToken');
    }
    const key = storeKey(userKey, provider);
    await this.store.set(key, tokens);
    if (this.#schedule) {
      if (tokens.expiresAt !== undefined && tokens.refreshToken) await this.#schedule.client.zadd(this.#schedule.key, tokens.expiresAt, key);
      else await this.#schedule.client.zrem(this.#schedule.key, key);
    }
  }

  /** The stored token set, whatever its expiry; undefined when there is none. */
  async get(userKey: string, provider: string): Promise<TokenSet | undefined> {
    checkKeys(userKey, provider);
    return this.store.get(storeKey(userKey, provider));
  }

  /** Forgets the tokens (logout, unlink). Does not call the provider. */
  async delete(userKey: string, provider: string): Promise<void> {
    checkKeys(userKey, provider);
    const key = storeKey(userKey, provider);
    await this.store.delete(key);
    if (this.#schedule) await this.#schedule.client.zrem(this.#schedule.key, key);
  }

  /**
   * A valid access token: the stored one when it is valid for more than `skewSeconds`, else a
   * refreshed one (shared with every concurrent caller). Throws ReauthenticationRequiredError when the
   * user must log in again, the provider's typed error after the bounded retries, or
   * RefreshLockTimeoutError when another process's refresh did not finish within the wait bound.
   */
  async getAccessToken(userKey: string, provider: string): Promise<string> {
    return (await this.getTokenSet(userKey, provider)).accessToken;
  }

  /** Like getAccessToken, with the whole TokenSet. */
  async getTokenSet(userKey: string, provider: string): Promise<TokenSet> {
    checkKeys(userKey, provider);
    const current = await this.store.get(storeKey(userKey, provider));
    if (!current) throw new ReauthenticationRequiredError({ provider, userKey, reason: 'no_tokens' });
    if (!expiresWithin(current, this.skewSeconds)) return current;
    return this.#shared(userKey, provider, { stale: current.accessToken, force: false, skewSeconds: this.skewSeconds, trigger: 'expiry' });
  }

  /**
   * Refreshes now, whatever the expiry (shared and locked like any refresh): for a token the provider
   * rejected. `rejectedAccessToken` (default: the stored one) is the token known bad; if the store
   * already holds another, valid one, that one is returned without a new refresh.
   */
  async refresh(userKey: string, provider: string, rejectedAccessToken?: string): Promise<TokenSet> {
    checkKeys(userKey, provider);
    let stale = rejectedAccessToken;
    if (stale === undefined) {
      const current = await this.store.get(storeKey(userKey, provider));
      if (!current) throw new ReauthenticationRequiredError({ provider, userKey, reason: 'no_tokens' });
      stale = current.accessToken;
    }
    const trigger: RefreshTrigger = rejectedAccessToken === undefined ? 'manual' : 'rejected';
    return this.#shared(userKey, provider, { stale, force: true, skewSeconds: this.skewSeconds, trigger });
  }

  /**
   * Refreshes when the stored token expires within `aheadSeconds` (the scheduler's call). Resolves the
   * token set now stored, refreshed or not; undefined when nothing is stored.
   */
  async refreshIfExpiring(userKey: string, provider: string, aheadSeconds: number): Promise<TokenSet | undefined> {
    checkKeys(userKey, provider);
    const current = await this.store.get(storeKey(userKey, provider));
    if (!current) return undefined;
    if (!expiresWithin(current, aheadSeconds)) return current;
    return this.#shared(userKey, provider, { stale: current.accessToken, force: false, skewSeconds: aheadSeconds, trigger: 'scheduled' });
  }

  /**
   * `fetch` with `Authorization: Bearer <token>`. When the answer says the token was rejected (HTTP 401,
   * or the provider's check — e.g. Marketo's 601/602 in a 200), the token is refreshed once and the
   * request sent once more. A request whose body is a stream is not sent twice.
   */
  async fetch(userKey: string, provider: string, url: string | URL, init: RequestInit = {}, options: FetchOptions = {}): Promise<Response> {
    const rejected = options.isTokenRejected ?? this.#rejectionChecks[provider] ?? ((response: Response) => response.status === 401);
    const token = await this.getAccessToken(userKey, provider);
    const first = await fetch(url, withBearer(init, token));
    if (!(await rejected(first)) || !replayable(init.body)) return first;
    await first.body?.cancel().catch(() => undefined);
    let fresh = await this.refresh(userKey, provider, token);
    // A concurrent refresh may have handed back the very token just rejected: refresh once more.
    if (fresh.accessToken === token) fresh = await this.refresh(userKey, provider, token);
    return fetch(url, withBearer(init, fresh.accessToken));
  }

  #shared(userKey: string, provider: string, options: RunOptions): Promise<TokenSet> {
    const flightKey = `${userKey}\u0000${provider}`;
    const existing = this.#flights.get(flightKey);
    if (existing) return existing;
    const flight = this.#run(userKey, provider, options)
      .catch((error: Error) => {
        if (!(error instanceof ReauthenticationRequiredError && error.reason === 'no_tokens' && options.trigger === 'scheduled')) {
          this.#emit('onError', { provider, userKey, error });
        }
        throw error;
      })
      .finally(() => {
        if (this.#flights.get(flightKey) === flight) this.#flights.delete(flightKey);
      });
    this.#flights.set(flightKey, flight);
    return flight;
  }

  async #run(userKey: string, provider: string, options: RunOptions): Promise<TokenSet> {
    const key = storeKey(userKey, provider);
    const usable = (tokens: TokenSet) =>
      (tokens.accessToken !== options.stale && !expiresWithin(tokens, 0)) || (!options.force && !expiresWithin(tokens, options.skewSeconds));
    const read = async () => {
      const tokens = await this.store.get(key);
      if (!tokens) throw this.#reauth(userKey, provider, 'no_tokens');
      return tokens;
    };

    const lock = this.#lock;
    if (!lock) {
      // Another caller may have finished a refresh between this caller's read and now.
      const current = await read();
      return usable(current) ? current : this.#refreshWithRetry(userKey, provider, current, options.trigger);
    }

    const lockName = `refresh:${key}`;
    const started = Date.now();
    for (;;) {
      const current = await read();
      if (usable(current)) return current;
      const token = await lock.acquire(lockName);
      if (token !== null) {
        const watchdog = lock.extend ? keepAlive(lock, lockName, token) : undefined;
        try {
          // The previous holder may have saved between our read and our acquire.
          const latest = await read();
          if (usable(latest)) return latest;
          return await this.#refreshWithRetry(userKey, provider, latest, options.trigger);
        } finally {
          if (watchdog) clearInterval(watchdog);
          await lock.release(lockName, token).catch(() => false);
        }
      }
      const waited = Date.now() - started;
      if (waited >= this.#lockWaitMs) {
        throw new RefreshLockTimeoutError({ provider, userKey, waitedMs: waited, lockName: lockName });
      }
      await sleep(Math.min(this.#lockPollMs, this.#lockWaitMs - waited));
    }
  }

  async #refreshWithRetry(userKey: string, provider: string, current: TokenSet, trigger: RefreshTrigger): Promise<TokenSet> {
    const refreshToken = current.refreshToken;
    if (!refreshToken) throw this.#reauth(userKey, provider, 'no_refresh_token');
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let fresh: TokenSet;
      try {
        fresh = await this.#refresher.refresh(provider, refreshToken);
      } catch (error) {
        if (isInvalidGrant(error)) {
          await this.#purge(userKey, provider, refreshToken);
          throw this.#reauth(userKey, provider, 'invalid_grant', error);
        }
        if (attempt < this.#retry.attempts && isTransient(error)) {
          const delayMs = Math.floor(Math.random() * Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1)));
          this.#emit('onRetry', { provider, userKey, attempt, delayMs, error: error as Error });
          await sleep(delayMs);
          continue;
        }
        throw error;
      }
      const rotated = fresh.refreshToken !== undefined && fresh.refreshToken !== refreshToken;
      // No refresh token in the answer: the old one stays valid (RFC 6749 6), keep it.
      const tokens: TokenSet = fresh.refreshToken ? fresh : { ...fresh, refreshToken };
      // Saved before the flight resolves: nobody sees the new access token before the store has the new refresh token.
      await this.save(userKey, provider, tokens);
      this.#emit('onRefresh', { provider, userKey, durationMs: Date.now() - started, attempt, trigger, rotated });
      return tokens;
    }
  }

  /** Deletes the tokens after invalid_grant, unless a new login stored other tokens meanwhile. */
  async #purge(userKey: string, provider: string, failedRefreshToken: string): Promise<void> {
    const stored = await this.store.get(storeKey(userKey, provider));
    if (!stored || stored.refreshToken === failedRefreshToken) await this.delete(userKey, provider);
  }

  #reauth(userKey: string, provider: string, reason: ReauthenticationReason, cause?: unknown): ReauthenticationRequiredError {
    return new ReauthenticationRequiredError({ provider, userKey, reason, cause });
  }

  #emit<K extends 'onRefresh' | 'onRetry' | 'onError'>(hook: K, event: Parameters<NonNullable<TokenManagerOptions[K]>>[0]): void {
    const fn = this.#hooks[hook] as ((event: unknown) => void) | undefined;
    if (!fn) return;
    try {
      fn(event);
    } catch {
      // a logging hook must not break a refresh
    }
  }
}

/** `invalid_grant` from the provider (HubSpot's BAD_REFRESH_TOKEN arrives mapped to it). */
export function isInvalidGrant(error: unknown): boolean {
  return error instanceof OAuthTokenError ? error.code === 'invalid_grant' : isRecord(error) && error.code === 'invalid_grant';
}

/** Worth another try: network failure, timeout, 5xx, 429, `temporarily_unavailable`. */
export function isTransient(error: unknown): boolean {
  if (!isRecord(error) && !(error instanceof Error)) return false;
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (code === ErrorCode.NETWORK || code === ErrorCode.TIMEOUT || code === 'temporarily_unavailable') return true;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

function keepAlive(lock: RefreshLock, name: string, token: string): NodeJS.Timeout {
  const timer = setInterval(() => {
    lock.extend?.(name, token).catch(() => false);
  }, Math.max(10, Math.floor(lock.ttlMs / 3)));
  timer.unref();
  return timer;
}

function withBearer(init: RequestInit, accessToken: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${accessToken}`);
  return { ...init, headers };
}

function replayable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || !(typeof (body as { getReader?: unknown }).getReader === 'function' || Symbol.asyncIterator in Object(body));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function checkKeys(userKey: string, provider: string): void {
  if (typeof userKey !== 'string' || userKey === '') throw new TypeError('@passport-martech/refresh: userKey must be a non-empty string');
  if (typeof provider !== 'string' || provider === '') throw new TypeError('@passport-martech/refresh: provider must be a non-empty string');
}

function optionError(detail: string): TypeError {
  return new TypeError(`@passport-martech/refresh: TokenManager: ${detail}`);
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw optionError(`${name} must be a number >= 0`);
  return value;
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw optionError(`${name} must be a number > 0`);
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw optionError(`${name} must be an integer >= 1`);
  return value;
}
