/**
 * Authentication and account linking: one passport instance with a strategy per configured provider,
 * the verify callback that signs in or links an identity, the TokenManager that keeps the providers'
 * tokens fresh, and what the session holds about the signed-in account.
 */
import type { Request } from 'express';
import passport from 'passport';
import type { Logger } from 'pino';
import type { Profile, StateClaimStore, TokenParams } from '@passport-martech/oauth2';
import { RedisLock, TokenManager, TokenRefresher } from '@passport-martech/refresh';
import { accountSummary, identityFromProfile, newAccountId, type Account, type AccountSummary } from './accounts';
import { PROVIDER_IDS, type ProviderId } from './catalog';
import type { AppConfig } from './config';
import { linkNotConfirmed, takeLinkIntent } from './link-intent';
import { createStrategy, type Verify } from './providers';
import { ACCOUNT_PREFIX, type Stores } from './stores';

export type Authenticator = InstanceType<typeof passport.Passport>;

/**
 * The signed-in account as `req.user`: the summary passport keeps in the session (serializeUser), written
 * at login and whenever this session links or disconnects a provider. Reading it costs no Redis command
 * beyond the session's own GET. Pages that show or change the account read the account itself
 * (requireAccount): another session of the same account may have changed it since.
 */
export function currentAccount(req: Request): AccountSummary | undefined {
  return req.user as AccountSummary | undefined;
}

function isAccountSummary(value: unknown): value is AccountSummary {
  const v = value as Partial<AccountSummary> | null;
  return typeof v === 'object' && v !== null && typeof v.id === 'string' && typeof v.identities === 'object' && v.identities !== null;
}

/** passport's part of the session: `passport.user` holds what serializeUser returned. */
export function passportSession(req: Request): { user?: unknown } | undefined {
  return (req.session as { passport?: { user?: unknown } } | undefined)?.passport;
}

/** Puts the account's current summary in the session; express-session writes it only if it changed. */
export function rememberAccount(req: Request, account: Account): void {
  const summary = accountSummary(account);
  const data = passportSession(req);
  if (data) data.user = summary;
  req.user = summary as unknown as Express.User;
}

export interface SignIn {
  auth: Authenticator;
  refresher: TokenRefresher;
  tokens: TokenManager;
  /** The providers with a strategy, in catalog order. */
  configured: ProviderId[];
  /** Where the Link/Reconnect forms end up (POST /link redirects to the provider): CSP form-action. */
  authorizationOrigins: Set<string>;
  /** Used login states, shared by every instance (undefined in memory mode). */
  stateClaims?: StateClaimStore;
}

export function createSignIn(config: AppConfig, stores: Stores, logger: Logger): SignIn {
  const { redis, accounts } = stores;
  // One passport instance per app (several apps may live in one process).
  const auth = new passport.Passport();
  const refresher = new TokenRefresher();
  const tokens = new TokenManager({
    refresher,
    store: stores.tokenStore,
    lock: redis ? new RedisLock({ client: redis }) : undefined,
    // A request waiting for another process's refresh gives up (503 "Busy, try again") after about one
    // provider timeout, instead of the derived default of ~40 s (3 attempts + the lock's ttl).
    lockWaitMs: Math.max(1000, ...PROVIDER_IDS.map((id) => config.providers[id]?.timeoutMs ?? 0)) + 1000,
    onRefresh: (e) => logger.info({ provider: e.provider, attempt: e.attempt, trigger: e.trigger, rotated: e.rotated }, 'access token refreshed'),
    // Disconnect logs its own outcome (account-routes.ts); a provider without revocation is routine there.
    onError: (e) => {
      if (e.reason !== 'revoke_failed') logger.warn({ provider: e.provider, reason: e.reason, code: (e.error as { code?: string }).code }, 'token refresh failed');
    },
  });

  // Six parameters: passport-oauth2 picks the argument list by arity, and only the 6-argument form
  // (with `done`, unused here because a returned Promise is honoured) passes `params` with the TokenSet.
  const verifyFor =
    (provider: ProviderId): Verify =>
    async (req, _accessToken, _refreshToken, params, profile, _done) => {
      const identity = identityFromProfile(provider, profile as Profile);
      // The account as stored, not the session's summary: another session may have changed it, or
      // linked its only identity elsewhere (then it is gone and this is a new sign-in).
      const signedInId = currentAccount(req)?.id;
      const signedIn = signedInId === undefined ? undefined : await accounts.get(signedInId);
      let accountId: string | undefined;
      let replaces: string | undefined;
      if (signedIn) {
        // Linking: a signed-in user adds this provider to the same account, but only when this session
        // asked for it with the Link button (POST /link/:provider, CSRF-checked): a cross-site GET of
        // /auth/:provider must not link whoever is signed in at the provider (login CSRF). Without that
        // intent, only the identity already linked here is accepted (a plain re-login).
        const intended = takeLinkIntent(req, provider);
        const previous = signedIn.identities[provider];
        if (!intended && previous?.id !== identity.id) throw linkNotConfirmed(provider);
        accountId = signedIn.id;
        // Another user of the same provider replaces the one linked before, inside link(): the old
        // identity stays linked when the new one cannot be (LinkConflictError).
        if (previous && previous.id !== identity.id) replaces = previous.id;
      } else {
        accountId = await accounts.findByIdentity(provider, identity.id);
      }
      // A first sign-in's account is created by link() itself: a sign-in that fails leaves none behind.
      const create = accountId === undefined;
      accountId ??= newAccountId();
      const { absorbed } = await accounts.link(accountId, identity, { replaces, create });
      // A one-provider account whose provider was just linked here is gone: so are its old tokens.
      if (absorbed) await tokens.delete(absorbed, provider);
      await tokens.save(accountId, provider, (params as TokenParams).tokenSet);
      const account = await accounts.get(accountId);
      if (!account) throw new Error('The account was removed while signing in');
      return account as unknown as Express.User;
    };

  // Used login states, recorded atomically in the shared Redis (SET NX PX; keys are digests, not states).
  const stateClaims = redis
    ? { claim: async (key: string, ttlMs: number) => (await redis.set(`${ACCOUNT_PREFIX}state-claim:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK' }
    : undefined;
  const configured: ProviderId[] = [];
  const authorizationOrigins = new Set<string>();
  for (const id of PROVIDER_IDS) {
    const settings = config.providers[id];
    if (!settings) continue;
    const strategy = createStrategy(id, settings, config.baseUrl, verifyFor(id), stateClaims);
    authorizationOrigins.add(new URL(strategy.provider.authorizationURL).origin);
    auth.use(id, strategy);
    refresher.use(id, strategy);
    configured.push(id);
  }

  // The session keeps the account's summary, so that a request needs no account read (see currentAccount).
  auth.serializeUser((user, done) => done(null, accountSummary(user as unknown as Account)));
  auth.deserializeUser((stored: unknown, done: (err: unknown, user?: Express.User | false) => void) => {
    // Anything else (an older session's bare account id) signs the session out: passport drops it.
    done(null, isAccountSummary(stored) ? (stored as unknown as Express.User) : false);
  });

  return { auth, refresher, tokens, configured, authorizationOrigins, stateClaims };
}
