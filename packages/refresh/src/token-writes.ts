/**
 * Every write TokenManager makes: token sets to the store — plain for a login, compare-and-set for a
 * refresh, retire after invalid_grant — and expiries to the scheduler's sorted set.
 */
import type { TokenSet } from '@passport-martech/oauth2';
import { storeKey } from './keys';
import type { RedisClient } from './redis';
import type { TokenStore } from './stores/types';

export interface TokenWritesOptions {
  store: TokenStore;
  schedule: { client: RedisClient; key: string } | undefined;
  /** A schedule write failed (reported, never thrown). */
  onScheduleError: (userKey: string, provider: string, error: unknown) => void;
  /** A write to `key` happened: reads shared before it are stale. */
  onWrite: (key: string) => void;
  /** The app's save or delete of `key` in progress, if any: resolves whether it reached the store. */
  appWrite: (key: string) => Promise<boolean> | undefined;
}

export class TokenWrites {
  readonly #store: TokenStore;
  readonly #schedule: TokenWritesOptions['schedule'];
  readonly #onScheduleError: TokenWritesOptions['onScheduleError'];
  readonly #onWrite: TokenWritesOptions['onWrite'];
  readonly #appWrite: TokenWritesOptions['appWrite'];

  constructor(options: TokenWritesOptions) {
    this.#store = options.store;
    this.#schedule = options.schedule;
    this.#onScheduleError = options.onScheduleError;
    this.#onWrite = options.onWrite;
    this.#appWrite = options.appWrite;
  }

  /** A login's tokens: written whatever is stored, then scheduled. */
  async save(userKey: string, provider: string, tokens: TokenSet): Promise<void> {
    const key = storeKey(userKey, provider);
    this.#onWrite(key);
    await this.#store.set(key, tokens);
    await this.schedule(userKey, provider, tokens);
  }

  /**
   * A refreshed set, written only over `fromRefreshToken` and then scheduled: the store's atomic
   * replace, or — for a store without one — read, compare, write. Resolves whether it was written.
   */
  async replace(userKey: string, provider: string, fromRefreshToken: string, tokens: TokenSet): Promise<boolean> {
    const key = storeKey(userKey, provider);
    this.#onWrite(key);
    const written = this.#store.replace ? await this.#store.replace(key, fromRefreshToken, tokens) : await this.#compareThenSet(key, fromRefreshToken, tokens);
    if (written) await this.schedule(userKey, provider, tokens);
    return written;
  }

  /**
   * replace() for a store without one: exact against this process's own saves and deletes (it waits
   * for one in progress, and issues its set in the same tick as its last check), a round trip's window
   * against other processes.
   */
  async #compareThenSet(key: string, fromRefreshToken: string, tokens: TokenSet): Promise<boolean> {
    for (;;) {
      const pending = this.#appWrite(key);
      if (pending) {
        if (await pending) return false;
        continue;
      }
      const current = await this.#store.get(key);
      if (this.#appWrite(key)) continue;
      if (current?.refreshToken !== fromRefreshToken) return false;
      await this.#store.set(key, tokens);
      return true;
    }
  }

  /** After invalid_grant for `refreshToken`: retired (or, without `retire`, deleted) if still stored, and unscheduled. */
  async retire(userKey: string, provider: string, refreshToken: string): Promise<void> {
    const key = storeKey(userKey, provider);
    this.#onWrite(key);
    if (this.#store.retire) await this.#store.retire(key, refreshToken);
    else if ((await this.#store.get(key))?.refreshToken === refreshToken) await this.#store.delete(key);
    await this.schedule(userKey, provider, undefined);
  }

  /**
   * Records the expiry for RefreshScheduler (removes it for tokens that cannot be refreshed, or none).
   * Best effort: the schedule only refreshes ahead of time, getAccessToken still refreshes on demand,
   * so a failure here is reported and never fails the save, refresh or delete it follows.
   */
  async schedule(userKey: string, provider: string, tokens: TokenSet | undefined): Promise<void> {
    if (!this.#schedule) return;
    const key = storeKey(userKey, provider);
    try {
      if (tokens?.expiresAt !== undefined && tokens.refreshToken) await this.#schedule.client.zadd(this.#schedule.key, tokens.expiresAt, key);
      else await this.#schedule.client.zrem(this.#schedule.key, key);
    } catch (error) {
      this.#onScheduleError(userKey, provider, error);
    }
  }
}
