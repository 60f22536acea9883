import { DEFAULT_TIMEOUT_MS, ErrorCode, OAuthRequestError, expiresWithin, isRecord } from '@passport-martech/oauth2';
import type { TokenSet } from '@passport-martech/oauth2';
import { traced } from '@passport-martech/oauth2/provider-kit';
import { AuthorizedFetch } from './authorized-fetch';
import { asError, sleep } from './classify';
import { RefreshLockTimeoutError } from './errors';
import { LockHold } from './hold';
import { defaultLockWait } from './retry-timing';
import { refreshErrorCode, refreshFlights, type RefreshFlightEvent } from './diagnostics';
import { ReauthenticationRequiredError } from './errors';
import { Flight, reauth, type FlightContext, type FlightOptions } from './flight';
import { parseStoreKey, storeKey } from './keys';
import {
  checkKeys,
  nonNegative,
  optionError,
  positive,
  positiveInteger,
  type FetchOptions,
  type RefreshTrigger,
  type RevokeOptions,
  type RevokeResult,
  type TokenManagerOptions,
  type TokenRejectedCheck,
} from './manager-options';
import type { RedisClient } from './redis';
import type { TokenStore } from './stores/types';
import { TokenWrites } from './token-writes';
import { UnsavedSets, type UnsavedSet } from './unsaved';

export { isInvalidGrant, isTransient } from './classify';

