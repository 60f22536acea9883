import { ReauthenticationRequiredError } from './errors';
import { parseStoreKey } from './keys';
import type { TokenManager } from './manager';
import type { RedisClient } from './redis';

export interface RefreshSchedulerOptions {
  /**
   * A TokenManager constructed with `schedule` (and, when several workers run, a `lock`): its `save`
   * is what records the expiries this scheduler reads. Without `schedule` the constructor throws.
   */
  manager: TokenManager;
  /** The Redis client to read the sorted set with (another connection to the same Redis); default: the manager's `schedule.client`. */
  client?: RedisClient;
  /** The sorted set's key: the manager's `schedule.key` (the default); any other throws. */
  key?: string;
  /** Refresh tokens that expire within this many seconds; default 300. */
  aheadSeconds?: number;
  /** Time between two passes, in milliseconds; default 30 000. */
  intervalMs?: number;
  /** At most this many tokens per pass; default 100. */
  batchSize?: number;
  /** Called for each token whose refresh failed (ReauthenticationRequiredError included). */
  onError?: (event: { provider: string; userKey: string; error: Error }) => void;
  /**
   * Called when a pass the timer ran failed (Redis unreachable, say), and for a member that is not a
   * store key and could not be removed. The timer goes on. (`tick()` rejects to its own caller.)
   */
  onPassError?: (error: Error) => void;
}

/** What one pass did. */
export interface SchedulerPassResult {
  /** Members found due. */
  due: number;
  /** Tokens now valid beyond `aheadSeconds` (refreshed here or by another worker). */
  refreshed: number;
  /** Members dropped from the schedule: tokens gone or re-authentication required. */
  dropped: number;
  failed: number;
}

/**
 * The background refresher: every `intervalMs`, refreshes the tokens whose expiry (recorded by
 * `TokenManager.save` in a Redis sorted set) falls within `aheadSeconds`. Several workers can run it
 * at once: each refresh goes through the manager's single flight and lock, so a token is refreshed
 * once, and the refresh moves its score past the window for everyone.
 */
export class RefreshScheduler {
  readonly aheadSeconds: number;
  readonly intervalMs: number;
  readonly #manager: TokenManager;
  readonly #client: RedisClient;
  readonly #key: string;
  readonly #batchSize: number;
  readonly #onError: RefreshSchedulerOptions['onError'];
  readonly #onPassError: RefreshSchedulerOptions['onPassError'];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SchedulerPassResult> | undefined;
  #started = false;

  constructor(options: RefreshSchedulerOptions) {
    if (!options || typeof options !== 'object' || !options.manager) {
      throw new TypeError('@passport-martech/refresh: RefreshScheduler needs { manager }');
    }
    // Without `schedule` the manager's save() records no expiry, so every pass would find nothing:
    // refused here rather than run silently (a client given to the scheduler alone cannot fix that).
    const schedule = options.manager.schedule;
    if (!schedule) {
      throw new TypeError(
        '@passport-martech/refresh: RefreshScheduler needs a manager constructed with the `schedule` option ' +
          '(new TokenManager({ schedule: { client } })): without it save() records no expiries and the scheduler would find nothing to refresh',
      );
    }
    if (options.key !== undefined && options.key !== schedule.key) {
      throw new TypeError(`@passport-martech/refresh: RefreshScheduler key "${options.key}" differs from the manager's schedule.key "${schedule.key}", where save() records expiries`);
    }
    this.#manager = options.manager;
    this.#client = options.client ?? schedule.client;
    this.#key = schedule.key;
    this.aheadSeconds = check('aheadSeconds', options.aheadSeconds ?? 300, 0);
    this.intervalMs = check('intervalMs', options.intervalMs ?? 30_000, 1);
    this.#batchSize = Math.floor(check('batchSize', options.batchSize ?? 100, 1));
    this.#onError = options.onError;
    this.#onPassError = options.onPassError;
  }

  /** Starts the periodic passes (the first one at once). The timer does not keep the process alive. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    this.#schedule(0);
    return this;
  }

  /** Stops the passes; resolves once a pass in progress has finished. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  get running(): boolean {
    return this.#started;
  }

  /** One pass now (what the timer runs). Passes never overlap: a call during one joins it. */
  tick(): Promise<SchedulerPassResult> {
    if (!this.#running) {
      this.#running = this.#pass().finally(() => {
        this.#running = undefined;
      });
    }
    return this.#running;
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      this.tick()
        .catch((error: unknown) => this.#reportPass(error))
        .finally(() => {
          if (this.#started) this.#schedule(this.intervalMs);
        });
    }, delay);
    this.#timer.unref();
  }

  async #pass(): Promise<SchedulerPassResult> {
    const horizon = Date.now() + this.aheadSeconds * 1000;
    const members = await this.#client.zrangebyscore(this.#key, '-inf', horizon, 'LIMIT', 0, this.#batchSize);
    const result: SchedulerPassResult = { due: members.length, refreshed: 0, dropped: 0, failed: 0 };
    // Each member settles on its own: one that fails never rejects the pass while others still run.
    await Promise.all(
      members.map(async (member) => {
        const pair = parseStoreKey(member);
        if (!pair) {
          // Not a store key (written by something else): removed, or reported when that fails.
          try {
            await this.#client.zrem(this.#key, member);
            result.dropped++;
          } catch (error) {
            result.failed++;
            this.#reportPass(error);
          }
          return;
        }
        try {
          const tokens = await this.#manager.refreshIfExpiring(pair.userKey, pair.provider, this.aheadSeconds);
          if (tokens) {
            result.refreshed++;
            // Keeps the schedule right even when the token was saved by a manager without `schedule`.
            if (tokens.expiresAt !== undefined) await this.#client.zadd(this.#key, tokens.expiresAt, member);
          } else {
            await this.#client.zrem(this.#key, member);
            result.dropped++;
          }
        } catch (error) {
          if (error instanceof ReauthenticationRequiredError) {
            await this.#client.zrem(this.#key, member).catch(() => undefined);
            result.dropped++;
          } else result.failed++;
          try {
            this.#onError?.({ ...pair, error: error as Error });
          } catch {
            // reporting must not stop the pass
          }
        }
      }),
    );
    return result;
  }

  #reportPass(error: unknown): void {
    try {
      this.#onPassError?.(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // reporting must not stop the timer
    }
  }
}

function check(name: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`@passport-martech/refresh: RefreshScheduler ${name} must be a number >= ${min}`);
  }
  return value;
}
