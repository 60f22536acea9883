/**
 * Errors of @passport-martech/refresh. Each has a stable `code`; none carries a token value, in its
 * message, its fields or its `cause` chain (causes are the oauth2 package's redacted errors).
 */

export const RefreshErrorCode = {
  /** The user must log in again: the refresh token was rejected (`invalid_grant`), or there is none. */
  REAUTHENTICATION_REQUIRED: 'REAUTHENTICATION_REQUIRED',
  /** Another process held the refresh lock and no new token appeared within the wait bound. */
  REFRESH_LOCK_TIMEOUT: 'REFRESH_LOCK_TIMEOUT',
  /** `refresh()` / `requestNewAccessToken()` for a name no strategy was registered under. */
  STRATEGY_NOT_REGISTERED: 'STRATEGY_NOT_REGISTERED',
} as const;

export type RefreshErrorCodeValue = (typeof RefreshErrorCode)[keyof typeof RefreshErrorCode];

interface RefreshErrorInit {
  message: string;
  provider?: string;
  userKey?: string;
  cause?: unknown;
}

/** Base class of this package's errors. */
export class RefreshError extends Error {
  readonly code: RefreshErrorCodeValue;
  readonly provider?: string;
  /** The application's key for the user (never a token). */
  readonly userKey?: string;
  declare readonly cause?: unknown;

  constructor(code: RefreshErrorCodeValue, init: RefreshErrorInit) {
    super(init.message);
    this.name = new.target.name;
    this.code = code;
    this.provider = init.provider;
    this.userKey = init.userKey;
    if (init.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: init.cause, enumerable: false, writable: true, configurable: true });
    }
  }
}

/** Why re-authentication is required. */
export type ReauthenticationReason =
  /** The provider rejected the refresh token (`invalid_grant`): revoked, expired or already used. */
  | 'invalid_grant'
  /** The stored token set has no refresh token and its access token expired. */
  | 'no_refresh_token'
  /** Nothing is stored for this user and provider (never logged in, logged out, or purged). */
  | 'no_tokens'
  /** The tokens were deleted (logout, unlink) while they were being refreshed; the result was dropped. */
  | 'deleted';

const REASON_TEXT: Record<ReauthenticationReason, string> = {
  invalid_grant: 'the provider rejected the refresh token (invalid_grant); the stored tokens were dropped',
  no_refresh_token: 'the access token expired and there is no refresh token',
  no_tokens: 'no tokens are stored for this user',
  deleted: 'the tokens were deleted (logout or unlink) while they were being refreshed',
};

/**
 * The user has to go through the provider's login again. Thrown to every caller waiting on the
 * refresh, in this process and (through the store) in others. `ensureAccessToken` answers it with 401
 * and a link to `/auth/<provider>`.
 */
export class ReauthenticationRequiredError extends RefreshError {
  declare readonly code: typeof RefreshErrorCode.REAUTHENTICATION_REQUIRED;
  declare readonly provider: string;
  declare readonly userKey: string;
  readonly reason: ReauthenticationReason;

  constructor(init: { provider: string; userKey: string; reason: ReauthenticationReason; cause?: unknown }) {
    super(RefreshErrorCode.REAUTHENTICATION_REQUIRED, {
      ...init,
      message: `Re-authentication with "${init.provider}" required: ${REASON_TEXT[init.reason]}`,
    });
    this.reason = init.reason;
  }
}

/**
 * A refresh was running elsewhere (the lock was held) and no new token reached the store within the
 * wait bound. The caller may retry; nothing was lost.
 */
export class RefreshLockTimeoutError extends RefreshError {
  declare readonly code: typeof RefreshErrorCode.REFRESH_LOCK_TIMEOUT;
  declare readonly provider: string;
  declare readonly userKey: string;
  /** How long this caller waited, in milliseconds. */
  readonly waitedMs: number;

  constructor(init: { provider: string; userKey: string; waitedMs: number; lockName: string }) {
    super(RefreshErrorCode.REFRESH_LOCK_TIMEOUT, {
      ...init,
      message:
        `Timed out after ${init.waitedMs} ms waiting for another process to refresh the "${init.provider}" token ` +
        `(lock "${init.lockName}" held, no new token in the store). Retry the request; if this repeats, ` +
        `a refresh is taking longer than the lock's ttlMs or the wait bound (lockWaitMs).`,
    });
    this.waitedMs = init.waitedMs;
  }
}

/** No strategy is registered under this name (passport-oauth2-refresh's message, kept). */
export class StrategyNotRegisteredError extends RefreshError {
  declare readonly code: typeof RefreshErrorCode.STRATEGY_NOT_REGISTERED;
  declare readonly provider: string;

  constructor(name: string) {
    super(RefreshErrorCode.STRATEGY_NOT_REGISTERED, {
      provider: name,
      message: `Strategy was not registered to refresh a token: "${name}" (call refresh.use(strategy) first)`,
    });
  }
}

export function isReauthenticationRequired(error: unknown): error is ReauthenticationRequiredError {
  return error instanceof ReauthenticationRequiredError;
}
