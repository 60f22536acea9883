import type { TokenSet } from '@passport-martech/oauth2';

/**
 * Where TokenManager keeps token sets, one per (user, provider). Keys are opaque strings made by the
 * manager. `get` resolves undefined for a missing, expired, retired or unreadable record; it should not
 * throw for bad data (only for an unavailable backend).
 *
 * `replace` and `retire` are optional. They make the two writes a refresh does atomic, which is what
 * keeps a rotated refresh token from being lost when several processes share the store (see the
 * README's guarantees). Without them the manager reads, compares and writes in two steps: correct in
 * one process, racy across processes. MemoryTokenStore and RedisTokenStore implement both.
 */
export interface TokenStore {
  get(key: string): Promise<TokenSet | undefined>;
  /** `ttlSeconds`: drop the record after that long (the store's own default when omitted). */
  set(key: string, tokenSet: TokenSet, ttlSeconds?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Writes `tokenSet` only if the record still holds `fromRefreshToken` — live, or retired by `retire`
   * — and resolves true; resolves false (and writes nothing) when the record is gone or holds another
   * refresh token. One atomic step.
   */
  replace?(key: string, fromRefreshToken: string, tokenSet: TokenSet): Promise<boolean>;
  /**
   * After the provider answered `invalid_grant` for `refreshToken`: if the record still holds it, it
   * now reads as absent, but a `replace` from that same refresh token can still write (a process that
   * refreshed it a moment earlier and is late to save). Resolves true when retired. One atomic step.
   */
  retire?(key: string, refreshToken: string): Promise<boolean>;
}
