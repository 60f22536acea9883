import type { TokenSet } from '@passport-martech/oauth2';
import type { TokenStore } from './types';

export interface MemoryTokenStoreOptions {
  /** Default record lifetime in seconds when `set` is given none; default: kept until deleted. */
  ttlSeconds?: number;
}

/**
 * A TokenStore in this process's memory: for tests, scripts and single-process apps. Values are
 * copied in and out, so a caller changing a TokenSet it got does not change the stored one.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #records = new Map<string, { tokenSet: TokenSet; expiresAt?: number }>();
  readonly #ttlSeconds: number | undefined;

  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#ttlSeconds = checkTtl(options.ttlSeconds);
  }

  async get(key: string): Promise<TokenSet | undefined> {
    const record = this.#records.get(key);
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= Date.now()) {
      this.#records.delete(key);
      return undefined;
    }
    return structuredClone(record.tokenSet);
  }

  async set(key: string, tokenSet: TokenSet, ttlSeconds?: number): Promise<void> {
    const ttl = checkTtl(ttlSeconds) ?? this.#ttlSeconds;
    this.#records.set(key, { tokenSet: structuredClone(tokenSet), expiresAt: ttl === undefined ? undefined : Date.now() + ttl * 1000 });
  }

  async delete(key: string): Promise<void> {
    this.#records.delete(key);
  }

  /** Number of records held (expired ones included until read). */
  get size(): number {
    return this.#records.size;
  }
}

export function checkTtl(ttlSeconds: number | undefined): number | undefined {
  if (ttlSeconds === undefined) return undefined;
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError('@passport-martech/refresh: ttlSeconds must be a positive integer');
  }
  return ttlSeconds;
}
