/**
 * connect-redis's RedisStore with a throttled `touch`, and writes that cannot bring an ended session back.
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
import type { Request } from 'express';
import type { Session, SessionData } from 'express-session';
import type { RedisClient } from './redis';

type RedisStoreOptions = ConstructorParameters<typeof RedisStore>[0];
type Callback = (err?: unknown, data?: unknown) => unknown;

export interface ThrottledTouchOptions extends RedisStoreOptions {
  /** The ioredis client (this store sends its own conditional SET). */
  client: RedisClient;
  /** Push a session's expiry in Redis at most this often (ms) from this process; 0 = on every request. */
  touchIntervalMs: number;
  /**
   * Called when a request tried to write a session that ended while it ran (logout, log out everywhere,
   * expiry): the write was dropped. For logging; never gets the session's contents.
   */
  onEndedSessionWrite?: (sid: string) => void;
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
  /**
   * The session objects of this process that exist in Redis: read from it (createSession) or written once
   * (set). A WeakSet, so the mark is not part of the session's data (nor of express-session's change hash).
   */
  private readonly stored = new WeakSet<object>();
  private readonly redis: RedisClient;
  private readonly onEndedSessionWrite?: (sid: string) => void;

  constructor(options: ThrottledTouchOptions) {
    const { touchIntervalMs, onEndedSessionWrite, ...storeOptions } = options;
    super(storeOptions);
    this.redis = options.client;
    this.touchIntervalMs = touchIntervalMs;
    this.onEndedSessionWrite = onEndedSessionWrite;
  }

  /** express-session calls this for every session it read from the store (a request's, or a reload). */
  override createSession(req: Request, data: SessionData): Session & SessionData {
    const session = super.createSession(req, data);
    this.stored.add(session);
    return session;
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

  /**
   * Writes the session, but never creates one that has ended.
   *
   * connect-redis sends a plain `SET`: a request that read the session before a logout (`DEL`) and ends
   * after it wrote the whole session back (a slow API call, a slow failing callback), and the old cookie
   * was signed in again. Here the write says which case it is:
   *
   * - a session read from Redis (createSession) is written with `SET ... XX`: only while its key exists.
   *   Once a logout, "log out everywhere" (from any instance) or expiry removed it, the late write does
   *   nothing, atomically in Redis, and that session id can never come back (ids are never reused);
   * - a session made by this request (express-session's generate, a regenerate at login) has never been
   *   stored: its first write is `SET ... NX` (a fresh random id, so its key cannot exist), and the same
   *   object's later writes in this request are `XX` like any other.
   *
   * So no tombstone keys are needed and nothing depends on time. What it does not cover: a request that
   * started a login before the logout and completes it after gets a new session id (a new sign-in, made
   * by this browser's own completed login), not the old one.
   */
  override async set(sid: string, sess: SessionData, cb?: Callback): Promise<unknown> {
    const startedAt = Date.now();
    const existing = this.stored.has(sess);
    const ttl = ttlSeconds(sess, this.ttl);
    try {
      // As connect-redis: a session whose cookie already expired is removed, not written.
      if (ttl <= 0) return await this.destroy(sid, cb);
      const key = this.prefix + sid;
      const value = this.serializer.stringify(sess);
      const written = existing ? await this.redis.set(key, value, 'EX', ttl, 'XX') : await this.redis.set(key, value, 'EX', ttl, 'NX');
      if (written === null) {
        // XX: the session ended while this request ran. NX: the id is taken (cannot happen with
        // express-session's 24 random bytes; refusing keeps another session's data safe).
        this.forget(sid);
        if (existing) this.onEndedSessionWrite?.(sid);
        return cb?.(existing ? undefined : new Error('session id already in use'));
      }
      this.stored.add(sess);
      // A save writes the session with its full TTL: it counts as a touch.
      this.remember(sid, startedAt);
      return cb?.();
    } catch (err) {
      this.forget(sid);
      return cb?.(err);
    }
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

/** Seconds until the session's cookie expires (connect-redis's rule), or the store's default TTL. */
function ttlSeconds(sess: SessionData, fallback: RedisStore['ttl']): number {
  if (typeof fallback === 'function') return fallback(sess);
  const expires = sess?.cookie?.expires;
  if (expires) return Math.ceil((Number(new Date(expires)) - Date.now()) / 1000);
  return fallback;
}
