/**
 * Refreshed token sets the store refused. The provider may already have revoked the refresh token
 * each one replaces, so each is the only copy of a live grant: it is saved in the background, with
 * backoff, until the store takes it (or has moved on: a login, a logout, another process's refresh),
 * and the refresh lock is held meanwhile, so other processes wait instead of refreshing with the
 * revoked token. `drain()` flushes them at shutdown.
 */
import type { TokenSet } from '@passport-martech/oauth2';
import type { LockHold } from './hold';

export interface UnsavedSet {
  readonly tokens: TokenSet;
  /** The refresh token it was refreshed from: it is saved only over a record still holding that one. */
  readonly replaces: string;
  /** The store's last error. */
  error: unknown;
  /** Settles when the set was saved, found stale, or given up at shutdown. */
  readonly done: Promise<void>;
}

interface Entry extends UnsavedSet {
  done: Promise<void>;
  hold: LockHold | undefined;
  stopped: boolean;
  /** Ends the current backoff wait at once. */
  wake: () => void;
  urgent: boolean;
}

/** Writes the set over `replaces`; true when written, false when the store moved on; throws when the store fails. */
export type SaveUnsaved = (key: string, set: UnsavedSet) => Promise<boolean>;

/** First wait before a background retry, and its cap: short, so the save wins the race when the store comes back. */
const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 250;
/** Between tries while drain() waits: the app is shutting down, and each try is one GET and one EVAL. */
const URGENT_DELAY_MS = 25;

export class UnsavedSets {
  readonly #entries = new Map<string, Entry>();
  readonly #save: SaveUnsaved;

  constructor(save: SaveUnsaved) {
    this.#save = save;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): UnsavedSet | undefined {
    return this.#entries.get(key);
  }

  /** Starts saving `tokens` in the background; `hold` is released once it is saved or stale. */
  keep(key: string, tokens: TokenSet, replaces: string, error: unknown, hold: LockHold | undefined): UnsavedSet {
    this.forget(key);
    const entry: Entry = { tokens, replaces, error, hold, stopped: false, urgent: false, wake: () => undefined, done: Promise.resolve() };
    this.#entries.set(key, entry);
    entry.done = this.#retry(key, entry);
    return entry;
  }

  /** The app saved or deleted these tokens: the unsaved set is older than that and is dropped. */
  forget(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    entry.stopped = true;
    entry.wake();
  }

  /** Tries every set now and again without backoff; resolves the number still unsaved at the deadline. */
  async drain(deadline: number): Promise<number> {
    const entries = [...this.#entries.values()];
    for (const entry of entries) {
      entry.urgent = true;
      entry.wake();
    }
    await Promise.race([Promise.all(entries.map((e) => e.done)), waitUntil(deadline)]);
    // Past the deadline the sets still unsaved go back to their backoff.
    for (const entry of entries) entry.urgent = false;
    return this.#entries.size;
  }

  /** Stops every background save; their locks are left to expire (other processes wait that long). */
  async stop(): Promise<void> {
    const entries = [...this.#entries.values()];
    for (const entry of entries) {
      entry.stopped = true;
      entry.wake();
    }
    await Promise.all(entries.map((e) => e.done));
  }

  async #retry(key: string, entry: Entry): Promise<void> {
    let delay = FIRST_DELAY_MS;
    let finished = false;
    while (!entry.stopped && this.#entries.get(key) === entry) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, entry.urgent ? URGENT_DELAY_MS : delay);
        timer.unref();
        entry.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (entry.stopped || this.#entries.get(key) !== entry) break;
      try {
        await this.#save(key, entry);
        finished = true;
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      } catch (error) {
        entry.error = error;
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      }
      if (finished) break;
    }
    // Saved, stale, or superseded by the app's own save/delete: others may refresh again. Stopped at
    // shutdown with the set unsaved: the lock is left to expire, keeping them off a little longer.
    if (finished || !entry.stopped || this.#entries.get(key) !== entry) await entry.hold?.release();
    else entry.hold?.abandon();
  }
}

function waitUntil(deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    timer.unref();
  });
}
