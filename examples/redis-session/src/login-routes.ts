/**
 * Signing in and linking: GET /auth/:provider starts a login at the provider, its callback signs the
 * session in (sign-in.ts decides which account), and POST /link/:provider (the Link button) allows the
 * next login of a signed-in user to add that provider to the account.
 */
import type { IRouter } from 'express';
import type passport from 'passport';
import { catalogEntry } from './catalog';
import { aboutProvider, HttpError } from './errors';
import { hasLinkIntent, LINK_INTENT_MS, linkNotConfirmed } from './link-intent';
import { serializeError } from './logging';
import type { RequestHelpers } from './request-helpers';
import { safeReturnTo } from './security';
import type { SessionIndex } from './session-index';
import { currentAccount, type Authenticator } from './sign-in';

/** How long a pending login lives (the oauth2 state store's entry lifetime), and so a visitor's session. */
export const PENDING_LOGIN_MS = 10 * 60_000;

export interface LoginRoutesOptions {
  auth: Authenticator;
  helpers: RequestHelpers;
  sessionIndex: SessionIndex;
  sessionTtlSeconds: number;
}

export function loginRoutes(router: IRouter, { auth, helpers, sessionIndex, sessionTtlSeconds }: LoginRoutesOptions): void {
  const { configuredProvider, sendError } = helpers;

  router.get('/auth/:provider', (req, res, next) => {
    const id = configuredProvider(req);
    // Signed in: this is linking, which only the Link button (a CSRF-checked POST) may start.
    if (currentAccount(req) && !hasLinkIntent(req, id)) throw linkNotConfirmed(id);
    const requested = req.query.returnTo;
    let returnTo = '/account';
    if (requested !== undefined) {
      const safe = safeReturnTo(requested);
      if (!safe) {
        throw new HttpError({
          status: 400,
          title: 'Unsafe return address',
          message: 'The returnTo parameter must be a path on this site (like /account). Links to other sites are refused.',
        });
      }
      returnTo = safe;
    }
    // A visitor who is not signed in costs at most a short-lived key: the session that holds the pending
    // login lives as long as the login may (the state store's 10 minutes), not SESSION_TTL_SECONDS. The
    // login's callback regenerates the session, and the signed-in one gets the full lifetime.
    if (!currentAccount(req)) req.session.cookie.maxAge = Math.min(PENDING_LOGIN_MS, sessionTtlSeconds * 1000);
    // The object state goes to the strategy's state store, one entry per pending login (several tabs).
    auth.authenticate(id, { state: { returnTo } } as unknown as passport.AuthenticateOptions)(req, res, next);
  });

  router.get('/auth/:provider/callback', (req, res, next) => {
    const id = configuredProvider(req);
    const name = catalogEntry(id).name;
    const callback = (err: unknown, user: Express.User | false, info: unknown) => {
      if (err) return next(aboutProvider(err, id));
      if (!user) {
        const denied = req.query.error === 'access_denied';
        return sendError(req, res, {
          status: denied ? 403 : 400,
          title: denied ? 'Sign-in cancelled' : 'Sign-in could not be verified',
          message: denied
            ? `You declined the request at ${name}, so you are not signed in with it.`
            : `This sign-in response does not match a sign-in started here (it expired, was already used, or came from elsewhere). Please start again.`,
          actions: [{ href: `/auth/${id}`, label: `Sign in with ${name}`, primary: true }, { href: '/', label: 'Home' }],
        });
      }
      const state = (info as { state?: { returnTo?: unknown } } | undefined)?.state;
      const returnTo = safeReturnTo(state?.returnTo) ?? '/account';
      // passport regenerates the session here (no session fixation) and saves it before we redirect; the
      // new session id is noted under the account, for "Log out everywhere".
      req.logIn(user, (loginErr) => {
        if (loginErr) return next(loginErr);
        sessionIndex.add(currentAccount(req)?.id ?? '', req.sessionID).then(
          () => res.redirect(303, returnTo),
          (indexErr: unknown) => {
            req.log?.warn({ err: serializeError(indexErr) }, 'session not indexed: "Log out everywhere" will miss it');
            res.redirect(303, returnTo);
          },
        );
      });
    };
    auth.authenticate(id, callback)(req, res, next);
  });

  // Link / Reconnect: a form with the CSRF token, so another site cannot start a link. Records a one-time
  // intent in the session (checked and consumed by the verify callback), then starts the login.
  router.post('/link/:provider', helpers.form, helpers.requireAccount, helpers.requireCsrf, (req, res) => {
    const id = configuredProvider(req);
    req.session.linkIntent = { provider: id, expiresAt: Date.now() + LINK_INTENT_MS };
    res.redirect(303, `/auth/${id}?returnTo=%2Faccount`);
  });

}
