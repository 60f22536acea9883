import { createHash } from 'node:crypto';
import { DEFAULT_TIMEOUT_MS, ErrorCode, OAuthRequestError, OAuthTokenError, expiresWithin, isRecord } from '@passport-martech/oauth2';
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
  /**
   * The longest one `refresh(name, ...)` can take, in milliseconds (TokenRefresher reports the
   * strategy's timeout). Only used to derive the default `lockWaitMs`; 10 000 when absent.
   */
  timeoutFor?(name: string): number | undefined;
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
 * callers); `save_failed` — the store refused a refreshed token set after its retries: it is kept in
 * this process's memory and served, and the next refresh saves it first; `schedule_failed` — recording
 * the expiry for RefreshScheduler (nothing else failed; the token still refreshes on demand).
 */
export type RefreshErrorReason = 'refresh_failed' | 'save_failed' | 'schedule_failed';

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
  /** Once per failed refresh (after retries), failed save of a refreshed set, or failed schedule write. Carries no token. */
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

/** Set by save() and delete() while a refresh of the same tokens runs in this process (reset at each of its reads). */
interface FlightState {
  /** The tokens were deleted: the refresh's result must not be saved back (it would undo a logout). */
  deleted: boolean;
  /** New tokens were saved (a login): they keep the store. */
  saved: boolean;
}

interface Flight {
  promise: Promise<TokenSet>;
  trigger: RefreshTrigger;
  state: FlightState;
}

/** A refreshed token set the store refused; kept here until a later flight saves it. */
interface Unsaved {
  tokens: TokenSet;
  /** The refresh token it was refreshed from: it is saved only over a record still holding that one. */
  replaces: string;
  /** The store's last error. */
  error: unknown;
}

/** What a failing holder leaves for waiters in other processes (`RefreshLock.setFailure`). */
interface FailureNote {
  /** `tokenHash` of the refresh token that failed: the note applies to that token only. */
  rt: string;
  /** `reauth`: invalid_grant (ReauthenticationRequiredError); `token`: OAuthTokenError; `request`: OAuthRequestError. */
  kind: 'reauth' | 'token' | 'request';
  code: string;
  status?: number;
  message: string;
  description?: string;
}

const DEFAULT_SCHEDULE_KEY = 'refresh:schedule';
/** Tries of the store write after a refresh, and the wait before the second (doubled for the third). */
const SAVE_ATTEMPTS = 3;
const SAVE_RETRY_DELAY_MS = 25;
/** Added to the derived default lockWaitMs: Redis round trips and the save's own retries. */
const LOCK_WAIT_MARGIN_MS = 1000;

/**
 * Keeps access tokens valid: reads them from a store, refreshes them shortly before they expire, at
 * most once at a time per (user, provider) in this process and — with a lock — across processes.
 */
export class TokenManager {
  readonly store: TokenStore;
  readonly skewSeconds: number;
  readonly #refresher: Refresher;
  readonly #lock: RefreshLock | undefined;
  /** undefined: derived per provider (#lockWaitFor). */
  readonly #lockWaitMs: number | undefined;
  readonly #lockPollMs: number;
  readonly #retry: Required<RetryOptions>;
  readonly #schedule: { client: RedisClient; key: string } | undefined;
  readonly #rejectionChecks: Record<string, TokenRejectedCheck>;
  readonly #hooks: Pick<TokenManagerOptions, 'onRefresh' | 'onRetry' | 'onError'>;
  /** Refreshes running in this process, by store key. */
  readonly #flights = new Map<string, Flight>();
  /** Store reads shared by the callers that ask at the same moment, by store key. */
  readonly #reads = new Map<string, Promise<TokenSet | undefined>>();
  /** Refreshed sets the store refused, by store key. */
  readonly #unsaved = new Map<string, Unsaved>();

