import { DEFAULT_TIMEOUT_MS, expiresWithin, isRecord } from '@passport-martech/oauth2';
import type { TokenSet } from '@passport-martech/oauth2';
import { checkRefreshAnswer } from './answer';
import { asError, isInvalidGrant, isTransient, sleep } from './classify';
import { ReauthenticationReason, ReauthenticationRequiredError, RefreshLockTimeoutError } from './errors';
import { leaveFailureNote, readFailureNote } from './failure-note';
import { LockHold } from './hold';
import { parseStoreKey, storeKey } from './keys';
import type { RefreshLock } from './lock';
import {
  checkKeys,
  nonNegative,
  optionError,
  positive,
  positiveInteger,
  type FetchOptions,
  type RefreshTrigger,
  type Refresher,
  type RetryOptions,
  type TokenManagerOptions,
  type TokenRejectedCheck,
} from './manager-options';
import type { RedisClient } from './redis';
import type { TokenStore } from './stores/types';
import { backoffCap, defaultLockWait } from './retry-timing';
import { TokenWrites } from './token-writes';
import { UnsavedSets, type UnsavedSet } from './unsaved';

export { isInvalidGrant, isTransient } from './classify';

interface RunOptions {
  /** The access token the caller found unusable. */
  stale: string;
  /** Refresh even when the stored token does not expire within `skewSeconds` (it was rejected). */
  force: boolean;
  skewSeconds: number;
  trigger: RefreshTrigger;
}

/** One refresh of one (user, provider): what save() and delete() tell it, and the lock it holds. */
interface Flight {
  readonly userKey: string;
  readonly provider: string;
  readonly key: string;
  readonly trigger: RefreshTrigger;
  /**
   * A delete (logout, unlink) started after this flight's last read: if it reaches the store (resolves
   * true), the result must not be saved back; if it fails, nothing was forgotten and the result is saved.
   */
  deleting?: Promise<boolean>;
  /** A save (a login) started after this flight's last read: if it reaches the store, its tokens stay. */
  saving?: Promise<boolean>;
  hold?: LockHold;
  /** The hold went to the background save of an unsaved set: the flight must not release it. */
  holdKept: boolean;
  promise?: Promise<TokenSet>;
}

/**
 * The lock was lost before the refresh token was presented, or the stored refresh token changed
 * between two tries: start over from the store (and, with a lock, wait for whoever holds it now).
 */
class LockLost extends Error {}

const DEFAULT_SCHEDULE_KEY = 'refresh:schedule';
/** Quick tries of the store write after a refresh, and the wait before the second (doubled for the third). */
const SAVE_ATTEMPTS = 3;
const SAVE_RETRY_DELAY_MS = 25;
const DEFAULT_DRAIN_MS = 10_000;
/** See TokenManagerOptions.saveHoldMs: longer than a typical Redis failover (about 11-16 s). */
const DEFAULT_SAVE_HOLD_MS = 30_000;

/**
 * Keeps access tokens valid: reads them from a store, refreshes them shortly before they expire, at
 * most once at a time per (user, provider) in this process and — with a lock — across processes. A
 * rotated refresh token is never dropped while it may be the only live one (see the README's
 * guarantees G1–G5).
 */
