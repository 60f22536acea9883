/**
 * The Link button's intent: `POST /link/:provider` (CSRF-checked) records in the session that this
 * session asked to link that provider, for a few minutes; the verify callback links only with it, and
 * uses it up whatever the outcome (a conflict included). Without it, a signed-in user's login can only
 * be the identity already linked (a cross-site GET of /auth/:provider cannot link anything: login CSRF).
 */
import type { Request } from 'express';
import { catalogEntry, type ProviderId } from './catalog';
import { HttpError } from './errors';

/** How long the Link button's intent stays valid: enough to sign in at the provider. */
export const LINK_INTENT_MS = 5 * 60_000;

declare module 'express-session' {
  interface SessionData {
    /** Set by POST /link/:provider: this session asked to link `provider` (until `expiresAt`). */
    linkIntent?: { provider: string; expiresAt: number };
  }
}

export function hasLinkIntent(req: Request, provider: ProviderId): boolean {
  const intent = req.session?.linkIntent;
  return intent !== undefined && intent.provider === provider && intent.expiresAt > Date.now();
}

/** True when the session holds a live intent to link `provider`; the intent is used up either way. */
export function takeLinkIntent(req: Request, provider: ProviderId): boolean {
  const ok = hasLinkIntent(req, provider);
  if (req.session?.linkIntent) delete req.session.linkIntent;
  return ok;
}

export function linkNotConfirmed(provider: ProviderId): HttpError {
  const name = catalogEntry(provider).name;
  return new HttpError({
    status: 403,
    title: 'Use the Link button',
    message: `You are signed in, so signing in with ${name} would link it to your account. Linking must be started with the "Link ${name}" or "Reconnect ${name}" button on your account page (a link from elsewhere cannot do it).`,
    actions: [{ href: '/account', label: 'Go to your account', primary: true }],
  });
}
