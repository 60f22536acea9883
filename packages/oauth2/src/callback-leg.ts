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
