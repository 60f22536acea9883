/** TokenManager's public options and events, and the checks its constructor runs on them. */
import type { TokenSet } from '@passport-martech/oauth2';
import type { RefreshLock } from './lock';
import type { RedisClient } from './redis';
import type { RefreshParams } from './refresher';
import type { TokenStore } from './stores/types';

/** What TokenManager needs from a refresher: a TokenRefresher, or anything with the same `refresh`. */
export interface Refresher {
  refresh(name: string, refreshToken: string, params?: RefreshParams): Promise<TokenSet>;
  /**
   * The longest one `refresh(name, ...)` can take, in milliseconds (TokenRefresher reports the
   * strategy's timeout). Only used to derive the default `lockWaitMs`; 10 000 when absent.
   */
  timeoutFor?(name: string): number | undefined;
  /**
   * The registered strategy's "token rejected" rule for `fetch` (TokenRefresher: the strategy's
   * `isTokenRejected`), used when `isTokenRejected` names none for that provider.
   */
  rejectionCheck?(name: string): TokenRejectedCheck | undefined;
  /** RFC 7009 revocation through the registered strategy (TokenRefresher.revoke), for `TokenManager.revoke`. */
  revoke?(name: string, token: string, tokenTypeHint: 'refresh_token' | 'access_token'): Promise<void>;
}

export interface RevokeOptions {
  /**
   * When the provider does not revoke (it refuses, cannot be reached, or has no revocation endpoint):
   * `false` (default) deletes the stored tokens anyway and reports the error in the result; `true`
   * keeps them and rejects with the error, so the app can try again.
   */
  keepTokensOnError?: boolean;
}

export interface RevokeResult {
  /** The provider confirmed the revocation. */
  revoked: boolean;
  /** The stored token set was deleted here. */
  deleted: boolean;
  /** Why the provider did not revoke: `OAUTH_REVOCATION_UNSUPPORTED`, the provider's typed error, a network one. */
  error?: Error;
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

/**
 * What failed: `refresh_failed` — the refresh (after its retries; the error is also thrown to the
 * callers); `save_failed` — the store refused a refreshed token set after three quick tries: it is
 * served from this process's memory and saved in the background (the lock held meanwhile) until the
 * store takes it or `close()`; `schedule_failed` — recording the expiry for RefreshScheduler (nothing
 * else failed; the token still refreshes on demand); `invalid_answer` — the provider's refresh answer
 * broke a limit (see README, "Hostile answers"): its tokens were kept, the rest trimmed.
 */
export type RefreshErrorReason = 'refresh_failed' | 'save_failed' | 'schedule_failed' | 'invalid_answer' | 'revoke_failed';

export interface RefreshErrorEvent {
  provider: string;
  userKey: string;
  error: Error;
  reason: RefreshErrorReason;
}

export interface TokenManagerOptions {
  /** A TokenRefresher with the providers' strategies registered (`refresher.use(strategy)`). */
  refresher: Refresher;
  store: TokenStore;
  /** Refresh when the access token expires within this many seconds; default 60. */
  skewSeconds?: number;
  /** A RedisLock: one refresh per (user, provider) across every process sharing the Redis. */
  lock?: RefreshLock;
  /**
   * How long a caller waits for another process's refresh before REFRESH_LOCK_TIMEOUT. Default: the
   * longest a live holder can take plus a dead holder's lock lifetime — `retry.attempts` × the
   * strategy's timeout (`refresher.timeoutFor(provider)`, else 10 s) + the backoff waits' caps +
   * `lock.ttlMs` + 1 s; 41.3 s with every default. Lower it where a request should rather fail fast.
   */
  lockWaitMs?: number;
  /** How often a waiting caller looks at the store; default 50 ms. */
  lockPollMs?: number;
  /**
   * From the moment a refresh token is presented until the new set is saved, the lock lives at least
   * this long even when it can no longer be extended (a Redis failover, a store refusing writes): no
   * other process presents the old token meanwhile. The price: a holder that crashes mid-refresh holds
   * that user's next refresh off for up to this long (callers get REFRESH_LOCK_TIMEOUT after
   * `lockWaitMs`). Default 30 000 — longer than a typical failover.
   */
  saveHoldMs?: number;
  /** Retries of transient failures (5xx, 429, network, timeout); `false` = one try. */
  retry?: RetryOptions | false;
  /** Record each saved token's expiry in a Redis sorted set, for RefreshScheduler. */
  schedule?: ScheduleOptions;
  /**
   * Per provider: what counts as a rejected token in `fetch`. Default: the registered strategy's rule
   * (`refresher.rejectionCheck(provider)`), else HTTP 401.
   */
  isTokenRejected?: Record<string, TokenRejectedCheck>;
  /**
   * After `fetch` refreshed a rejected token, a rejection of the new token within this many
   * milliseconds is returned to the caller as it is, without another refresh: an API that rejects
   * every token (a missing scope) must not rotate the grant on every call. Default 30 000.
   */
  rejectionCooldownMs?: number;
  /** After each successful refresh. Carries no token. */
  onRefresh?: (event: RefreshEvent) => void;
  /** Before each retry. Carries no token. */
  onRetry?: (event: RetryEvent) => void;
  /** Once per failed refresh (after retries), failed save of a refreshed set, or failed schedule write. Carries no token. */
  onError?: (event: RefreshErrorEvent) => void;
}

export interface FetchOptions {
  /** Overrides the provider's rejection check for this call. */
  isTokenRejected?: TokenRejectedCheck;
}


export function optionError(detail: string): TypeError {
  return new TypeError(`@passport-martech/refresh: TokenManager: ${detail}`);
}

export function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw optionError(`${name} must be a number >= 0`);
  return value;
}

export function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw optionError(`${name} must be a number > 0`);
  return value;
}

export function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw optionError(`${name} must be an integer >= 1`);
  return value;
}

export function checkKeys(userKey: string, provider: string): void {
  if (typeof userKey !== 'string' || userKey === '') throw new TypeError('@passport-martech/refresh: userKey must be a non-empty string');
  if (typeof provider !== 'string' || provider === '') throw new TypeError('@passport-martech/refresh: provider must be a non-empty string');
}
