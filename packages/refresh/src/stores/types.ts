import type { TokenSet } from '@passport-martech/oauth2';

/**
 * Where TokenManager keeps token sets, one per (user, provider). Keys are opaque strings made by the
 * manager. `get` resolves undefined for a missing, expired or unreadable record; it should not throw
 * for bad data (only for an unavailable backend).
 */
export interface TokenStore {
  get(key: string): Promise<TokenSet | undefined>;
  /** `ttlSeconds`: drop the record after that long (the store's own default when omitted). */
  set(key: string, tokenSet: TokenSet, ttlSeconds?: number): Promise<void>;
  delete(key: string): Promise<void>;
}
