/**
 * What of a provider's `?error=` callback may reach a page or a log: its `error` code when it is one of the
 * codes RFC 6749 4.1.2.1 defines (the oauth2 package's list), else "unknown". Never `error_description` or
 * `error_uri`.
 *
 * The callback URL is whatever a link points at: anyone can send a person to
 * `/auth/hubspot/callback?error=server_error).%20Your%20account%20is%20suspended.%20Call%20...` and,
 * were the text shown, put their words on this site's page (escaped, but readable) and in its logs. The
 * strategies already check state on error callbacks and report only known codes; the example does not
 * rely on that for what it prints (the request log sees the raw URL in any case).
 */
import { knownAuthorizationError } from '@passport-martech/oauth2';

/** A known RFC 6749 authorization error code, or "unknown". */
export function knownAuthorizationCode(value: unknown): string {
  return knownAuthorizationError(value);
}

/** passport-oauth2's AuthorizationError: the provider (or a link) sent the browser back with `?error=`. */
export function isAuthorizationError(err: unknown): err is Error & { code?: unknown } {
  return err instanceof Error && err.name === 'AuthorizationError';
}
