import type { Request } from 'express';
import { OAuthAuthorizationError, knownAuthorizationError } from './authorization-error';
import { AWAIT_LOGIN, LoginOutcome, settleByRequest } from './state-claims';

/** The per-request strategy object passport makes (`Object.create(strategy)` with these actions). */
export interface AuthenticateAttempt {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(err: unknown): void;
}

type VerifyStateCallback = (err: unknown, ok?: unknown, info?: unknown) => void;

/** passport-oauth2's state store contract (verify with or without `meta`). */
export interface StateVerifier {
  verify(req: Request, state: unknown, metaOrCallback: unknown, callback?: VerifyStateCallback): void;
}

/**
 * Reports how this callback's login ends to duplicates of it waiting in this process, and makes a
 * duplicate that lost the state claim wait for that outcome: it ends signed in as the same user when the
 * first copy succeeds, and as a plain state failure otherwise or after `waitMs`.
 */
export function trackLoginOutcome(attempt: AuthenticateAttempt, req: Request, waitMs: number): void {
  const { success, fail, error } = attempt;
  const settle = (outcome: LoginOutcome) => {
    const settleLogin = settleByRequest.get(req);
    if (!settleLogin) return;
    settleByRequest.delete(req);
    settleLogin(outcome);
  };
  attempt.success = (user, info) => {
    settle({ user, info });
    success.call(attempt, user, info);
  };
  attempt.error = (err) => {
    settle({});
    error.call(attempt, err);
  };
  attempt.fail = (challenge, status) => {
    settle({});
    const first = challenge && typeof challenge === 'object' ? (challenge as Record<symbol, unknown>)[AWAIT_LOGIN] : undefined;
    if (!(first instanceof Promise)) return fail.call(attempt, challenge, status);
    const plainFailure = { message: (challenge as { message?: unknown }).message };
    void withinTime(first as Promise<LoginOutcome>, waitMs).then((outcome) => {
      if (outcome?.user) success.call(attempt, outcome.user, outcome.info && typeof outcome.info === 'object' ? { ...outcome.info } : outcome.info);
      else fail.call(attempt, plainFailure, status);
    });
  };
}

function withinTime<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

type Done = (err: unknown, value?: unknown, info?: unknown) => void;

/** The per-request strategy object, with the passport-oauth2 internals and hooks the callback leg uses. */
export interface CallbackAttempt extends AuthenticateAttempt {
  _oauth2: {
    _authorizeUrl: string;
    _accessTokenUrl: string;
    _clientId: string;
    getOAuthAccessToken(code: string, params: object, callback: (err: unknown, accessToken?: string, refreshToken?: string, results?: unknown) => void): void;
  };
  _stateStore: StateVerifier;
  _verify: (...args: unknown[]) => unknown;
  _passReqToCallback?: boolean;
  tokenParams(options: object): object;
  _loadUserProfile(accessToken: string, done: Done): void;
  _createOAuthError(message: string, err: unknown): Error;
}

/**
 * The second leg of a login (the provider's redirect back with a code), as passport-oauth2's
 * `authenticate()` does it, step for step and through the same hooks (the state store's `verify`,
 * `tokenParams`, `_oauth2.getOAuthAccessToken`, `_createOAuthError`, `_loadUserProfile`, the verify
 * callback by its arity), without its per-request work: Express 5's `req.query` parses the query string
 * on every read and passport-oauth2 reads it up to eight times per callback, and it parses the callback
 * URL again. `code` and `state` are read by the caller, once, as passport-oauth2 reads them (query
 * first, then body). Returns false (nothing done) when passport-oauth2 must do it instead: a
 * per-request `callbackURL`, or no code (passport-oauth2 then starts a login).
 */
