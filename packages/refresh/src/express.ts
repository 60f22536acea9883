import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ReauthenticationRequiredError } from './errors';
import type { TokenManager } from './manager';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Fresh access tokens by provider name, set by `ensureAccessToken`. */
      accessTokens?: Record<string, string>;
    }
  }
}

export interface EnsureAccessTokenOptions {
  /** The user's key in the token store (e.g. `req.user?.id`); undefined = not logged in. */
  userKey: (req: Request) => string | undefined;
  /** Where the user logs in with the provider again; default `/auth/<provider>`. */
  loginPath?: string | ((provider: string, req: Request) => string);
  /**
   * Answers a request whose user must (re-)authenticate, instead of the default 401. E.g.
   * `(req, res) => res.redirect(`/auth/${error.provider}`)`.
   */
  onReauthenticate?: (req: Request, res: Response, next: NextFunction, error: ReauthenticationRequiredError) => void;
}

/**
 * Express middleware: puts a valid access token for `provider` on `req.accessTokens[provider]`
 * (refreshing it when needed). A user who must log in again gets 401 with a link to the login route
 * (`/auth/<provider>`): JSON `{ error: 'reauthentication_required', provider, login }` or a short HTML
 * page, by the request's Accept header, and a `Link: </auth/<provider>>; rel="login"` header. Any
 * other error goes to `next(err)`.
 */
export function ensureAccessToken(manager: TokenManager, provider: string, options: EnsureAccessTokenOptions): RequestHandler {
  if (!manager || typeof manager.getAccessToken !== 'function') throw new TypeError('@passport-martech/refresh: ensureAccessToken needs a TokenManager');
  if (typeof provider !== 'string' || provider === '') throw new TypeError('@passport-martech/refresh: ensureAccessToken needs a provider name');
  if (!options || typeof options.userKey !== 'function') throw new TypeError('@passport-martech/refresh: ensureAccessToken needs { userKey: (req) => string }');

  return (req, res, next) => {
    let userKey: string | undefined;
    try {
      userKey = options.userKey(req);
    } catch (error) {
      return next(error);
    }
    // A throwing onReauthenticate or loginPath, or an answer that cannot be sent (headers already
    // sent), goes to the error handler like any other error.
    const reauthenticate = (error: ReauthenticationRequiredError) => {
      try {
        if (options.onReauthenticate) return options.onReauthenticate(req, res, next, error);
        sendReauthenticate(req, res, provider, loginPathFor(options, provider, req));
      } catch (failure) {
        next(failure);
      }
    };
    if (userKey === undefined || userKey === null || userKey === '') {
      return reauthenticate(new ReauthenticationRequiredError({ provider, userKey: '', reason: 'no_tokens' }));
    }
    manager
      .getAccessToken(userKey, provider)
      .then(
        (accessToken) => {
          req.accessTokens = { ...req.accessTokens, [provider]: accessToken };
          next();
        },
        (error: unknown) => {
          if (error instanceof ReauthenticationRequiredError) return reauthenticate(error);
          next(error);
        },
      )
      // Whatever else throws in the handlers above: to the error handler, never an unhandled rejection.
      .catch(next);
  };
}

function loginPathFor(options: EnsureAccessTokenOptions, provider: string, req: Request): string {
  if (typeof options.loginPath === 'function') return options.loginPath(provider, req);
  return options.loginPath ?? `/auth/${encodeURIComponent(provider)}`;
}

function sendReauthenticate(req: Request, res: Response, provider: string, login: string): void {
  res.status(401);
  res.setHeader('Link', `<${encodeURI(login)}>; rel="login"`);
  res.setHeader('Cache-Control', 'no-store');
  if (req.accepts(['json', 'html']) === 'html') {
    res.type('html').send(
      `<!doctype html><meta charset="utf-8"><title>Sign in again</title>` +
        `<p>Your ${escapeHtml(provider)} authorization has expired. <a href="${escapeHtml(login)}">Connect ${escapeHtml(provider)} again</a>.</p>`,
    );
    return;
  }
  res.json({ error: 'reauthentication_required', provider, login });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
