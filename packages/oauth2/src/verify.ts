import type { Request } from 'express';

type Done = (err?: unknown, user?: unknown, info?: unknown) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyVerify = (...args: any[]) => unknown;

/**
 * Wraps a verify callback in every passport-oauth2 form so it may also return a Promise of the user
 * (or `false`). passport-oauth2 picks the argument list by the function's arity, so the wrapper always
 * declares the longest form (with `params`) and calls the user's function in the form its own arity
 * asks for. A rejected promise becomes `error`; `done` runs at most once.
 */
export function adaptVerify(verify: AnyVerify, passReqToCallback: boolean): AnyVerify {
  const leading = passReqToCallback ? 1 : 0;
  const wantsParams = verify.length >= leading + 5;
  // A function that declares `done` may be `async` and still answer through done (an old callback
  // verify with `async` added): its promise resolving to undefined is then not an answer.
  const declaresDone = verify.length >= leading + 4;

  const call = (req: Request | undefined, accessToken: string, refreshToken: string, params: unknown, profile: unknown, done: Done) => {
    let settled = false;
    const once: Done = (err, user, info) => {
      if (settled) return;
      settled = true;
      done(err, user, info);
    };
    // Positional calls, not an argument array spread: this runs once per login.
    const result = passReqToCallback
      ? wantsParams
        ? verify(req, accessToken, refreshToken, params, profile, once)
        : verify(req, accessToken, refreshToken, profile, once)
      : wantsParams
        ? verify(accessToken, refreshToken, params, profile, once)
        : verify(accessToken, refreshToken, profile, once);
    if (isThenable(result)) {
      // Answered on the next tick, outside the promise chain: a throw further down (serializeUser, a
      // custom callback) must not become an unhandled rejection.
      result.then(
        (user) => {
          if (user === undefined && declaresDone) return;
          process.nextTick(once, null, user ?? false);
        },
        (err: unknown) => process.nextTick(once, err ?? new Error('verify callback rejected without a reason')),
      );
    }
  };

  return passReqToCallback
    ? function verifyWithRequest(req: Request, accessToken: string, refreshToken: string, params: unknown, profile: unknown, done: Done) {
        call(req, accessToken, refreshToken, params, profile, done);
      }
    : function verifyWithParams(accessToken: string, refreshToken: string, params: unknown, profile: unknown, done: Done) {
        call(undefined, accessToken, refreshToken, params, profile, done);
      };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** passport's `done`: a user (or `false` with an optional failure `info`), or an error. */
export type VerifyCallback = (err?: unknown, user?: Express.User | false, info?: object) => void;

type TokenParamsOf = Record<string, unknown> & { tokenSet: import('./token-set').TokenSet };

/** `(accessToken, refreshToken, profile, done)`; may return a Promise of the user instead of calling done. */
export type VerifyFunction<P> = (accessToken: string, refreshToken: string | undefined, profile: P, done: VerifyCallback) => unknown;
/** `(accessToken, refreshToken, params, profile, done)`: `params.tokenSet` holds the TokenSet. */
export type VerifyFunctionWithParams<P> = (
  accessToken: string,
  refreshToken: string | undefined,
  params: TokenParamsOf,
  profile: P,
  done: VerifyCallback,
) => unknown;
/** With `passReqToCallback: true`: the request first. */
export type VerifyFunctionWithRequest<P> = (req: Request, accessToken: string, refreshToken: string | undefined, profile: P, done: VerifyCallback) => unknown;
export type VerifyFunctionWithRequestAndParams<P> = (
  req: Request,
  accessToken: string,
  refreshToken: string | undefined,
  params: TokenParamsOf,
  profile: P,
  done: VerifyCallback,
) => unknown;

/** Every verify form a strategy accepts. */
export type AnyVerifyFunction<P> =
  | VerifyFunction<P>
  | VerifyFunctionWithParams<P>
  | VerifyFunctionWithRequest<P>
  | VerifyFunctionWithRequestAndParams<P>;

/** Option shapes that pick the verify form: with or without the request first. */
export type WithoutRequest = { passReqToCallback?: false };
export type WithRequest = { passReqToCallback: true };