const DEFAULT_SCHEDULE_KEY = 'refresh:schedule';
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
  /** Settings and write paths every flight shares. */
  readonly #context: FlightContext;
  readonly #schedule: { client: RedisClient; key: string } | undefined;
  readonly #fetcher: AuthorizedFetch;
  readonly #hooks: Pick<TokenManagerOptions, 'onRefresh' | 'onRetry' | 'onError'>;
  /** Refreshes running in this process, by store key. */
  readonly #flights = new Map<string, Flight>();
  /** Store reads shared by the callers that ask at the same moment, by store key. */
  readonly #reads = new Map<string, Promise<TokenSet | undefined>>();
  readonly #writes: TokenWrites;
  /** Revocations in progress, by store key: a refresh of that key waits for them (see revoke). */
  readonly #revoking = new Map<string, Promise<void>>();
  /** App saves and deletes in progress, by store key (see #track). */
  readonly #appWrites = new Map<string, Promise<boolean>>();
  /** Refreshed sets the store refused, saved in the background. */
  readonly #unsaved = new UnsavedSets((key, set) => this.#saveUnsaved(key, set));

  constructor(options: TokenManagerOptions) {
    if (!options || typeof options !== 'object') throw optionError('options object is required');
    if (!options.refresher || typeof options.refresher.refresh !== 'function') throw optionError('refresher (a TokenRefresher) is required');
    if (!options.store || typeof options.store.get !== 'function') throw optionError('store (a TokenStore) is required');
    this.store = options.store;
    this.skewSeconds = nonNegative('skewSeconds', options.skewSeconds ?? 60);
    const retry = options.retry === false ? { attempts: 1 } : (options.retry ?? {});
    const settings = {
      store: options.store,
      refresher: options.refresher,
      lock: options.lock,
      lockWaitMs: options.lockWaitMs === undefined ? undefined : nonNegative('lockWaitMs', options.lockWaitMs),
      lockPollMs: positive('lockPollMs', options.lockPollMs ?? 50),
      saveHoldMs: nonNegative('saveHoldMs', options.saveHoldMs ?? DEFAULT_SAVE_HOLD_MS),
      retry: {
        attempts: positiveInteger('retry.attempts', retry.attempts ?? 3),
        baseDelayMs: nonNegative('retry.baseDelayMs', retry.baseDelayMs ?? 100),
        maxDelayMs: nonNegative('retry.maxDelayMs', retry.maxDelayMs ?? 2000),
      },
    };
    if (options.schedule) {
      if (!options.schedule.client) throw optionError('schedule.client (an ioredis client) is required');
      this.#schedule = { client: options.schedule.client, key: options.schedule.key ?? DEFAULT_SCHEDULE_KEY };
    }
    const rejectionChecks: Record<string, TokenRejectedCheck> = { ...options.isTokenRejected };
    this.#fetcher = new AuthorizedFetch(
      {
        getAccessToken: (userKey, provider) => this.getAccessToken(userKey, provider),
        refresh: (userKey, provider, rejected) => this.refresh(userKey, provider, rejected),
        rejectionCheck: (provider) => rejectionChecks[provider] ?? options.refresher.rejectionCheck?.(provider),
      },
      nonNegative('rejectionCooldownMs', options.rejectionCooldownMs ?? 30_000),
    );
    this.#hooks = { onRefresh: options.onRefresh, onRetry: options.onRetry, onError: options.onError };
    this.#writes = new TokenWrites({
      store: this.store,
      schedule: this.#schedule,
      onScheduleError: (userKey, provider, error) => this.#emit('onError', { provider, userKey, error: asError(error), reason: 'schedule_failed' }),
      onWrite: (key) => this.#reads.delete(key),
      appWrite: (key) => this.#appWrites.get(key),
    });
    this.#context = { ...settings, writes: this.#writes, unsaved: this.#unsaved, emit: (hook, event) => this.#emit(hook, event) };
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
    this.#fetcher.forget(key);
    await this.#writes.schedule(userKey, provider, undefined);
  }

  /**
   * Disconnects: revokes the grant at the provider (the refresh token, or the access token when there is
   * none; RFC 7009 through the registered strategy), then deletes the stored set. A refresh running here
   * finishes first, so the token revoked is the latest. When the provider does not revoke, the tokens
   * are deleted anyway and the typed error is in the result (and `onError`, `revoke_failed`) — unless
   * `keepTokensOnError`, which rejects with it and keeps them. Resolves `{ revoked: false, deleted: false }`
   * when nothing is stored.
   */
  async revoke(userKey: string, provider: string, options: RevokeOptions = {}): Promise<RevokeResult> {
    checkKeys(userKey, provider);
    const key = storeKey(userKey, provider);
    // No refresh may start from these tokens while they are revoked — here (#shared waits for this) and,
    // with a lock, in other processes (the refresh lock is held until the delete) — or a refresh token
    // issued meanwhile would outlive the disconnect at a provider that revokes one token only.
    const revoking = this.#revokeLocked(userKey, provider, key, options);
    const settled = revoking.then(ignore, ignore);
    this.#revoking.set(key, settled);
    try {
      return await revoking;
    } finally {
      if (this.#revoking.get(key) === settled) this.#revoking.delete(key);
    }
  }

  async #revokeLocked(userKey: string, provider: string, key: string, options: RevokeOptions): Promise<RevokeResult> {
    // A refresh already running here finishes first (it may hold the lock): the token revoked is the latest.
    await this.#flights.get(key)?.promise?.catch(() => undefined);
    return this.#holdingRefreshLock(userKey, provider, () => this.#revokeAndDelete(userKey, provider, key, options));
  }

  async #revokeAndDelete(userKey: string, provider: string, key: string, options: RevokeOptions): Promise<RevokeResult> {
    const tokens = this.#unsaved.get(key)?.tokens ?? (await this.store.get(key));
    if (!tokens) return { revoked: false, deleted: false };
    let error: Error | undefined;
    try {
      const { refresher } = this.#context;
      if (!refresher.revoke) {
        throw new OAuthRequestError({ code: ErrorCode.REVOCATION_UNSUPPORTED, provider, message: 'The refresher given to TokenManager cannot revoke tokens' });
      }
      await refresher.revoke(provider, tokens.refreshToken ?? tokens.accessToken, tokens.refreshToken ? 'refresh_token' : 'access_token');
    } catch (caught) {
      error = asError(caught);
      this.#emit('onError', { provider, userKey, error, reason: 'revoke_failed' });
      if (options.keepTokensOnError) throw error;
    }
    await this.delete(userKey, provider);
    return error ? { revoked: false, deleted: true, error } : { revoked: true, deleted: true };
  }

  /** Runs `work` holding the cross-process refresh lock of (user, provider), when there is a lock. */
  async #holdingRefreshLock<T>(userKey: string, provider: string, work: () => Promise<T>): Promise<T> {
    const { lock, retry, lockPollMs, refresher } = this.#context;
    if (!lock) return work();
    const name = `refresh:${storeKey(userKey, provider)}`;
    const waitMs = this.#context.lockWaitMs ?? defaultLockWait(retry, refresher.timeoutFor?.(provider) ?? DEFAULT_TIMEOUT_MS, lock.ttlMs);
    const started = Date.now();
    for (;;) {
      const token = await lock.acquire(name);
      if (token !== null) {
        const hold = new LockHold(lock, name, token);
        try {
          return await work();
        } finally {
          await hold.release();
        }
      }
      const waited = Date.now() - started;
      if (waited >= waitMs) throw new RefreshLockTimeoutError({ provider, userKey, waitedMs: waited, lockName: name });
      await sleep(Math.min(lockPollMs, waitMs - waited));
    }
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
    if (running?.trigger === 'expiry' && running.promise) return joined(running);
    // A set refreshed here that the store has not taken yet is newer than the store's.
    const unsaved = this.#unsaved.get(key);
    const current = unsaved?.tokens ?? (await this.#readShared(key));
    if (!current) throw reauth(userKey, provider, 'no_tokens');
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
   * or the provider's rule — an error code inside an HTTP 200, say — given as an option or supplied by
   * the registered strategy), the token is refreshed once and the request sent once more. A request
   * whose body is a stream is not sent twice. A token that a refresh forced here produced less than
   * `rejectionCooldownMs` ago is not refreshed again: its rejection is returned as it is.
   */
  fetch(userKey: string, provider: string, url: string | URL, init: RequestInit = {}, options: FetchOptions = {}): Promise<Response> {
    checkKeys(userKey, provider);
    return this.#fetcher.send(storeKey(userKey, provider), userKey, provider, url, init, options);
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

  #shared(userKey: string, provider: string, options: FlightOptions): Promise<TokenSet> {
    const key = storeKey(userKey, provider);
    const existing = this.#flights.get(key);
    if (existing?.promise) return joined(existing);
    // Tokens being revoked: refresh (or rather, find them gone) once that is done.
    const revoking = this.#revoking.get(key);
    if (revoking) return revoking.then(() => this.#shared(userKey, provider, options));
    const flight = new Flight(this.#context, userKey, provider, key, options.trigger);
    const promise = traced(
      refreshFlights,
      (): RefreshFlightEvent => ({ provider, trigger: options.trigger, joined: 0, lockWaitMs: 0, attempts: 0 }),
      async (event) => {
        flight.event = event;
        try {
          const tokens = await flight.run(options);
          if (event) event.outcome = event.rotated === undefined ? 'reused' : 'refreshed';
          return tokens;
        } catch (error) {
          if (event) event.outcome = 'failed';
          throw error;
        }
      },
      refreshErrorCode,
    )
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

  /** The background save of an unsaved set (see UnsavedSets). Throws while the store fails. */
  async #saveUnsaved(key: string, set: UnsavedSet): Promise<boolean> {
    // The app is saving or deleting these tokens: once that reaches the store this set is stale.
    const appWrite = this.#appWrites.get(key);
    if (appWrite && (await appWrite)) return false;
    const pair = parseStoreKey(key) as { userKey: string; provider: string };
    return this.#writes.replace(pair.userKey, pair.provider, set.replaces, set.tokens);
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

/** A caller shares a running flight (counted in its trace). */
function joined(flight: Flight): Promise<TokenSet> {
  if (flight.event) flight.event.joined++;
  return flight.promise as Promise<TokenSet>;
}

function ignore(): void {}

function sleepUntil(deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    timer.unref();
  });
}
