/**
 * connect-redis's RedisStore with a throttled `touch`.
 *
 * express-session calls `store.touch()` at the end of every request that did not change the session, and
 * RedisStore answers it with an EXPIRE: a Redis round trip per page view (and the response waits for it),
 * only to push the session's expiry a few seconds further. Here a session's expiry is pushed at most once
 * per `touchIntervalMs` by this process; the other touches answer at once.
 *
 * What that keeps: a session in use never expires (its TTL is reset to the full lifetime at least once per
 * interval of activity), and an idle session still expires — between `ttl - interval` and `ttl` after its
 * last request instead of exactly `ttl` after it (with the defaults: after 23 h 59 min to 24 h idle).
 * Each instance keeps its own memory of what it touched, so N instances send at most N EXPIREs per session
 * per interval; a touch that fails is forgotten, so the next request tries again.
 */
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';

type RedisStoreOptions = ConstructorParameters<typeof RedisStore>[0];
type Callback = (err?: unknown, data?: unknown) => unknown;

export interface ThrottledTouchOptions extends RedisStoreOptions {
  /** Push a session's expiry in Redis at most this often (ms) from this process; 0 = on every request. */
  touchIntervalMs: number;
}

export class ThrottledTouchRedisStore extends RedisStore {
  readonly touchIntervalMs: number;
  /**
   * Session id -> when this process last set the session's TTL (by a touch or a save). Two generations,
   * swapped every interval: an entry older than one interval no longer skips anything, so dropping the
   * older generation keeps only the sessions seen in the last two intervals, without a timer.
   */
  private recent = new Map<string, number>();
  private previous = new Map<string, number>();
  private rotatedAt = Date.now();

  constructor(options: ThrottledTouchOptions) {
    const { touchIntervalMs, ...storeOptions } = options;
    super(storeOptions);
    this.touchIntervalMs = touchIntervalMs;
  }

  override touch(sid: string, sess: SessionData, cb?: Callback): Promise<unknown> {
    const now = Date.now();
    if (this.recentlyRefreshed(sid, now)) {
      // Answered synchronously: express-session then ends the response in one write, as with no store.
      return Promise.resolve(cb?.());
    }
    // Noted before the EXPIRE, so that the concurrent requests of one session do not all send one.
    this.remember(sid, now);
    return super.touch(sid, sess, (err?: unknown) => {
      if (err) this.forget(sid);
      return cb?.(err);
    });
  }

  override set(sid: string, sess: SessionData, cb?: Callback): Promise<unknown> {
    const startedAt = Date.now();
    // A save writes the session with its full TTL: it counts as a touch.
    return super.set(sid, sess, (err?: unknown) => {
      if (err) this.forget(sid);
      else this.remember(sid, startedAt);
      return cb?.(err);
    });
  }

  override destroy(sid: string, cb?: Callback): Promise<unknown> {
    this.forget(sid);
    return super.destroy(sid, cb);
  }

  private recentlyRefreshed(sid: string, now: number): boolean {
    if (this.touchIntervalMs === 0) return false;
    this.rotate(now);
    const last = this.recent.get(sid) ?? this.previous.get(sid);
    return last !== undefined && now - last < this.touchIntervalMs;
  }

  private remember(sid: string, at: number): void {
    if (this.touchIntervalMs === 0) return;
    this.rotate(at);
    this.recent.set(sid, at);
  }

  private rotate(now: number): void {
    if (now - this.rotatedAt < this.touchIntervalMs) return;
    // Two intervals or more since the last swap: both generations are stale.
    this.previous = now - this.rotatedAt < 2 * this.touchIntervalMs ? this.recent : new Map();
    this.recent = new Map();
    this.rotatedAt = now;
  }

  private forget(sid: string): void {
    this.recent.delete(sid);
    this.previous.delete(sid);
  }
}