export class TokenManager {
  readonly store: TokenStore;
  readonly skewSeconds: number;
  readonly #refresher: Refresher;
  readonly #lock: RefreshLock | undefined;
  /** undefined: derived per provider (defaultLockWait). */
  readonly #lockWaitMs: number | undefined;
  readonly #lockPollMs: number;
  readonly #saveHoldMs: number;
  readonly #retry: Required<RetryOptions>;
  readonly #schedule: { client: RedisClient; key: string } | undefined;
  readonly #rejectionChecks: Record<string, TokenRejectedCheck>;
  readonly #rejectionCooldownMs: number;
  readonly #hooks: Pick<TokenManagerOptions, 'onRefresh' | 'onRetry' | 'onError'>;
  /** Refreshes running in this process, by store key. */
  readonly #flights = new Map<string, Flight>();
  /** Store reads shared by the callers that ask at the same moment, by store key. */
  readonly #reads = new Map<string, Promise<TokenSet | undefined>>();
  readonly #writes: TokenWrites;
  /** App saves and deletes in progress, by store key (see #track). */
  readonly #appWrites = new Map<string, Promise<boolean>>();
  /** Refreshed sets the store refused, saved in the background. */
  readonly #unsaved = new UnsavedSets((key, set) => this.#saveUnsaved(key, set));
  /** The access token a refresh forced by `fetch` produced, and when: see rejectionCooldownMs. */
  readonly #forced = new Map<string, { accessToken: string; at: number }>();

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
    this.#saveHoldMs = nonNegative('saveHoldMs', options.saveHoldMs ?? DEFAULT_SAVE_HOLD_MS);
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
    this.#rejectionCooldownMs = nonNegative('rejectionCooldownMs', options.rejectionCooldownMs ?? 30_000);
    this.#hooks = { onRefresh: options.onRefresh, onRetry: options.onRetry, onError: options.onError };
    this.#writes = new TokenWrites({
      store: this.store,
      schedule: this.#schedule,
      onScheduleError: (userKey, provider, error) => this.#emit('onError', { provider, userKey, error: asError(error), reason: 'schedule_failed' }),
      onWrite: (key) => this.#reads.delete(key),
      appWrite: (key) => this.#appWrites.get(key),
    });
  }

  /** The sorted set tokens are scheduled in, when `schedule` was given. */
  get schedule(): { readonly client: RedisClient; readonly key: string } | undefined {
    return this.#schedule;
  }

  /** Refreshed token sets this process holds that the store has not taken yet (saved in the background). */
  get unsavedCount(): number {
    return this.#unsaved.size;
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
    // grant being replaced) — once they are stored: if the store refuses them, the refresh's own set is
    // the one to keep. Likewise a set it could not save is dropped only once these are stored.
    const write = this.#writes.save(userKey, provider, tokens);
    const stored = this.#track(key, write);
    const flight = this.#flights.get(key);
    if (flight) flight.saving = stored;
    await write;
    this.#unsaved.forget(key);
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
    // A refresh of this process that has not written yet waits for this delete right before its write:
    // if the delete reaches the store, the refresh cannot land after it; if it fails (the store is
    // down), nothing was forgotten, and the refresh's rotated set — maybe the only live one — is kept.
    const deletion = this.store.delete(key);
    const deleted = this.#track(key, deletion);
    const flight = this.#flights.get(key);
    if (flight) flight.deleting = deleted;
    this.#reads.delete(key);
    await deletion;
    this.#unsaved.forget(key);
    this.#forced.delete(key);
    await this.#writes.schedule(userKey, provider, undefined);
  }

  /** Records an app save or delete of `key` while it runs; resolves whether it reached the store. */
  #track(key: string, operation: Promise<void>): Promise<boolean> {
    const reached = operation.then(
      () => true,
      () => false,
    );
    this.#appWrites.set(key, reached);
    void reached.then(() => {
      if (this.#appWrites.get(key) === reached) this.#appWrites.delete(key);
    });
    return reached;
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
    if (running?.trigger === 'expiry' && running.promise) return running.promise;
    // A set refreshed here that the store has not taken yet is newer than the store's.
    const unsaved = this.#unsaved.get(key);
    const current = unsaved?.tokens ?? (await this.#readShared(key));
    if (!current) throw this.#reauth(userKey, provider, 'no_tokens');
    if (!expiresWithin(current, this.skewSeconds)) return current;
    // Nothing to refresh with: the skew is only there to refresh early, so the token is good until
    // it has actually expired. (An unsaved set is served the same way while the store refuses it.)
    if ((unsaved || !current.refreshToken) && !expiresWithin(current, 0)) return current;
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
   * request sent once more. A request whose body is a stream is not sent twice. A token that a refresh
   * forced here produced less than `rejectionCooldownMs` ago is not refreshed again: its rejection is
   * returned as it is.
   */
  async fetch(userKey: string, provider: string, url: string | URL, init: RequestInit = {}, options: FetchOptions = {}): Promise<Response> {
    const rejected = options.isTokenRejected ?? this.#rejectionChecks[provider] ?? ((response: Response) => response.status === 401);
    const token = await this.getAccessToken(userKey, provider);
    const first = await fetch(url, withBearer(init, token));
    if (!(await rejected(first)) || !replayable(init.body)) return first;
    const key = storeKey(userKey, provider);
    const forced = this.#forced.get(key);
    if (forced?.accessToken === token && Date.now() - forced.at < this.#rejectionCooldownMs) return first;
    await first.body?.cancel().catch(() => undefined);
    let fresh = await this.refresh(userKey, provider, token);
    // A concurrent refresh may have handed back the very token just rejected: refresh once more.
    if (fresh.accessToken === token) fresh = await this.refresh(userKey, provider, token);
    this.#forced.set(key, { accessToken: fresh.accessToken, at: Date.now() });
    return fetch(url, withBearer(init, fresh.accessToken));
  }

  /**
   * Waits for the refreshes running here and retries every unsaved set at once and again until it is
   * saved or `timeoutMs` (default 10 000) has passed. Resolves the number of sets still unsaved (0:
   * nothing is lost by stopping now). Call it on SIGTERM, after the server stopped taking requests.
   */
  async drain(timeoutMs: number = DEFAULT_DRAIN_MS): Promise<number> {
    const deadline = Date.now() + nonNegative('timeoutMs', timeoutMs);
    const flights = [...this.#flights.values()].map((f) => f.promise?.catch(() => undefined));
    await Promise.race([Promise.all(flights), sleepUntil(deadline)]);
    return this.#unsaved.drain(deadline);
  }

  /**
   * drain(), then stops the background saves (a set still unsaved is lost with this process; its lock
   * is left to expire). Resolves the number of sets that were lost; report it.
   */
  async close(timeoutMs: number = DEFAULT_DRAIN_MS): Promise<number> {
    const left = await this.drain(timeoutMs);
    await this.#unsaved.stop();
    return left;
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
    if (existing?.promise) return existing.promise;
    const flight: Flight = { userKey, provider, key, trigger: options.trigger, holdKept: false };
    const promise = this.#run(flight, options)
      .catch((error: Error) => {
        // A scheduled pass finding the tokens gone is routine (the scheduler drops the member).
        if (!(error instanceof ReauthenticationRequiredError && error.reason === 'no_tokens' && options.trigger === 'scheduled')) {
          this.#emit('onError', { provider, userKey, error, reason: 'refresh_failed' });
        }
        throw error;
      })
      .finally(() => {
        if (this.#flights.get(key) === flight) this.#flights.delete(key);
      });
    flight.promise = promise;
    this.#flights.set(key, flight);
    return promise;
  }

  async #run(flight: Flight, options: RunOptions): Promise<TokenSet> {
    const { userKey, provider, key } = flight;
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
      flight.deleting = flight.saving = undefined;
      const tokens = await this.store.get(key);
      if (tokens) return tokens;
      // Purged after another process's invalid_grant: say so, rather than "nothing stored".
      const failure = lock ? await readFailureNote(lock, lockName, userKey, provider, undefined) : undefined;
      throw failure ?? this.#reauth(userKey, provider, 'no_tokens');
    };

    const unsaved = this.#unsaved.get(key);
    if (unsaved) {
      // The store still refuses a set refreshed here, and this process holds the lock until it takes
      // it. Serve it while it is valid (and, when forced, not the rejected token); refreshing again is
      // no option, since that result could not be saved either.
      const servable = options.force ? replacedByOtherRefresh(unsaved.tokens) : !expiresWithin(unsaved.tokens, 0);
      if (servable) return unsaved.tokens;
      throw unsaved.error;
    }

    if (!lock) {
      for (;;) {
        // Another caller may have finished a refresh between this caller's read and now.
        const current = await read();
        if (usable(current)) return current;
        try {
          return await this.#refreshWithRetry(flight, current, read, usable);
        } catch (error) {
          if (!(error instanceof LockLost)) throw error;
        }
      }
    }

    const waitMs = this.#lockWaitMs ?? defaultLockWait(this.#retry, this.#refresher.timeoutFor?.(provider) ?? DEFAULT_TIMEOUT_MS, lock.ttlMs);
    const started = Date.now();
    for (;;) {
      const current = await read();
      if (usable(current)) return current;
      let token: string | null;
      try {
        token = await lock.acquire(lockName);
      } catch (error) {
        // Redis refuses the lock (a failover, OOM): no refresh can start, since its result could not be
        // saved either. A token that has not expired yet beats an error; the next caller tries again.
        if (!options.force && !expiresWithin(current, 0)) return current;
        throw error;
      }
      if (token !== null) {
        flight.hold = new LockHold(lock, lockName, token);
        flight.holdKept = false;
        let presented: string | undefined;
        try {
          // The previous holder may have saved between our read and our acquire, or failed.
          const latest = await read();
          if (usable(latest)) return latest;
          const failure = await readFailureNote(lock, lockName, userKey, provider, latest);
          if (failure) throw failure;
          presented = latest.refreshToken;
          return await this.#refreshWithRetry(flight, latest, read, usable);
        } catch (error) {
          if (!(error instanceof LockLost)) {
            // Lasts long enough for every waiter to poll once more: a short negative cache.
            if (presented) await leaveFailureNote(lock, lockName, presented, error, Math.max(1000, this.#retry.maxDelayMs, 4 * this.#lockPollMs));
            throw error;
          }
        } finally {
          if (!flight.holdKept) await flight.hold.release();
          flight.hold = undefined;
        }
      }
      const waited = Date.now() - started;
      if (waited >= waitMs) {
        throw new RefreshLockTimeoutError({ provider, userKey, waitedMs: waited, lockName: lockName });
      }
      await sleep(Math.min(this.#lockPollMs, waitMs - waited));
    }
  }

  /**
   * The refresh itself, retried on transient failures. Before each try the lock is confirmed and, from
   * the second on, the store re-read: a refresh token is presented only by the lock holder, right after
   * reading it (one stale presentation revokes the whole grant at a provider with reuse detection).
   */
  async #refreshWithRetry(flight: Flight, current: TokenSet, read: () => Promise<TokenSet>, usable: (t: TokenSet) => boolean): Promise<TokenSet> {
    const { userKey, provider } = flight;
    const refreshToken = current.refreshToken;
    if (!refreshToken) throw this.#reauth(userKey, provider, 'no_refresh_token');
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        const latest = await read();
        if (latest.refreshToken !== refreshToken) {
          if (usable(latest)) return latest;
          throw new LockLost();
        }
      }
      if (flight.hold && !(await flight.hold.confirm(this.#saveHoldMs))) throw new LockLost();
      let fresh: TokenSet;
      try {
        fresh = await this.#refresher.refresh(provider, refreshToken);
      } catch (error) {
        if (isInvalidGrant(error)) return this.#afterInvalidGrant(flight, refreshToken, error);
        if (attempt < this.#retry.attempts && isTransient(error)) {
          const delayMs = Math.floor(Math.random() * backoffCap(this.#retry, attempt));
          this.#emit('onRetry', { provider, userKey, attempt, delayMs, error: error as Error });
          await sleep(delayMs);
          continue;
        }
        throw error;
      }
      const rotated = fresh.refreshToken !== undefined && fresh.refreshToken !== refreshToken;
      // No refresh token in the answer: the old one stays valid (RFC 6749 6), keep it.
      const checked = checkRefreshAnswer(fresh.refreshToken ? fresh : { ...fresh, refreshToken }, provider);
      if (checked.problem) this.#emit('onError', { provider, userKey, error: new Error(checked.problem), reason: 'invalid_answer' });
      // Saved before the flight resolves: nobody sees the new access token before the store has the new refresh token.
      const result = await this.#commit(flight, refreshToken, checked.tokens);
      this.#emit('onRefresh', { provider, userKey, durationMs: Date.now() - started, attempt, trigger: flight.trigger, rotated });
      return result;
    }
  }

  /**
   * The provider rejected the refresh token. If the store now holds another one — another process
   * refreshed first, or the user logged in again — that set answers the callers when its access token
   * is valid. Otherwise the record is retired (it reads as absent, but a process that refreshed this
   * very token a moment earlier and is late to save can still save its rotation) and the user must
   * log in again.
   */
  async #afterInvalidGrant(flight: Flight, failedRefreshToken: string, cause: unknown): Promise<TokenSet> {
    const { userKey, provider, key } = flight;
    const stored = await this.store.get(key);
    if (stored && stored.refreshToken !== failedRefreshToken) {
      if (!expiresWithin(stored, 0)) return stored;
    } else if (stored) {
      await this.#writes.retire(userKey, provider, failedRefreshToken);
    }
    throw this.#reauth(userKey, provider, 'invalid_grant', cause);
  }

  /**
   * Saves a refreshed set, only over the set it was refreshed from (an atomic compare-and-set where the
   * store offers one): a delete (logout, unlink) or a save (a new login) that happened meanwhile wins,
   * here or in another process. A failing store is retried briefly; if it still fails, the set goes to
   * the background saves with the lock (the provider may already have revoked the old refresh token,
   * so it may be the only one that works) and is reported (`save_failed`). Resolves what the callers get.
   */
  async #commit(flight: Flight, usedRefreshToken: string, tokens: TokenSet): Promise<TokenSet> {
    const { userKey, provider, key } = flight;
    let lastError: unknown;
    for (let attempt = 1; attempt <= SAVE_ATTEMPTS; attempt++) {
      if (attempt > 1) await sleep(SAVE_RETRY_DELAY_MS * 2 ** (attempt - 2));
      if (flight.deleting && (await flight.deleting)) throw this.#reauth(userKey, provider, 'deleted');
      // A login saved new tokens meanwhile: they keep the store; the callers get the fresh token.
      if (flight.saving && (await flight.saving)) return tokens;
      let written: boolean;
      try {
        written = await this.#writes.replace(userKey, provider, usedRefreshToken, tokens);
      } catch (error) {
        lastError = error;
        continue;
      }
      if (written) return tokens;
      // Another writer got there first (a logout, a login, another process): its set stays.
      const stored = await this.store.get(key).catch(() => undefined);
      if (!stored || (flight.deleting && (await flight.deleting))) throw this.#reauth(userKey, provider, 'deleted');
      return expiresWithin(stored, 0) ? tokens : stored;
    }
    if (flight.hold) flight.holdKept = true;
    this.#unsaved.keep(key, tokens, usedRefreshToken, lastError, flight.hold);
    this.#emit('onError', { provider, userKey, error: asError(lastError), reason: 'save_failed' });
    return tokens;
  }

  /** The background save of an unsaved set (see UnsavedSets). Throws while the store fails. */
  async #saveUnsaved(key: string, set: UnsavedSet): Promise<boolean> {
    // The app is saving or deleting these tokens: once that reaches the store this set is stale.
    const appWrite = this.#appWrites.get(key);
    if (appWrite && (await appWrite)) return false;
    const pair = parseStoreKey(key) as { userKey: string; provider: string };
    return this.#writes.replace(pair.userKey, pair.provider, set.replaces, set.tokens);
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

function withBearer(init: RequestInit, accessToken: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${accessToken}`);
  return { ...init, headers };
}

function replayable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || !(typeof (body as { getReader?: unknown }).getReader === 'function' || Symbol.asyncIterator in Object(body));
}

function sleepUntil(deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    timer.unref();
  });
}
