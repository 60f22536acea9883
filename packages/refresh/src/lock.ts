import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis';

/**
 * What TokenManager needs from a cross-process lock. `acquire` resolves a token when this caller holds
 * the lock and null when someone else does; the lock expires by itself after `ttlMs`.
 */
export interface RefreshLock {
  readonly ttlMs: number;
  acquire(name: string): Promise<string | null>;
  /** True when the lock was still ours and is now released. */
  release(name: string, token: string): Promise<boolean>;
  /** Pushes the expiry to `ttlMs` from now if the lock is still ours. */
  extend?(name: string, token: string, ttlMs?: number): Promise<boolean>;
  /**
   * Leaves a note, readable by `getFailure` for `ttlMs`, that the holder's refresh failed: the waiters
   * in other processes throw the same error instead of each trying again. `record` is the manager's
   * own text (error code, status and message, a hash of the refresh token; never a token).
   */
  setFailure?(name: string, record: string, ttlMs: number): Promise<void>;
  /** The note `setFailure` left for `name`, or null. */
  getFailure?(name: string): Promise<string | null>;
}

export interface RedisLockOptions {
  client: RedisClient;
  /** Lifetime of a lock in milliseconds; a holder that dies releases it this late. Default 10 000. */
  ttlMs?: number;
  /** Prepended to every lock name; default `lock:`. */
  prefix?: string;
}

/** Deletes the key only if it still holds our token: a slow holder cannot release a lock it lost. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Extends the key only if it still holds our token. */
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * A single-instance Redis lock: `SET <prefix><name> <random token> PX <ttlMs> NX` to take it, and
 * compare-and-delete (Lua) to release it. A crashed holder's lock expires after `ttlMs`.
 */
export class RedisLock implements RefreshLock {
  readonly ttlMs: number;
  readonly prefix: string;
  readonly #client: RedisClient;

  constructor(options: RedisLockOptions) {
    if (!options || typeof options !== 'object' || !options.client) {
      throw new TypeError('@passport-martech/refresh: RedisLock needs { client } (an ioredis client)');
    }
    const ttlMs = options.ttlMs ?? 10_000;
    if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs <= 0) {
      throw new TypeError('@passport-martech/refresh: RedisLock ttlMs must be a positive integer (milliseconds)');
    }
    this.ttlMs = ttlMs;
    this.prefix = options.prefix ?? 'lock:';
    this.#client = options.client;
  }

  async acquire(name: string): Promise<string | null> {
    const token = randomBytes(16).toString('hex');
    const reply = await this.#client.set(this.prefix + name, token, 'PX', this.ttlMs, 'NX');
    return reply === 'OK' ? token : null;
  }

  async release(name: string, token: string): Promise<boolean> {
    return Number(await this.#client.eval(RELEASE, 1, this.prefix + name, token)) === 1;
  }

  async extend(name: string, token: string, ttlMs: number = this.ttlMs): Promise<boolean> {
    return Number(await this.#client.eval(EXTEND, 1, this.prefix + name, token, ttlMs)) === 1;
  }

  /** `SET <prefix>failed:<name> <record> PX <ttlMs>`. */
  async setFailure(name: string, record: string, ttlMs: number): Promise<void> {
    await this.#client.set(`${this.prefix}failed:${name}`, record, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async getFailure(name: string): Promise<string | null> {
    return this.#client.get(`${this.prefix}failed:${name}`);
  }
}
