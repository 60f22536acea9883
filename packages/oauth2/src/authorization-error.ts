import { AuthorizationError } from 'passport-oauth2';
import type { OAuthErrorFields } from './errors';

/**
 * RFC 6749 4.1.2.1: the `error` values an authorization server may send back to the callback. Only
 * these (and the names a provider package adds, see ProviderDefinition.authorizationErrors) reach an
 * error as text: the callback URL is anyone's to write, so any other value could be a message aimed at
 * the user ("your account is suspended, call ...").
 */
export const AUTHORIZATION_ERROR_CODES = [
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
] as const;

/** `err.code` of an authorization error response whose `error` is not a known name. */
export const UNKNOWN_AUTHORIZATION_ERROR = 'unknown';

/** What each RFC 6749 code means, in our words (the provider's `error_description` is never shown). */
const MEANINGS: Record<string, string> = {
  invalid_request: 'the authorization request was malformed',
  unauthorized_client: 'this client may not use the authorization-code flow',
  access_denied: 'the user or the provider denied the request',
  unsupported_response_type: 'the provider does not support this response type',
  invalid_scope: 'a requested scope is invalid, unknown or malformed',
  server_error: 'the authorization server met an unexpected condition',
  temporarily_unavailable: 'the authorization server is overloaded or down for maintenance',
};

export interface AuthorizationErrorInit {
  /** A known code, or UNKNOWN_AUTHORIZATION_ERROR. */
  code: string;
  provider: string;
}

/**
 * The provider sent the browser back with `?error=` (other than `access_denied`, which is a `fail`),
 * for a login this browser started (its state matched). Extends passport-oauth2's AuthorizationError
 * and keeps its `name`, so handlers written for passport-oauth2 still match. It carries no text from the
 * callback URL: not `error_description`, not `error_uri`, and `code` only when it is a known name.
 */
export class OAuthAuthorizationError extends AuthorizationError implements OAuthErrorFields {
  declare readonly code: string;
  declare status: number;
  declare readonly provider: string;
  declare readonly description?: undefined;

  constructor(init: AuthorizationErrorInit) {
    const meaning = MEANINGS[init.code];
    const message = meaning
      ? `${init.provider} answered the authorization request with ${init.code}: ${meaning}`
      : `${init.provider} answered the authorization request with an error code this strategy does not know (reported as "${UNKNOWN_AUTHORIZATION_ERROR}")`;
    super(message, init.code, undefined, undefined as unknown as number);
    this.name = 'AuthorizationError';
    Object.assign(this, { provider: init.provider, description: undefined, uri: undefined });
  }
}

/** The code to report for a callback's `error` value: itself when known, else UNKNOWN_AUTHORIZATION_ERROR. */
export function knownAuthorizationError(value: unknown, extra: readonly string[] = []): string {
  if (typeof value !== 'string') return UNKNOWN_AUTHORIZATION_ERROR;
  const known = (AUTHORIZATION_ERROR_CODES as readonly string[]).includes(value) || extra.includes(value);
  return known ? value : UNKNOWN_AUTHORIZATION_ERROR;
}