export function finishLogin(attempt: CallbackAttempt, req: Request, options: Record<string, unknown>, code: unknown, state: unknown, callbackURL: string): boolean {
  if (options.callbackURL || typeof code !== 'string' || code === '') return false;
  const oauth2 = attempt._oauth2;
  const meta = { authorizationURL: oauth2._authorizeUrl, tokenURL: oauth2._accessTokenUrl, clientID: oauth2._clientId, callbackURL };
  const loaded: VerifyStateCallback = (err, ok, appState) => {
    if (err) return attempt.error(err);
    if (!ok) return attempt.fail(appState, 403);
    const params = attempt.tokenParams(options) as Record<string, unknown>;
    params.grant_type = 'authorization_code';
    params.redirect_uri = callbackURL;
    if (typeof ok === 'string') params.code_verifier = ok; // PKCE: the store answers the verifier
    oauth2.getOAuthAccessToken(code, params, (tokenError, accessToken, refreshToken, results) => {
      if (tokenError) return attempt.error(attempt._createOAuthError('Failed to obtain access token', tokenError));
      if (!accessToken) return attempt.error(new Error('Failed to obtain access token'));
      attempt._loadUserProfile(accessToken, (profileError, profile) => {
        if (profileError) return attempt.error(profileError);
        const verified: Done = (verifyError, user, info) => {
          if (verifyError) return attempt.error(verifyError);
          if (!user) return attempt.fail(info);
          const details = (info || {}) as Record<string, unknown>;
          if (appState && typeof details === 'object') details.state = appState;
          attempt.success(user, details);
        };
        try {
          callVerify(attempt, req, accessToken, refreshToken, results, profile, verified);
        } catch (verifyError) {
          attempt.error(verifyError);
        }
      });
    });
  };
  try {
    if (attempt._stateStore.verify.length === 4) attempt._stateStore.verify(req, state, meta, loaded);
    else attempt._stateStore.verify(req, state, loaded);
  } catch (err) {
    attempt.error(err);
  }
  return true;
}

/** The verify callback in the form its arity asks for, as passport-oauth2 calls it. */
function callVerify(attempt: CallbackAttempt, req: Request, accessToken: string, refreshToken: string | undefined, results: unknown, profile: unknown, verified: Done): void {
  const verify = attempt._verify;
  if (attempt._passReqToCallback) {
    if (verify.length === 6) verify(req, accessToken, refreshToken, results, profile, verified);
    else verify(req, accessToken, refreshToken, profile, verified);
  } else if (verify.length === 5) verify(accessToken, refreshToken, results, profile, verified);
  else verify(accessToken, refreshToken, profile, verified);
}

export interface ErrorResponseContext {
  /** The strategy name, for the error message. */
  provider: string;
  /** Error names the provider documents beyond RFC 6749's. */
  knownErrors?: readonly string[];
  store: StateVerifier;
  meta: Record<string, unknown>;
}

/**
 * An authorization error response (`?error=...` on the callback). Unlike passport-oauth2, the state is
 * checked first: an error response that is not for a login this browser started is a plain state
 * failure (403), and it ends the login it is for. Then `access_denied` is a `fail`; any other code an
 * OAuthAuthorizationError whose code is a known name or `unknown`. `error_description` and `error_uri`
 * are never read: they are whatever the person who wrote the URL wanted a page or a log to say.
 */
export function answerErrorResponse(attempt: AuthenticateAttempt, req: Request, error: string, state: unknown, context: ErrorResponseContext): void {
  const done: VerifyStateCallback = (err, ok, info) => {
    if (err) return attempt.error(err);
    if (!ok) return attempt.fail(info, 403);
    const code = knownAuthorizationError(error, context.knownErrors);
    if (code === 'access_denied') {
      return attempt.fail({ message: `The sign-in was denied at ${context.provider} (access_denied).` });
    }
    attempt.error(new OAuthAuthorizationError({ code, provider: context.provider }));
  };
  try {
    if (context.store.verify.length === 4) context.store.verify(req, state, context.meta, done);
    else context.store.verify(req, state, done);
  } catch (err) {
    attempt.error(err);
  }
}
