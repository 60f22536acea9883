/** Turns errors into pages a person understands, with the right status code and no internals. */
import { isOAuthError } from '@passport-martech/oauth2';
import { ReauthenticationRequiredError, RefreshLockTimeoutError } from '@passport-martech/refresh';
import { LinkConflictError } from './accounts';
import { isAuthorizationError, knownAuthorizationCode } from './callback-errors';
import { catalogEntry, isProviderId, type ProviderId } from './catalog';
import type { ErrorPageOptions } from './pages';
import { isRedisUnavailable } from './redis';

export type ErrorView = Omit<ErrorPageOptions, 'viewer'> & { retryAfter?: number };

/** A page to show instead of an error; `provider` names the provider the request was about. */
export class HttpError extends Error {
  constructor(readonly view: ErrorView) {
    super(view.message);
    this.name = 'HttpError';
  }
}

export function notFound(message = 'There is no page at this address.'): HttpError {
  return new HttpError({ status: 404, title: 'Page not found', message });
}

export const UNAVAILABLE: ErrorView = {
  status: 503,
  title: 'Temporarily unavailable',
  message: 'The session store is not reachable right now. Nothing is lost: try again in a few seconds.',
  actions: [{ href: '/', label: 'Try again' }],
  retryAfter: 5,
};

function providerName(provider: string | undefined): string {
  return isProviderId(provider) ? catalogEntry(provider).name : 'The provider';
}

function reconnect(provider: ProviderId): ErrorView['actions'] {
  return [
    { href: '/account', label: `Reconnect ${catalogEntry(provider).name}`, primary: true, link: provider },
    { href: '/account', label: 'Back to your account' },
  ];
}

/** Name and code, read without `instanceof` (fetch's errors and DOMExceptions may come from another realm). */
function errorName(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' && typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : undefined;
}

function isTimeout(err: unknown): boolean {
  return errorName(err) === 'TimeoutError' || (err as { code?: unknown } | null)?.code === 'OAUTH_TIMEOUT';
}

/**
 * The page for an error. `provider` is the provider the request was about (login, API call), when
 * known; `redisDown` says whether Redis is unreachable right now.
 */
export function errorView(err: unknown, provider: string | undefined, redisDown: boolean): ErrorView {
  if (err instanceof HttpError) return err.view;
  const who = providerName(provider);

  if (err instanceof ReauthenticationRequiredError) {
    const id = isProviderId(err.provider) ? err.provider : isProviderId(provider) ? provider : undefined;
    return {
      status: 401,
      title: `Reconnect ${providerName(id)}`,
      message:
        err.reason === 'invalid_grant'
          ? `${providerName(id)} no longer accepts this app's access (the authorization was revoked or expired). Connect again to continue.`
          : `There are no valid ${providerName(id)} tokens for your account. Connect again to continue.`,
      actions: id ? reconnect(id) : undefined,
    };
  }
  if (err instanceof LinkConflictError) {
    return {
      status: 409,
      title: 'Already linked to another account',
      message: `This ${catalogEntry(err.provider).name} account is already linked, with other providers, to a different account here. Log out and sign in with ${catalogEntry(err.provider).name} to use that account, or disconnect it there first.`,
      actions: [{ href: '/account', label: 'Back to your account' }],
    };
  }
  if (err instanceof RefreshLockTimeoutError) {
    return { status: 503, title: 'Busy, try again', message: `Another request is renewing your ${who} access right now. Try again in a moment.`, retryAfter: 2 };
  }
  if (redisDown || isRedisUnavailable(err)) return UNAVAILABLE;

  if (isTimeout(err)) {
    return { status: 504, title: `${who} is not answering`, message: `${who} did not answer in time. Try again in a minute.`, actions: [{ href: '/', label: 'Back to the home page' }] };
  }
  if (isOAuthError(err)) {
    if (err.code === 'invalid_grant') {
      return {
        status: 400,
        title: 'Sign-in expired',
        message: `${who} did not accept the sign-in code (it expired or was already used). Please sign in again.`,
        actions: isProviderId(provider) ? [{ href: `/auth/${provider}`, label: `Sign in with ${who}`, primary: true }] : undefined,
      };
    }
    if (err.code === 'invalid_client' || err.code === 'unauthorized_client') {
      return { status: 502, title: `${who} refused this app`, message: `${who} does not accept this app's client credentials. The site's configuration needs fixing.` };
    }
    if (err.code === 'PROFILE_UNAVAILABLE') {
      return { status: 502, title: `No profile from ${who}`, message: `${who} signed you in but did not say who you are, so no account could be opened.` };
    }
    return {
      status: 502,
      title: `${who} is having trouble`,
      message: `${who} answered with an error or an unexpected response${err.status ? ` (HTTP ${err.status})` : ''}. Try again in a minute.`,
    };
  }
  if (isAuthorizationError(err)) {
    // Only a known RFC 6749 code, never the callback's own text (callback-errors.ts).
    const code = knownAuthorizationCode(err.code);
    if (code === 'temporarily_unavailable') {
      return { status: 503, title: `${who} is busy`, message: `${who} is temporarily unavailable. Try again in a minute.`, retryAfter: 30 };
    }
    return { status: 502, title: `${who} refused the sign-in`, message: `${who} refused the sign-in request (${code}). The site's configuration may need fixing.` };
  }
  if (errorName(err) === 'TypeError' && /fetch failed/i.test(String((err as Error).message))) {
    return { status: 502, title: `${who} is not reachable`, message: `Could not connect to ${who}. Try again in a minute.` };
  }
  const status = httpStatus(err);
  if (status !== undefined && status >= 400 && status < 500) {
    return { status, title: status === 413 ? 'Request too large' : 'Bad request', message: 'The request could not be understood.' };
  }
  return { status: 500, title: 'Something went wrong', message: 'An unexpected error happened on our side. It has been logged; please try again.' };
}

function httpStatus(err: unknown): number | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** Notes which provider an error is about, for the error page. */
export function aboutProvider(err: unknown, provider: ProviderId): unknown {
  if (err !== null && typeof err === 'object' && Object.isExtensible(err)) {
    try {
      Object.defineProperty(err, 'provider', { value: provider, configurable: true, enumerable: false, writable: true });
      return err;
    } catch {
      // fall through
    }
  }
  return Object.assign(new Error('provider request failed', { cause: err }), { provider });
}
