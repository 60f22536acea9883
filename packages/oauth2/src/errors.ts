import { types } from 'node:util';
import { InternalOAuthError, TokenError } from 'passport-oauth2';
import { scrub } from './redact';

/**
 * Stable `err.code` values for failures that carry no provider error code of their own. When the
 * provider's body names an error (RFC 6749 `error`, or a provider shape a package parses) that name is
 * the code instead: `invalid_grant`, `invalid_client`, ...
 */
export const ErrorCode = {
  /** Non-2xx answer without an error code we could read; `status` is set. */
  HTTP_ERROR: 'OAUTH_HTTP_ERROR',
  /** A 3xx: never followed, since a token or profile endpoint has no reason to redirect. */
  UNEXPECTED_REDIRECT: 'OAUTH_UNEXPECTED_REDIRECT',
  /** A 2xx whose body is HTML, empty or not JSON. */
  UNEXPECTED_RESPONSE: 'OAUTH_UNEXPECTED_RESPONSE',
  /** A 2xx JSON token response without `access_token`. */
  NO_ACCESS_TOKEN: 'OAUTH_NO_ACCESS_TOKEN',
  /** DNS, refused or reset connection, TLS failure, or a socket closed before the answer. */
  NETWORK: 'OAUTH_NETWORK',
  /** No complete answer within the `timeout` option. */
  TIMEOUT: 'OAUTH_TIMEOUT',
  /** No source of identity: the provider documents no identity endpoint and none was configured. */
  PROFILE_UNAVAILABLE: 'PROFILE_UNAVAILABLE',
  /** The authorization server's RFC 8414 metadata could not be read or used (`cause` says why). */
  DISCOVERY_FAILED: 'OAUTH_DISCOVERY_FAILED',
  /** RFC 7591 dynamic client registration failed (`cause` holds the server's error or the transport's). */
  REGISTRATION_FAILED: 'OAUTH_REGISTRATION_FAILED',
  /** `revoke()` on a strategy whose provider documents no revocation endpoint (and none was configured). */
  REVOCATION_UNSUPPORTED: 'OAUTH_REVOCATION_UNSUPPORTED',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What a provider's error parser reads out of an error body. */
export interface ProviderErrorFields {
  /** RFC 6749 `error` or the provider's own stable error name. */
  code: string;
  description?: string;
  uri?: string;
  /** Provider-specific fields worth keeping (a legacy `status`, a `correlationId`, ...). Never secrets. */
  details?: Record<string, unknown>;
}

/**
 * Reads an error body (already parsed JSON) into fields, or returns undefined when the body is not an
 * error this parser knows. Each provider package ships one; `parseRfc6749Error` is the default.
 */
export type ErrorBodyParser = (json: unknown, status: number) => ProviderErrorFields | undefined;

export interface OAuthErrorInit {
  code: string;
  message: string;
  status?: number;
  description?: string;
  uri?: string;
  provider?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The fields every error of this project carries, whichever passport-oauth2 class it extends. */
export interface OAuthErrorFields {
  readonly code: string;
  readonly status?: number;
  readonly description?: string;
  readonly uri?: string;
  readonly provider?: string;
  readonly details?: Record<string, unknown>;
  readonly cause?: unknown;
}

function assign(target: object, init: OAuthErrorInit): void {
  Object.assign(target, {
    code: init.code,
    status: init.status,
    description: init.description,
    uri: init.uri,
    provider: init.provider,
    details: init.details,
  });
  if (init.cause !== undefined) {
    Object.defineProperty(target, 'cause', { value: init.cause, enumerable: false, writable: true, configurable: true });
  }
}

/**
 * The provider answered with an error it named (`invalid_grant`, `invalid_client`, or a
 * provider's own code such as `BAD_AUTH_CODE`). Extends passport-oauth2's `TokenError`, so existing handlers still match.
 */
export class OAuthTokenError extends TokenError implements OAuthErrorFields {
  declare readonly code: string;
  /** The provider's HTTP status. */
  declare status: number;
  declare readonly description?: string;
  declare readonly provider?: string;
  declare readonly details?: Record<string, unknown>;

  constructor(init: OAuthErrorInit) {
    super(init.message, init.code, init.uri, init.status);
    assign(this, init);
  }
}

/**
 * Any other failure of a request to the provider: an unreadable or unexpected answer, a redirect, a
 * network failure or a timeout. Extends passport-oauth2's `InternalOAuthError`.
 */
export class OAuthRequestError extends InternalOAuthError implements OAuthErrorFields {
  declare readonly code: string;
  declare readonly status?: number;
  declare readonly description?: string;
  declare readonly uri?: string;
  declare readonly provider?: string;
  declare readonly details?: Record<string, unknown>;

  constructor(init: OAuthErrorInit) {
    // passport-oauth2 prints `oauthError` in toString(); ours carries the cause instead, kept redacted.
    super(init.message, undefined as unknown as { statusCode: number; data?: unknown });
    assign(this, init);
    this.oauthError = undefined as never;
  }

  override toString(): string {
    return `${this.name}: ${this.message}`;
  }
}

export type OAuthError = OAuthTokenError | OAuthRequestError;

export function isOAuthError(value: unknown): value is OAuthError {
  return value instanceof OAuthTokenError || value instanceof OAuthRequestError;
}

/** RFC 6749 5.2: `{ error, error_description?, error_uri? }`. */
export const parseRfc6749Error: ErrorBodyParser = (json) => {
  if (!isRecord(json) || typeof json.error !== 'string' || json.error === '') return undefined;
  return {
    code: json.error,
    description: typeof json.error_description === 'string' ? json.error_description : undefined,
    uri: typeof json.error_uri === 'string' ? json.error_uri : undefined,
  };
};

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * A copy of a low-level error (from fetch, a socket, ...) that is safe to keep as `cause`: its message
 * scrubbed of the request's secrets, its own cause followed one level.
 */
export function safeCause(error: unknown, secrets: readonly (string | undefined)[]): Error | undefined {
  if (!isError(error)) return undefined;
  const copy = new Error(scrub(error.message, secrets));
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') (copy as Error & { code?: string }).code = code;
  const inner = (error as { cause?: unknown }).cause;
  if (isError(inner)) {
    const innerCopy = new Error(scrub(inner.message, secrets));
    innerCopy.name = inner.name;
    const innerCode = (inner as { code?: unknown }).code;
    if (typeof innerCode === 'string') (innerCopy as Error & { code?: string }).code = innerCode;
    Object.defineProperty(copy, 'cause', { value: innerCopy, enumerable: false });
  }
  return copy;
}

/** `instanceof Error` fails for errors made in another realm (fetch's, under Jest's vm contexts). */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}
