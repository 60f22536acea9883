/** What every token response becomes: the token, its lifetime as a point in time, and the raw answer. */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** As the provider wrote it (`bearer`, `Bearer`); `Bearer` when absent. */
  tokenType: string;
  /** Epoch milliseconds, computed once when the response arrived (`expires_in` is relative to that). */
  expiresAt?: number;
  /** Granted scopes: the space-separated `scope` string, or a `scopes` array (some providers). */
  scope?: string[];
  /** The whole response, `refresh_token` included. */
  raw: Record<string, unknown>;
}

const MAX_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

/** Builds a TokenSet from a parsed token response; `receivedAt` is when its last byte arrived. */
export function toTokenSet(raw: Record<string, unknown>, receivedAt: number = Date.now()): TokenSet {
  const accessToken = raw.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new TypeError('token response has no access_token');
  }
  const tokenSet: TokenSet = {
    accessToken,
    tokenType: typeof raw.token_type === 'string' && raw.token_type !== '' ? raw.token_type : 'Bearer',
    raw,
  };
  if (typeof raw.refresh_token === 'string' && raw.refresh_token !== '') tokenSet.refreshToken = raw.refresh_token;
  const expiresIn = typeof raw.expires_in === 'string' ? Number(raw.expires_in) : raw.expires_in;
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn >= 0) {
    // A lifetime beyond ten years is a provider bug, not a promise; capped, it stays a valid Date.
    tokenSet.expiresAt = receivedAt + Math.round(Math.min(expiresIn, MAX_LIFETIME_SECONDS) * 1000);
  }
  const scope = grantedScope(raw);
  if (scope) tokenSet.scope = scope;
  return tokenSet;
}

function grantedScope(raw: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(raw.scopes)) return raw.scopes.filter((s): s is string => typeof s === 'string');
  if (typeof raw.scope === 'string') return raw.scope.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(raw.scope)) return raw.scope.filter((s): s is string => typeof s === 'string');
  return undefined;
}

/** True when the token is known to expire within `skewSeconds` from `now`. Unknown expiry: false. */
export function expiresWithin(tokenSet: Pick<TokenSet, 'expiresAt'>, skewSeconds: number, now: number = Date.now()): boolean {
  return tokenSet.expiresAt !== undefined && tokenSet.expiresAt - now <= skewSeconds * 1000;
}
