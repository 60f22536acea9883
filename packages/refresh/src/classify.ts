import { ErrorCode, OAuthTokenError, isRecord } from '@passport-martech/oauth2';

/** `invalid_grant` from the provider (a provider's own code for it arrives mapped by its error parser). */
export function isInvalidGrant(error: unknown): boolean {
  return error instanceof OAuthTokenError ? error.code === 'invalid_grant' : isRecord(error) && error.code === 'invalid_grant';
}

/** Worth another try: network failure, timeout, 5xx, 429, `temporarily_unavailable`. */
export function isTransient(error: unknown): boolean {
  if (!isRecord(error) && !(error instanceof Error)) return false;
  const { code, status } = error as { code?: unknown; status?: unknown };
  if (code === ErrorCode.NETWORK || code === ErrorCode.TIMEOUT || code === 'temporarily_unavailable') return true;
  return typeof status === 'number' && (status >= 500 || status === 429);
}

/** The leading word of a Redis error reply (`READONLY`, `NOREPLICAS`, `MOVED`...); never the rest of the message. */
export function redisReplyWord(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? /^([A-Z][A-Z_]{2,})\b/.exec(message)?.[1] : undefined;
}

/**
 * Replies a Redis gives while a failover is under way — the demoted master refusing writes, a replica
 * still loading, a cluster electing — that clear within seconds: worth waiting for within a bound.
 */
export function isFailoverReply(error: unknown): boolean {
  return ['READONLY', 'NOREPLICAS', 'LOADING', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN'].includes(redisReplyWord(error) ?? '');
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