  constructor(options: TokenManagerOptions) {
    if (!options || typeof options !== 'object') throw optionError('options object is required');
    if (!options.refresher || typeof options.refresher.refresh !== 'function') throw optionError('refresher (a TokenRefresher) is required');
    if (!options.store || typeof options.store.get !== 'function') throw optionError('store (a TokenStore) is required');
    this.#refresher = options.refresher;
    this.store = options.store;
    this.skewSeconds = nonNegative('skewSeconds', options.skewSeconds ?? 60);
    this.#lock = options.lock;
    this.#lockWaitMs = options.lockWaitMs === undefined ? undefined : nonNegative('lockWaitMs', options.lockWaitMs);
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

  /**
   * Stores a token set (after a login, say) and schedules it by expiry. A store failure is thrown; a
   * failure to record the expiry in the schedule is only reported (onError, `schedule_failed`).
   */
  async save(userKey: string, provider: string, tokens: TokenSet): Promise<void> {
    checkKeys(userKey, provider);
    if (!isRecord(tokens) || typeof tokens.accessToken !== 'string' || tokens.accessToken === '') {
      throw new TypeError('@passport-martech/refresh: save() needs a TokenSet with an accessToken');
    }
    const key = storeKey(userKey, provider);
    // A refresh running here must not overwrite these tokens with the ones it gets (they belong to the
    // grant being replaced), and a set it could not save is older than these.
    const flight = this.#flights.get(key);
    if (flight) flight.state.saved = true;
    this.#unsaved.delete(key);
    await this.#write(userKey, provider, tokens);
  }

  /** The stored token set, whatever its expiry; undefined when there is none. */
  async get(userKey: string, provider: string): Promise<TokenSet | undefined> {
    checkKeys(userKey, provider);
    return this.store.get(storeKey(userKey, provider));
  }

  /**
   * Forgets the tokens (logout, unlink). Does not call the provider. A refresh in progress does not
   * bring them back: its callers get ReauthenticationRequiredError (`reason: 'deleted'`).
   */
  async delete(userKey: string, provider: string): Promise<void> {
    checkKeys(userKey, provider);
    const key = storeKey(userKey, provider);
    // Marked before the store is touched: a refresh of this process that has not written yet checks
    // the mark right before its write, so it cannot land after this delete.
    const flight = this.#flights.get(key);
    if (flight) flight.state.deleted = true;
    this.#unsaved.delete(key);
    this.#reads.delete(key);
    await this.store.delete(key);
    await this.#updateSchedule(userKey, provider, undefined);
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
    const key = storeKey(userKey, provider);
    // An expiry refresh of these tokens is already running here: its result is what a store read would
    // lead to, so join it without one.
    const running = this.#flights.get(key);
    if (running?.trigger === 'expiry') return running.promise;
    // A set refreshed here that the store refused is newer than the store's: the flight saves it first.
    const unsaved = this.#unsaved.get(key);
    const current = unsaved?.tokens ?? (await this.#readShared(key));
    if (!current) throw this.#reauth(userKey, provider, 'no_tokens');
    if (!unsaved) {
      if (!expiresWithin(current, this.skewSeconds)) return current;
      // Nothing to refresh with: the skew is only there to refresh early, so the token is good until
      // it has actually expired.
      if (!current.refreshToken && !expiresWithin(current, 0)) return current;
    }
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

  /** One store read for every caller that asks while it runs; save() and delete() start a new one. */
  #readShared(key: string): Promise<TokenSet | undefined> {
    const pending = this.#reads.get(key);
    if (pending) return pending;
    const read: Promise<TokenSet | undefined> = this.store.get(key).finally(() => {
      if (this.#reads.get(key) === read) this.#reads.delete(key);
    });
    this.#reads.set(key, read);
    return read;
  }

  #shared(userKey: string, provider: string, options: RunOptions): Promise<TokenSet> {
    const key = storeKey(userKey, provider);
    const existing = this.#flights.get(key);
    if (existing) return existing.promise;
    const state: FlightState = { deleted: false, saved: false };
    const promise = this.#run(userKey, provider, state, options)
      .catch((error: Error) => {
        // A scheduled pass finding the tokens gone is routine (the scheduler drops the member).
        if (!(error instanceof ReauthenticationRequiredError && error.reason === 'no_tokens' && options.trigger === 'scheduled')) {
          this.#emit('onError', { provider, userKey, error, reason: 'refresh_failed' });
        }
        throw error;
      })
      .finally(() => {
        if (this.#flights.get(key)?.promise === promise) this.#flights.delete(key);
      });
    this.#flights.set(key, { promise, trigger: options.trigger, state });
    return promise;
  }

  async #run(userKey: string, provider: string, state: FlightState, options: RunOptions): Promise<TokenSet> {
    const key = storeKey(userKey, provider);
    const lockName = `refresh:${key}`;
    const lock = this.#lock;
    // Another refresh (here, in another process, or a login) replaced the token this caller found stale.
    const replacedByOtherRefresh = (tokens: TokenSet) => tokens.accessToken !== options.stale && !expiresWithin(tokens, 0);
    // Not forced (nobody saw the token rejected): valid beyond the caller's window is enough.
    const freshEnough = (tokens: TokenSet) => !options.force && !expiresWithin(tokens, options.skewSeconds);
    // getAccessToken with nothing to refresh with: the access token serves until it has expired.
    const lastsWithoutRefresh = (tokens: TokenSet) => options.trigger === 'expiry' && !tokens.refreshToken && !expiresWithin(tokens, 0);
    const usable = (tokens: TokenSet) => replacedByOtherRefresh(tokens) || freshEnough(tokens) || lastsWithoutRefresh(tokens);
    const read = async () => {
      // The flags tell what save() or delete() did after the set this flight works from was read: reset
      // before each read (and the read is issued with no await in between).
      state.deleted = state.saved = false;
      const tokens = await this.store.get(key);
      if (tokens) return tokens;
      // Purged after another process's invalid_grant: say so, rather than "nothing stored".
      const failure = lock ? await this.#sharedFailure(lock, lockName, userKey, provider, undefined) : undefined;
      throw failure ?? this.#reauth(userKey, provider, 'no_tokens');
    };

    const unsaved = await this.#saveUnsaved(userKey, provider);
    if (unsaved) {
      // The store still refuses it. Serve it while it is valid (and, when forced, not the rejected
      // token); refreshing again is no option, since the result could not be saved either.
      const servable = options.force ? replacedByOtherRefresh(unsaved.tokens) : !expiresWithin(unsaved.tokens, 0);
      if (servable) return unsaved.tokens;
      throw unsaved.error;
    }

    if (!lock) {
      // Another caller may have finished a refresh between this caller's read and now.
      const current = await read();
      return usable(current) ? current : this.#refreshWithRetry(userKey, provider, state, current, options.trigger);
    }

    const waitMs = this.#lockWaitFor(provider);
    const started = Date.now();
    for (;;) {
      const current = await read();
      if (usable(current)) return current;
      const token = await lock.acquire(lockName);
      if (token !== null) {
        const watchdog = lock.extend ? keepAlive(lock, lockName, token) : undefined;
        let usedRefreshToken: string | undefined;
        let release = true;
        try {
          // The previous holder may have saved between our read and our acquire, or failed.
          const latest = await read();
          if (usable(latest)) return latest;
          const failure = await this.#sharedFailure(lock, lockName, userKey, provider, latest);
          if (failure) throw failure;
          usedRefreshToken = latest.refreshToken;
          const fresh = await this.#refreshWithRetry(userKey, provider, state, latest, options.trigger);
          // The store refused the rotated set: the other processes would refresh with the refresh token
          // the provider has just revoked, and log the user out. Leaving the lock to expire (ttlMs)
          // holds them off that long, while this process's next flight retries the save.
          release = this.#unsaved.get(key)?.tokens !== fresh;
          return fresh;
        } catch (error) {
          if (usedRefreshToken) await this.#shareFailure(lock, lockName, usedRefreshToken, error);
          throw error;
        } finally {
          if (watchdog) clearInterval(watchdog);
          if (release) await lock.release(lockName, token).catch(() => false);
        }
      }
      const waited = Date.now() - started;
      if (waited >= waitMs) {
        throw new RefreshLockTimeoutError({ provider, userKey, waitedMs: waited, lockName: lockName });
      }
      await sleep(Math.min(this.#lockPollMs, waitMs - waited));
    }
  }

  async #refreshWithRetry(userKey: string, provider: string, state: FlightState, current: TokenSet, trigger: RefreshTrigger): Promise<TokenSet> {
    const refreshToken = current.refreshToken;
    if (!refreshToken) throw this.#reauth(userKey, provider, 'no_refresh_token');
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let fresh: TokenSet;
      try {
        fresh = await this.#refresher.refresh(provider, refreshToken);
      } catch (error) {
        if (isInvalidGrant(error)) return this.#afterInvalidGrant(userKey, provider, refreshToken, error);
        if (attempt < this.#retry.attempts && isTransient(error)) {
          const delayMs = Math.floor(Math.random() * this.#backoffCap(attempt));
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
      const result = await this.#commit(userKey, provider, state, refreshToken, tokens);
      this.#emit('onRefresh', { provider, userKey, durationMs: Date.now() - started, attempt, trigger, rotated });
      return result;
    }
  }

  /**
   * The provider rejected the refresh token. If the store now holds another one — another process
   * refreshed first (this holder's lock expired under it), or the user logged in again — that set
   * answers the callers when its access token is valid. Otherwise the tokens are deleted (unless they
   * are another grant's) and the user must log in again.
   */
  async #afterInvalidGrant(userKey: string, provider: string, failedRefreshToken: string, cause: unknown): Promise<TokenSet> {
    const stored = await this.store.get(storeKey(userKey, provider));
    if (stored && stored.refreshToken !== failedRefreshToken) {
      if (!expiresWithin(stored, 0)) return stored;
    } else {
      await this.delete(userKey, provider);
    }
    throw this.#reauth(userKey, provider, 'invalid_grant', cause);
  }

  /**
   * Saves a refreshed set, but only over the set it was refreshed from: a delete (logout, unlink) or a
   * save (a new login) that happened meanwhile wins, here or in another process. A failing store is
   * retried briefly; if it still fails, the set is kept in memory (the provider may already have
   * revoked the old refresh token, so it is the only one that works) and reported (`save_failed`).
   * Resolves what the callers get.
   */
  async #commit(userKey: string, provider: string, state: FlightState, usedRefreshToken: string, tokens: TokenSet): Promise<TokenSet> {
    const key = storeKey(userKey, provider);
    let lastError: unknown;
    for (let attempt = 1; attempt <= SAVE_ATTEMPTS; attempt++) {
      if (attempt > 1) await sleep(SAVE_RETRY_DELAY_MS * 2 ** (attempt - 2));
      try {
        const stored = state.deleted ? undefined : await this.store.get(key);
        // Checked with no await before the write below: a delete() of this process cannot slip between.
        if (state.deleted || !stored) throw this.#reauth(userKey, provider, 'deleted');
        // A login saved new tokens meanwhile: they keep the store; the callers get the fresh token.
        if (state.saved) return tokens;
        // Another writer got there first (another process, a login there, or an earlier try of ours whose
        // answer was lost): its set stays, and answers the callers unless it has expired.
        if (stored.refreshToken !== usedRefreshToken) return expiresWithin(stored, 0) ? tokens : stored;
        await this.#write(userKey, provider, tokens);
        return tokens;
      } catch (error) {
        if (error instanceof ReauthenticationRequiredError) throw error;
        lastError = error;
      }
    }
    this.#unsaved.set(key, { tokens, replaces: usedRefreshToken, error: lastError });
    this.#emit('onError', { provider, userKey, error: asError(lastError), reason: 'save_failed' });
    return tokens;
  }

  /**
   * Saves the set an earlier refresh here could not save — over the set it was refreshed from only;
   * if the store has moved on (a login, a logout, another process) ours is stale and dropped. Resolves
   * undefined when nothing is left unsaved, else the set with the store's error.
   */
  async #saveUnsaved(userKey: string, provider: string): Promise<Unsaved | undefined> {
    const key = storeKey(userKey, provider);
    const unsaved = this.#unsaved.get(key);
    if (!unsaved) return undefined;
    try {
      const stored = await this.store.get(key);
      // Still ours to save (save() and delete() drop the entry), checked with no await before the write.
      if (stored?.refreshToken === unsaved.replaces && this.#unsaved.get(key) === unsaved) await this.#write(userKey, provider, unsaved.tokens);
    } catch (error) {
      unsaved.error = error;
      return unsaved;
    }
    if (this.#unsaved.get(key) === unsaved) this.#unsaved.delete(key);
    return undefined;
  }

  /** store.set, then the schedule (best effort). */
  async #write(userKey: string, provider: string, tokens: TokenSet): Promise<void> {
    const key = storeKey(userKey, provider);
    this.#reads.delete(key);
    await this.store.set(key, tokens);
    await this.#updateSchedule(userKey, provider, tokens);
  }

  /**
   * Records the expiry for RefreshScheduler (removes it for tokens that cannot be refreshed, or none).
   * Best effort: the schedule only refreshes ahead of time, getAccessToken still refreshes on demand,
   * so a failure here is reported and never fails the save, refresh or delete it follows.
   */
  async #updateSchedule(userKey: string, provider: string, tokens: TokenSet | undefined): Promise<void> {
    if (!this.#schedule) return;
    const key = storeKey(userKey, provider);
    try {
      if (tokens?.expiresAt !== undefined && tokens.refreshToken) await this.#schedule.client.zadd(this.#schedule.key, tokens.expiresAt, key);
      else await this.#schedule.client.zrem(this.#schedule.key, key);
    } catch (error) {
      this.#emit('onError', { provider, userKey, error: asError(error), reason: 'schedule_failed' });
    }
  }

  /** Leaves the holder's failure for the waiters in other processes (see #sharedFailure). */
  async #shareFailure(lock: RefreshLock, lockName: string, refreshToken: string, error: unknown): Promise<void> {
    if (!lock.setFailure) return;
    const note = failureNote(error, refreshToken);
    if (!note) return;
    // Long enough for every waiter to poll once more, and short: a negative cache of a transient failure.
    const ttlMs = Math.max(1000, this.#retry.maxDelayMs, 4 * this.#lockPollMs);
    await lock.setFailure(lockName, JSON.stringify(note), ttlMs).catch(() => undefined);
  }

  /**
   * The error a holder in another process failed with, for this refresh token (or, when the tokens are
   * gone, an invalid_grant for any): thrown here instead of trying again. undefined when there is none.
   */
  async #sharedFailure(lock: RefreshLock, lockName: string, userKey: string, provider: string, tokens: TokenSet | undefined): Promise<Error | undefined> {
    if (!lock.getFailure) return undefined;
    let note: FailureNote;
    try {
      const text = await lock.getFailure(lockName);
      if (!text) return undefined;
      note = JSON.parse(text) as FailureNote;
    } catch {
      return undefined; // an unreadable note is no reason to fail; this caller refreshes itself
    }
    if (tokens ? !tokens.refreshToken || note.rt !== tokenHash(tokens.refreshToken) : note.kind !== 'reauth') return undefined;
    return errorFromNote(note, provider, userKey);
  }

  /** The longest wait for another process's refresh: see TokenManagerOptions.lockWaitMs. */
  #lockWaitFor(provider: string): number {
    if (this.#lockWaitMs !== undefined) return this.#lockWaitMs;
    const attemptMs = this.#refresher.timeoutFor?.(provider) ?? DEFAULT_TIMEOUT_MS;
    let backoffMs = 0;
    for (let attempt = 1; attempt < this.#retry.attempts; attempt++) backoffMs += this.#backoffCap(attempt);
    return this.#retry.attempts * attemptMs + backoffMs + (this.#lock?.ttlMs ?? 0) + LOCK_WAIT_MARGIN_MS;
  }

  /** The longest wait after failed try `attempt` (full jitter draws below it). */
  #backoffCap(attempt: number): number {
    return Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
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

/** A short, one-way fingerprint of a refresh token: failure notes name the token without holding it. */
function tokenHash(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex').slice(0, 16);
}

/** The note for an error worth sharing: the provider's answer (after the retries), never a local failure. */
function failureNote(error: unknown, refreshToken: string): FailureNote | undefined {
  const rt = tokenHash(refreshToken);
  if (error instanceof ReauthenticationRequiredError) {
    if (error.reason !== 'invalid_grant') return undefined;
    const cause = error.cause instanceof OAuthTokenError ? error.cause : undefined;
    return { rt, kind: 'reauth', code: 'invalid_grant', status: cause?.status, message: cause?.message ?? error.message, description: cause?.description };
  }
  if (error instanceof OAuthTokenError) return { rt, kind: 'token', code: error.code, status: error.status, message: error.message, description: error.description };
  if (error instanceof OAuthRequestError) return { rt, kind: 'request', code: error.code, status: error.status, message: error.message };
  return undefined;
}

/** The same typed error as the one the note was made from (its message, code and status). */
function errorFromNote(note: FailureNote, provider: string, userKey: string): Error {
  const init = { code: String(note.code), status: note.status, message: String(note.message), description: note.description, provider };
  if (note.kind === 'request') return new OAuthRequestError(init);
  const providerError = new OAuthTokenError(init);
  return note.kind === 'reauth' ? new ReauthenticationRequiredError({ provider, userKey, reason: 'invalid_grant', cause: providerError }) : providerError;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
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
