/**
 * What the routes share: the error page sender, the form parser, the CSRF and signed-in checks, and the
 * `:provider` parameter as a configured provider.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Account, AccountStore } from './accounts';
import { catalogEntry, isProviderId, type ProviderId } from './catalog';
import { notFound, type ErrorView } from './errors';
import { errorPage, type Viewer } from './pages';
import { commonVariable } from './provider-variables';
import { csrfToken, validCsrf } from './security';
import { currentAccount, passportSession, rememberAccount } from './sign-in';

export interface RequestHelpers {
  /** The signed-in user as the pages show them (undefined for a visitor). */
  viewer(req: Request): Viewer | undefined;
  sendError(req: Request, res: Response, view: ErrorView): void;
  /** A small urlencoded form body. */
  form: RequestHandler;
  requireCsrf: RequestHandler;
  /**
   * Signed-in pages that show or change the account read it from the store (storedAccount): the
   * session's summary may be behind a change made in another session of the same account, and an account
   * whose only identity was linked elsewhere is gone (that session is then signed out). The summary is
   * brought up to date on the way.
   */
  requireAccount: RequestHandler;
  /** The account requireAccount read. */
  storedAccount(res: Response): Account;
  /** The `:provider` parameter; 404 unless it names a configured provider. */
  configuredProvider(req: Request): ProviderId;
}

function param(req: Request, name: string): string {
  const value = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

export function requestHelpers(accounts: AccountStore, configured: readonly ProviderId[]): RequestHelpers {
  const viewer = (req: Request): Viewer | undefined => {
    const account = currentAccount(req);
    return account ? { account, csrfToken: csrfToken(req) } : undefined;
  };

  const sendError = (req: Request, res: Response, view: ErrorView): void => {
    if (view.retryAfter) res.set('Retry-After', String(view.retryAfter));
    let who: Viewer | undefined;
    try {
      who = view.status === 503 || !req.session ? undefined : viewer(req);
    } catch {
      who = undefined;
    }
    res.status(view.status).type('html').send(errorPage({ ...view, viewer: who }));
  };

  const requireCsrf: RequestHandler = (req, res, next) => {
    if (validCsrf(req)) return next();
    sendError(req, res, {
      status: 403,
      title: 'Form expired',
      message: 'This form could not be verified (its security token is missing or out of date). Reload the page and try again.',
      actions: [{ href: currentAccount(req) ? '/account' : '/', label: 'Reload' }],
    });
  };

  const requireAccount: RequestHandler = async (req, res, next) => {
    const summary = currentAccount(req);
    const account = summary ? await accounts.get(summary.id) : undefined;
    if (!account) {
      if (summary) {
        delete passportSession(req)?.user;
        req.user = undefined;
      }
      return res.redirect(303, '/');
    }
    rememberAccount(req, account);
    res.locals.account = account;
    next();
  };

  const configuredProvider = (req: Request): ProviderId => {
    const id = param(req, 'provider');
    if (!isProviderId(id)) throw notFound(`There is no provider called "${id}" here.`);
    if (!configured.includes(id)) {
      const entry = catalogEntry(id);
      throw notFound(`${entry.name} is not configured on this server (set ${commonVariable(entry, 'clientID')} and ${commonVariable(entry, 'clientSecret')}).`);
    }
    return id;
  };

  return {
    viewer,
    sendError,
    form: express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 }),
    requireCsrf,
    requireAccount,
    storedAccount: (res) => res.locals.account as Account,
    configuredProvider,
  };
}
