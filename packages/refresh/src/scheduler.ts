import { traced } from '@passport-martech/oauth2/provider-kit';
import { refreshErrorCode, schedulerPasses, type SchedulerPassEvent } from './diagnostics';
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
  /**
   * A member whose refresh fails (a 5xx, an unregistered provider, `invalid_client` after a secret
   * rotation) is tried again after a backoff — `intervalMs` × 2^(failures − 1), at most
   * `maxBackoffMs` (default one hour) — so it never stands in front of members that are due, and is
   * dropped from the schedule after `maxFailures` failures in a row (default 8; its token still
   * refreshes on demand, and the next save schedules it again).
   */
  maxFailures?: number;
  maxBackoffMs?: number;
  /**
   * Called for each token whose refresh failed (ReauthenticationRequiredError included), with the
   * failures in a row so far and whether the member was dropped for good.
   */
  onError?: (event: { provider: string; userKey: string; error: Error; failures: number; gaveUp: boolean }) => void;
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
  /** Members whose refresh failed: postponed by their backoff (or dropped after maxFailures). */
  failed: number;
  /** Due members not started because a refresh of theirs from an earlier pass is still running. */
  running: number;
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
  readonly #maxFailures: number;
  readonly #maxBackoffMs: number;
  /** Members whose refresh is running (a slow one must not hold up the next pass). */
  readonly #inFlight = new Set<string>();
  readonly #onError: RefreshSchedulerOptions['onError'];
  readonly #onPassError: RefreshSchedulerOptions['onPassError'];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
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
    this.#maxFailures = Math.floor(check('maxFailures', options.maxFailures ?? 8, 1));
    this.#maxBackoffMs = check('maxBackoffMs', options.maxBackoffMs ?? 3_600_000, 0);
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
    await this.#running;
  }

  get running(): boolean {
    return this.#started;
  }

  /**
   * One pass now (what the timer runs); resolves when the refreshes it started have settled. A member
   * whose refresh from an earlier pass still runs is skipped (counted in `running`), so a slow or
   * hanging member never holds up the others.
   */
  tick(): Promise<SchedulerPassResult> {
    const pass = traced(
      schedulerPasses,
      (): SchedulerPassEvent => ({}),
      async (event) => {
        const result = await this.#pass();
        if (event) Object.assign(event, result);
        return result;
      },
      refreshErrorCode,
    );
    // Only for stop() to wait on: the caller handles the pass's own rejection.
    const running = pass.then(ignore, ignore).finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return pass;
  }

  /** The next pass starts `intervalMs` after this one started, whether or not its refreshes have settled. */
  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      if (this.#started) this.#schedule(this.intervalMs);
      this.tick().catch((error: unknown) => this.#reportPass(error));
    }, delay);
    this.#timer.unref();
  }

  async #pass(): Promise<SchedulerPassResult> {
    const now = Date.now();
    const horizon = now + this.aheadSeconds * 1000;
    // Over-read by the members still running, so they cannot fill the batch.
    const found = await this.#client.zrangebyscore(this.#key, '-inf', horizon, 'LIMIT', 0, this.#batchSize + this.#inFlight.size);
    const members = found.filter((m) => !this.#inFlight.has(m)).slice(0, this.#batchSize);
    const result: SchedulerPassResult = { due: members.length, refreshed: 0, dropped: 0, failed: 0, running: found.length - members.length };
    // Each member settles on its own: one that fails never rejects the pass while others still run.
    await Promise.all(
      members.map(async (member) => {
        this.#inFlight.add(member);
        try {
          await this.#refreshMember(member, result);
        } finally {
          this.#inFlight.delete(member);
        }
      }),
    );
    return result;
  }

  async #refreshMember(member: string, result: SchedulerPassResult): Promise<void> {
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
      await this.#client.hdel(this.#failuresKey, member).catch(() => undefined);
    } catch (error) {
      let failures = 0;
      let gaveUp = error instanceof ReauthenticationRequiredError;
      if (gaveUp) result.dropped++;
      else {
        result.failed++;
        failures = await this.#client.hincrby(this.#failuresKey, member, 1).catch(() => 1);
        gaveUp = failures >= this.#maxFailures;
      }
      await this.#postpone(member, gaveUp, failures).catch((e: unknown) => this.#reportPass(e));
      try {
        this.#onError?.({ ...pair, error: error as Error, failures, gaveUp });
      } catch {
        // reporting must not stop the pass
      }
    }
  }

  /** A failed member: out of the schedule for good, or due again only after its backoff. */
  async #postpone(member: string, gaveUp: boolean, failures: number): Promise<void> {
    if (gaveUp) {
      await this.#client.zrem(this.#key, member);
      await this.#client.hdel(this.#failuresKey, member);
      return;
    }
    const backoffMs = Math.min(this.#maxBackoffMs, this.intervalMs * 2 ** (failures - 1));
    // A member is due once its score is within aheadSeconds: this score makes it due after the backoff.
    await this.#client.zadd(this.#key, Date.now() + backoffMs + this.aheadSeconds * 1000, member);
  }

  /** A hash beside the sorted set: failures in a row per member. */
  get #failuresKey(): string {
    return `${this.#key}:failures`;
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

function ignore(): void {}
