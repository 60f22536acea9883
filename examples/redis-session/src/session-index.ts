/**
 * Which sessions an account is signed in with, so that "Log out everywhere" can end them all.
 *
 * A session id is added when a login (or a link, which also starts a new session) completes. Nothing is
 * removed on logout or expiry: the ids of sessions that no longer exist are dropped on the account's next
 * login, so an index holds at most the account's live sessions plus the ones that ended since its last
 * login. Ending a session is the session store's `destroy` (its Redis key deleted); a request of that
 * session still running cannot write it back (ThrottledTouchRedisStore writes existing sessions with XX).
 *
 * Redis layout (prefix `app:`): app:sessions:<accountId>  set of session ids. No TTL, like the account:
 * an active session can outlive any TTL given here (each request pushes its expiry).
 */
import type { RedisClient } from './redis';

export interface SessionIndex {
  /** Notes that `sid` is signed in to `accountId`. */
  add(accountId: string, sid: string): Promise<void>;
  /** Takes the account's session ids out of the index (all of them, at once) and returns them. */
  takeAll(accountId: string): Promise<string[]>;
}

export class RedisSessionIndex implements SessionIndex {
  constructor(
    private readonly client: RedisClient,
    private readonly sessionPrefix: string,
    private readonly prefix = 'app:',
  ) {}

  private key(accountId: string): string {
    return `${this.prefix}sessions:${accountId}`;
  }

  /**
   * SADD, then drops the members whose session key is gone. One command per key, no script: on a Redis
   * Cluster the session keys live in other slots than the index. No atomicity is needed: a session id is
   * added only after its session was saved, and a session key that is gone never comes back (ids are never
   * reused, and a late write of an ended session is refused, session-store.ts), so a member found dead
   * stays dead.
   */
  async add(accountId: string, sid: string): Promise<void> {
    const key = this.key(accountId);
    await this.client.sadd(key, sid);
    const members = (await this.client.smembers(key)).filter((member) => member !== sid);
    const alive = await Promise.all(members.map((member) => this.client.exists(this.sessionPrefix + member)));
    const dead = members.filter((_, i) => alive[i] === 0);
    if (dead.length) await this.client.srem(key, ...dead);
  }

  /** SMEMBERS + DEL of the one index key in a MULTI: atomic on a Cluster too (one key, one slot). */
  async takeAll(accountId: string): Promise<string[]> {
    const key = this.key(accountId);
    const replies = await this.client.multi().smembers(key).del(key).exec();
    const [err, members] = replies?.[0] ?? [new Error('no reply'), []];
    if (err) throw err;
    return members as string[];
  }
}

/** The same in this process's memory (demo without Redis). */
export class MemorySessionIndex implements SessionIndex {
  private readonly sessions = new Map<string, Set<string>>();

  async add(accountId: string, sid: string): Promise<void> {
    const set = this.sessions.get(accountId) ?? new Set<string>();
    set.add(sid);
    this.sessions.set(accountId, set);
  }

  async takeAll(accountId: string): Promise<string[]> {
    const set = this.sessions.get(accountId);
    this.sessions.delete(accountId);
    return set ? [...set] : [];
  }
}
