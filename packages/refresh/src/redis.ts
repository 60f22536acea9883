/**
 * The Redis commands this package sends, as a structural type: an ioredis `Redis` or `Cluster` fits
 * it (every command touches a single key), and so does any client with the same
 * promise-returning methods. ioredis itself is an optional peer dependency; nothing here imports it.
 */
export interface RedisClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  set(key: string, value: string, secondsToken: 'EX', seconds: number): Promise<unknown>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<unknown>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX'): Promise<unknown>;
  del(key: string): Promise<number>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  zadd(key: string, score: number, member: string): Promise<unknown>;
  zrem(key: string, member: string): Promise<unknown>;
  hincrby(key: string, field: string, increment: number): Promise<number>;
  hdel(key: string, field: string): Promise<number>;
  zrangebyscore(key: string, min: number | string, max: number | string, limit: 'LIMIT', offset: number, count: number): Promise<string[]>;
}
