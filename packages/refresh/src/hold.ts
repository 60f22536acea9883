import type { RefreshLock } from './lock';

/**
 * A refresh lock this process holds, kept alive by a watchdog (every `ttlMs / 3`) until it is released
 * — or, when the refreshed set could not be saved, until the background save succeeds.
 */
export class LockHold {
  readonly #lock: RefreshLock;
  readonly #name: string;
  readonly #token: string;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(lock: RefreshLock, name: string, token: string) {
    this.#lock = lock;
    this.#name = name;
    this.#token = token;
    if (lock.extend) {
      this.#watchdog = setInterval(() => {
        lock.extend?.(name, token).catch(() => false);
      }, Math.max(10, Math.floor(lock.ttlMs / 3)));
      this.#watchdog.unref();
    }
  }

  /**
   * Just before a refresh token is presented: true when the lock is still ours (its expiry pushed out
   * again), false when it was lost (expired under a paused or slow process — someone else may be
   * refreshing). A lock that cannot be extended is taken as held. Throws when Redis cannot be written:
   * a refresh whose result could not be saved must not start.
   */
  async confirm(): Promise<boolean> {
    if (!this.#lock.extend) return true;
    return this.#lock.extend(this.#name, this.#token);
  }

  async release(): Promise<void> {
    this.#stopWatchdog();
    await this.#lock.release(this.#name, this.#token).catch(() => false);
  }

  /** Stops extending and leaves the lock to expire by itself (at shutdown, with a set still unsaved). */
  abandon(): void {
    this.#stopWatchdog();
  }

  #stopWatchdog(): void {
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
  }
}
