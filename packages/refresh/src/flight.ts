import { DEFAULT_TIMEOUT_MS, expiresWithin } from '@passport-martech/oauth2';
import type { TokenSet } from '@passport-martech/oauth2';
import { checkRefreshAnswer } from './answer';
import { asError, isFailoverReply, isInvalidGrant, isTransient, sleep } from './classify';
import { publishLock, type RefreshFlightEvent } from './diagnostics';
import { ReauthenticationRequiredError, RefreshLockTimeoutError, type ReauthenticationReason } from './errors';
import { leaveFailureNote, readFailureNote } from './failure-note';
import { LockHold } from './hold';
import type { RefreshLock } from './lock';
import type { RefreshTrigger, Refresher, RetryOptions, TokenManagerOptions } from './manager-options';
import { backoffCap, defaultLockWait } from './retry-timing';
import type { TokenStore } from './stores/types';
import type { TokenWrites } from './token-writes';
import type { UnsavedSets } from './unsaved';

/** Quick tries of the store write after a refresh, and the wait before the second (doubled for the third). */
const SAVE_ATTEMPTS = 3;
const SAVE_RETRY_DELAY_MS = 25;

type HookName = 'onRefresh' | 'onRetry' | 'onError';
/** Calls a TokenManager hook; a hook that throws does not break the refresh. */
export type Emit = <K extends HookName>(hook: K, event: Parameters<NonNullable<TokenManagerOptions[K]>>[0]) => void;

/** What every flight of one TokenManager shares: its settings and its write paths. */
export interface FlightContext {
  readonly store: TokenStore;
  readonly refresher: Refresher;
  readonly lock: RefreshLock | undefined;
  /** undefined: derived per provider (defaultLockWait). */
  readonly lockWaitMs: number | undefined;
  readonly lockPollMs: number;
  readonly saveHoldMs: number;
  readonly retry: Required<RetryOptions>;
  readonly writes: TokenWrites;
  readonly unsaved: UnsavedSets;
  readonly emit: Emit;
}

export interface FlightOptions {
  /** The access token the caller found unusable. */
  stale: string;
  /** Refresh even when the stored token does not expire within `skewSeconds` (it was rejected). */
  force: boolean;
  skewSeconds: number;
  trigger: RefreshTrigger;
}

/**
 * The lock was lost before the refresh token was presented, or the stored refresh token changed
 * between two tries: start over from the store (and, with a lock, wait for whoever holds it now).
 */
class LockLost extends Error {}

export function reauth(userKey: string, provider: string, reason: ReauthenticationReason, cause?: unknown): ReauthenticationRequiredError {
  return new ReauthenticationRequiredError({ provider, userKey, reason, cause });
}

/**
 * One refresh of one (user, provider): it reads the store, takes the lock, presents the refresh token
 * (retrying transient failures), and saves the result over the set it started from. save() and
 * delete() of the TokenManager tell it, through `saving` and `deleting`, what the app wrote meanwhile.
 */
export class Flight {
  /**
   * A delete (logout, unlink) started after this flight's last read: if it reaches the store (resolves
   * true), the result must not be saved back; if it fails, nothing was forgotten and the result is saved.
   */
  deleting?: Promise<boolean>;
  /** A save (a login) started after this flight's last read: if it reaches the store, its tokens stay. */
  saving?: Promise<boolean>;
  promise?: Promise<TokenSet>;
  /** The `passport-martech:refresh` trace's context, when anyone listens: filled in as the flight goes. */
  event?: RefreshFlightEvent;
  #hold?: LockHold;
  /** The hold went to the background save of an unsaved set: the flight must not release it. */
  #holdKept = false;
  readonly #context: FlightContext;

  constructor(
    context: FlightContext,
    readonly userKey: string,
    readonly provider: string,
    readonly key: string,
    readonly trigger: RefreshTrigger,
  ) {
    this.#context = context;
  }

