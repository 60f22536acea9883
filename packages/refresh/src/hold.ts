import type { RefreshLock } from './lock';

/**
 * A refresh lock this process holds, kept alive by a watchdog (every `ttlMs / 3`) until it is released
 * — or, when the refreshed set could not be saved, until the background save succeeds.
 */
export class LockHold {
  readonly #lock: RefreshLock;
  readonly #name: string;
  readonly #token: string;
  /** What the watchdog extends to: `ttlMs`, and from confirm() on, the longer of it and the hold. */
  #ttlMs: number;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(lock: RefreshLock, name: string, token: string) {
    this.#lock = lock;
    this.#name = name;
    this.#token = token;
    this.#ttlMs = lock.ttlMs;
    if (lock.extend) {
      this.#watchdog = setInterval(() => {
        lock.extend?.(name, token, this.#ttlMs).catch(() => false);
      }, Math.max(10, Math.floor(lock.ttlMs / 3)));
      this.#watchdog.unref();
    }
  }

  /**
   * Just before a refresh token is presented: true when the lock is still ours, false when it was lost
   * (expired under a paused or slow process — someone else may be refreshing). From here until the
   * release the lock lives at least `holdMs`, even if it can no longer be extended: a Redis that stops
   * taking writes right after the provider rotated the token must not let another process present the
   * old one. A lock that cannot be extended is taken as held. Throws when Redis cannot be written: a
   * refresh whose result could not be saved must not start.
   */
  async confirm(holdMs: number): Promise<boolean> {
    if (!this.#lock.extend) return true;
    this.#ttlMs = Math.max(this.#lock.ttlMs, Math.round(holdMs));
    return this.#lock.extend(this.#name, this.#token, this.#ttlMs);
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
