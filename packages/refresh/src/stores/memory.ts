import type { TokenSet } from '@passport-martech/oauth2';
import type { TokenStore } from './types';

export interface MemoryTokenStoreOptions {
  /** Default record lifetime in seconds when `set` is given none; default: kept until deleted. */
  ttlSeconds?: number;
}

interface MemoryRecord {
  tokenSet: TokenSet;
  expiresAt?: number;
  /** Retired after invalid_grant: reads as absent, still replaceable from its refresh token. */
  retired?: boolean;
}

/** How long a retired record waits for a late `replace` (see TokenStore.retire). */
export const RETIRED_TTL_SECONDS = 24 * 3600;

/**
 * A TokenStore in this process's memory: for tests, scripts and single-process apps. Values are
 * copied in and out, so a caller changing a TokenSet it got does not change the stored one. Every
 * method runs without yielding between its read and its write, so `replace` and `retire` are atomic.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #records = new Map<string, MemoryRecord>();
  readonly #ttlSeconds: number | undefined;

  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#ttlSeconds = checkTtl(options.ttlSeconds);
  }

  async get(key: string): Promise<TokenSet | undefined> {
    const record = this.#record(key);
    return record && !record.retired ? structuredClone(record.tokenSet) : undefined;
  }

  async set(key: string, tokenSet: TokenSet, ttlSeconds?: number): Promise<void> {
    this.#write(key, tokenSet, checkTtl(ttlSeconds) ?? this.#ttlSeconds);
  }

  async delete(key: string): Promise<void> {
    this.#records.delete(key);
  }

  async replace(key: string, fromRefreshToken: string, tokenSet: TokenSet): Promise<boolean> {
    if (this.#record(key)?.tokenSet.refreshToken !== fromRefreshToken) return false;
    this.#write(key, tokenSet, this.#ttlSeconds);
    return true;
  }

  async retire(key: string, refreshToken: string): Promise<boolean> {
    const record = this.#record(key);
    if (!record || record.retired || record.tokenSet.refreshToken !== refreshToken) return false;
    this.#records.set(key, { tokenSet: record.tokenSet, retired: true, expiresAt: Date.now() + RETIRED_TTL_SECONDS * 1000 });
    return true;
  }

  /** Number of records held (expired and retired ones included until read). */
  get size(): number {
    return this.#records.size;
  }

  #record(key: string): MemoryRecord | undefined {
    const record = this.#records.get(key);
    if (record?.expiresAt !== undefined && record.expiresAt <= Date.now()) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }

  #write(key: string, tokenSet: TokenSet, ttl: number | undefined): void {
    this.#records.set(key, { tokenSet: structuredClone(tokenSet), expiresAt: ttl === undefined ? undefined : Date.now() + ttl * 1000 });
  }
}

export function checkTtl(ttlSeconds: number | undefined): number | undefined {
  if (ttlSeconds === undefined) return undefined;
  if (typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new TypeError('@passport-martech/refresh: ttlSeconds must be a positive integer');
  }
  return ttlSeconds;
}
