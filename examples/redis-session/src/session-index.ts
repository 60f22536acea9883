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
import type { Redis } from 'ioredis';

export interface SessionIndex {
  /** Notes that `sid` is signed in to `accountId`. */
  add(accountId: string, sid: string): Promise<void>;
  /** Takes the account's session ids out of the index (all of them, at once) and returns them. */
  takeAll(accountId: string): Promise<string[]>;
}

/**
 * SADD, then drop the members whose session key is gone. KEYS[1] the index; ARGV[1] the session id,
 * ARGV[2] the session key prefix. (It reads session keys by name: a single Redis, not a cluster.)
 */
const ADD = `
redis.call('SADD', KEYS[1], ARGV[1])
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[2] .. sid) == 0 then redis.call('SREM', KEYS[1], sid) end
end
return 1`;

export class RedisSessionIndex implements SessionIndex {
  constructor(
    private readonly client: Redis,
    private readonly sessionPrefix: string,
    private readonly prefix = 'app:',
  ) {}

  private key(accountId: string): string {
    return `${this.prefix}sessions:${accountId}`;
  }

  async add(accountId: string, sid: string): Promise<void> {
    await this.client.eval(ADD, 1, this.key(accountId), sid, this.sessionPrefix);
  }

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