  async run(options: FlightOptions): Promise<TokenSet> {
    const { userKey, provider, key } = this;
    const { lock, unsaved: unsavedSets } = this.#context;
    const lockName = `refresh:${key}`;
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
      this.deleting = this.saving = undefined;
      const tokens = await this.#context.store.get(key);
      if (tokens) return tokens;
      // Purged after another process's invalid_grant: say so, rather than "nothing stored".
      const failure = lock ? await readFailureNote(lock, lockName, userKey, provider, undefined) : undefined;
      throw failure ?? reauth(userKey, provider, 'no_tokens');
    };

    const unsaved = unsavedSets.get(key);
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
          return await this.#refreshWithRetry(current, read, usable);
        } catch (error) {
          if (!(error instanceof LockLost)) throw error;
        }
      }
    }

    const { retry, lockPollMs } = this.#context;
    const waitMs = this.#context.lockWaitMs ?? defaultLockWait(retry, this.#context.refresher.timeoutFor?.(provider) ?? DEFAULT_TIMEOUT_MS, lock.ttlMs);
    const started = Date.now();
    for (;;) {
      const current = await read();
      if (usable(current)) return current;
      let token: string | null;
      try {
        token = await lock.acquire(lockName);
      } catch (error) {
        publishLock(provider, 'refused', error);
        // Redis refuses the lock (a failover, OOM): no refresh can start, since its result could not be
        // saved either. A token that has not expired yet beats an error; the next caller tries again.
        if (!options.force && !expiresWithin(current, 0)) return current;
        // A failover in progress clears within about a second (docs: "Running on Redis Cluster /
        // Sentinel"): wait for it within the same bound as for another process's lock.
        if (isFailoverReply(error) && Date.now() - started + lockPollMs < waitMs) {
          await sleep(lockPollMs);
          continue;
        }
        throw error;
      }
      publishLock(provider, token === null ? 'busy' : 'acquired');
      if (this.event) this.event.lockWaitMs = Date.now() - started;
      if (token !== null) {
        const hold = new LockHold(lock, lockName, token);
        this.#hold = hold;
        this.#holdKept = false;
        let presented: string | undefined;
        try {
          // The previous holder may have saved between our read and our acquire, or failed.
          const latest = await read();
          if (usable(latest)) return latest;
          const failure = await readFailureNote(lock, lockName, userKey, provider, latest);
          if (failure) throw failure;
          presented = latest.refreshToken;
          return await this.#refreshWithRetry(latest, read, usable);
        } catch (error) {
          if (!(error instanceof LockLost)) {
            // Lasts long enough for every waiter to poll once more: a short negative cache.
            if (presented) await leaveFailureNote(lock, lockName, presented, error, Math.max(1000, retry.maxDelayMs, 4 * lockPollMs));
            throw error;
          }
        } finally {
          if (!this.#holdKept) await hold.release();
          this.#hold = undefined;
        }
      }
      const waited = Date.now() - started;
      if (waited >= waitMs) {
        throw new RefreshLockTimeoutError({ provider, userKey, waitedMs: waited, lockName: lockName });
      }
      await sleep(Math.min(lockPollMs, waitMs - waited));
    }
  }

  /**
   * The refresh itself, retried on transient failures. Before each try the lock is confirmed and, from
   * the second on, the store re-read: a refresh token is presented only by the lock holder, right after
   * reading it (one stale presentation revokes the whole grant at a provider with reuse detection).
   */
  async #refreshWithRetry(current: TokenSet, read: () => Promise<TokenSet>, usable: (t: TokenSet) => boolean): Promise<TokenSet> {
    const { userKey, provider } = this;
    const { retry, emit } = this.#context;
    const refreshToken = current.refreshToken;
    if (!refreshToken) throw reauth(userKey, provider, 'no_refresh_token');
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        const latest = await read();
        if (latest.refreshToken !== refreshToken) {
          if (usable(latest)) return latest;
          throw new LockLost();
        }
      }
      if (this.#hold && !(await this.#hold.confirm(this.#context.saveHoldMs))) {
        publishLock(provider, 'lost');
        throw new LockLost();
      }
      let fresh: TokenSet;
      if (this.event) this.event.attempts++;
      try {
        fresh = await this.#context.refresher.refresh(provider, refreshToken);
      } catch (error) {
        if (isInvalidGrant(error)) return this.#afterInvalidGrant(refreshToken, error);
        if (attempt < retry.attempts && isTransient(error)) {
          const delayMs = Math.floor(Math.random() * backoffCap(retry, attempt));
          emit('onRetry', { provider, userKey, attempt, delayMs, error: error as Error });
          await sleep(delayMs);
          continue;
        }
        throw error;
      }
      const rotated = fresh.refreshToken !== undefined && fresh.refreshToken !== refreshToken;
      if (this.event) this.event.rotated = rotated;
      // No refresh token in the answer: the old one stays valid (RFC 6749 6), keep it.
      const checked = checkRefreshAnswer(fresh.refreshToken ? fresh : { ...fresh, refreshToken }, provider);
      if (checked.problem) emit('onError', { provider, userKey, error: new Error(checked.problem), reason: 'invalid_answer' });
      // Saved before the flight resolves: nobody sees the new access token before the store has the new refresh token.
      const result = await this.#commit(refreshToken, checked.tokens);
      emit('onRefresh', { provider, userKey, durationMs: Date.now() - started, attempt, trigger: this.trigger, rotated });
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
  async #afterInvalidGrant(failedRefreshToken: string, cause: unknown): Promise<TokenSet> {
    const { userKey, provider, key } = this;
    const stored = await this.#context.store.get(key);
    if (stored && stored.refreshToken !== failedRefreshToken) {
      if (!expiresWithin(stored, 0)) return stored;
    } else if (stored) {
      await this.#context.writes.retire(userKey, provider, failedRefreshToken);
    }
    throw reauth(userKey, provider, 'invalid_grant', cause);
  }

  /**
   * Saves a refreshed set, only over the set it was refreshed from (an atomic compare-and-set where the
   * store offers one): a delete (logout, unlink) or a save (a new login) that happened meanwhile wins,
   * here or in another process. A failing store is retried briefly; if it still fails, the set goes to
   * the background saves with the lock (the provider may already have revoked the old refresh token,
   * so it may be the only one that works) and is reported (`save_failed`). Resolves what the callers get.
   */
  async #commit(usedRefreshToken: string, tokens: TokenSet): Promise<TokenSet> {
    const { userKey, provider, key } = this;
    let lastError: unknown;
    for (let attempt = 1; attempt <= SAVE_ATTEMPTS; attempt++) {
      if (attempt > 1) await sleep(SAVE_RETRY_DELAY_MS * 2 ** (attempt - 2));
      if (this.deleting && (await this.deleting)) throw reauth(userKey, provider, 'deleted');
      // A login saved new tokens meanwhile: they keep the store; the callers get the fresh token.
      if (this.saving && (await this.saving)) return tokens;
      let written: boolean;
      try {
        written = await this.#context.writes.replace(userKey, provider, usedRefreshToken, tokens);
      } catch (error) {
        lastError = error;
        // Written but not yet confirmed by the replicas (RedisTokenStore replicaAcks): trying again here
        // would hold the callers up to the WAIT timeout each time; the background save confirms it.
        if ((error as { code?: unknown }).code === 'REPLICA_ACK_TIMEOUT') break;
        continue;
      }
      if (written) return tokens;
      // Another writer got there first (a logout, a login, another process): its set stays.
      const stored = await this.#context.store.get(key).catch(() => undefined);
      if (!stored || (this.deleting && (await this.deleting))) throw reauth(userKey, provider, 'deleted');
      return expiresWithin(stored, 0) ? tokens : stored;
    }
    if (this.#hold) this.#holdKept = true;
    this.#context.unsaved.keep(key, tokens, usedRefreshToken, lastError, this.#hold);
    this.#context.emit('onError', { provider, userKey, error: asError(lastError), reason: 'save_failed' });
    return tokens;
  }
}
