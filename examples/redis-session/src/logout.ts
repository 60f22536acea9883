/**
 * Logging out: `POST /logout` ends this browser's session, `POST /logout/everywhere` every session of the
 * account (all browsers, all instances). Both are CSRF-checked POSTs; `GET /logout` offers the button.
 * Neither touches the provider tokens: they belong to the account (a new sign-in finds them), and only
 * Disconnect deletes them.
 */
import { type IRouter, type Request, type RequestHandler } from 'express';
import type { Store } from 'express-session';
import type { Logger } from 'pino';
import { logoutPage, type Viewer } from './pages';
import type { SessionIndex } from './session-index';

export interface LogoutOptions {
  cookieName: string;
  /** Cookie attributes the session cookie was set with (so the browser drops the same cookie). */
  cookie: { path: string; httpOnly: boolean; sameSite: 'lax'; secure: boolean };
  sessionStore: Store;
  sessionIndex: SessionIndex;
  /** The account id the request is signed in to. */
  accountId(req: Request): string | undefined;
  viewer(req: Request): Viewer | undefined;
  form: RequestHandler;
  requireCsrf: RequestHandler;
  logger: Logger;
}

function destroySession(store: Store, sid: string): Promise<void> {
  return new Promise((resolve, reject) => store.destroy(sid, (err?: unknown) => (err ? reject(err) : resolve())));
}

export function logoutRoutes(router: IRouter, options: LogoutOptions): void {
  const { cookieName, cookie, form, requireCsrf } = options;

  router.get('/logout', (req, res) => {
    res.status(405).set('Allow', 'POST').type('html').send(logoutPage(options.viewer(req)));
  });

  /** Ends this request's session (its key deleted), then clears the cookie and goes home. */
  const endThisSession: RequestHandler = (req, res, next) => {
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie(cookieName, cookie);
      res.redirect(303, '/');
    });
  };

  router.post('/logout', form, (req, res, next) => {
    if (!req.session || (!options.accountId(req) && !req.session.csrfToken)) {
      // Nothing to log out of.
      res.clearCookie(cookieName, cookie);
      return res.redirect(303, '/');
    }
    requireCsrf(req, res, () => endThisSession(req, res, next));
  });

  router.post('/logout/everywhere', form, requireCsrf, async (req, res, next) => {
    const accountId = options.accountId(req);
    if (!accountId) return endThisSession(req, res, next);
    // Every session id that signed in to this account (this one included), taken out of the index at
    // once; each session's key is deleted. A request of one of them still running cannot write it back.
    const sids = await options.sessionIndex.takeAll(accountId);
    await Promise.all(sids.filter((sid) => sid !== req.sessionID).map((sid) => destroySession(options.sessionStore, sid)));
    options.logger.info({ sessions: sids.length }, 'signed out everywhere');
    endThisSession(req, res, next);
  });

}
