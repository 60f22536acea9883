/**
 * createApp(config): the Express app and a close function. No listening here (see server.ts), so tests
 * drive it with supertest and several instances can share one Redis.
 */
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import session, { MemoryStore, type Store } from 'express-session';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import passport from 'passport';
import type { Logger } from 'pino';
import type { Profile, TokenParams } from '@passport-martech/oauth2';
import { MemoryTokenStore, RedisLock, RedisTokenStore, TokenManager, TokenRefresher, type TokenStore } from '@passport-martech/refresh';
import { accountSummary, identityFromProfile, MemoryAccountStore, RedisAccountStore, type Account, type AccountStore, type AccountSummary } from './accounts';
import { isProviderId, PROVIDER_IDS, PROVIDER_INFO, type AppConfig, type ProviderId } from './config';
import { aboutProvider, errorView, HttpError, notFound, UNAVAILABLE, type ErrorView } from './errors';
import { SCRIPT, STYLESHEET } from './html';
import { createLogger, requestLogger, serializeError } from './logging';
import { logoutRoutes } from './logout';
import { createMcpConnection, mountMcpConnections } from './mcp-connections';
import { hasLinkIntent, LINK_INTENT_MS, linkNotConfirmed, takeLinkIntent } from './link-intent';
import { accountPage, errorPage, homePage, prettyBody, type ApiResult, type SiteInfo, type TokenView, type Viewer } from './pages';
import { createStrategy, sampleApiUrl, TOKEN_REJECTED, type Verify } from './providers';
import { rateLimit } from './rate-limit';
import { closeRedis, createRedisClient, waitForRedis } from './redis';
import { csrfToken, fixedHeaders, safeReturnTo, validCsrf } from './security';
import { MemorySessionIndex, RedisSessionIndex, type SessionIndex } from './session-index';
import { ThrottledTouchRedisStore } from './session-store';

export const SESSION_COOKIE = 'sid';
export const SESSION_PREFIX = 'sess:';
export const TOKEN_PREFIX = 'tokens:';
export const ACCOUNT_PREFIX = 'app:';
/** How long a pending login lives (the oauth2 state store's entry lifetime), and so a visitor's session. */
export const PENDING_LOGIN_MS = 10 * 60_000;

export interface CreateAppOptions {
  /** Defaults to a pino logger at `config.logLevel` on stdout. */
  logger?: Logger;
}

export interface AppHandle {
  app: Express;
  /** Resolves when Redis is connected (at once in memory mode); rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Saves what the token manager still holds (up to 5 s), then quits Redis. Call after the HTTP server stopped taking requests. Safe to call twice. */
  close(): Promise<void>;
  /** True when the session store can be used right now. */
  healthy(): boolean;
  logger: Logger;
  tokens: TokenManager;
  accounts: AccountStore;
  /** The ioredis client (undefined in memory mode). */
  redis?: Redis;
}

/**
 * The signed-in account as `req.user`: the summary passport keeps in the session (serializeUser), written
 * at login and whenever this session links or disconnects a provider. Reading it costs no Redis command
 * beyond the session's own GET. Pages that show or change the account read the account itself
 * (requireAccount): another session of the same account may have changed it since.
 */
function currentAccount(req: Request): AccountSummary | undefined {
  return req.user as AccountSummary | undefined;
}

function isAccountSummary(value: unknown): value is AccountSummary {
  const v = value as Partial<AccountSummary> | null;
  return typeof v === 'object' && v !== null && typeof v.id === 'string' && typeof v.identities === 'object' && v.identities !== null;
}

/** passport's part of the session: `passport.user` holds what serializeUser returned. */
function passportSession(req: Request): { user?: unknown } | undefined {
  return (req.session as { passport?: { user?: unknown } } | undefined)?.passport;
}

function param(req: Request, name: string): string {
  const value = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

export function createApp(config: AppConfig, options: CreateAppOptions = {}): AppHandle {
  const logger = options.logger ?? createLogger(config.logLevel);
  const https = config.baseUrl.startsWith('https:');
  const memory = config.redisUrl === 'memory';

  // --- storage: sessions, accounts and tokens share one Redis client ---
  let redis: Redis | undefined;
  let sessionStore: Store;
  let accounts: AccountStore;
  let tokenStore: TokenStore;
  let sessionIndex: SessionIndex;
  // Validated by loadConfig with the refresh package's own parser; RedisTokenStore takes the string as is.
  const encryptionKey = config.tokenEncryptionKey || undefined;
  if (memory) {
    sessionStore = new MemoryStore();
    accounts = new MemoryAccountStore();
    tokenStore = new MemoryTokenStore();
    sessionIndex = new MemorySessionIndex();
  } else {
    redis = createRedisClient({
      url: config.redisUrl,
      connectTimeoutMs: config.redisConnectTimeoutMs,
      commandTimeoutMs: config.redisCommandTimeoutMs,
      logger,
    });
    // EXPIRE at most once per SESSION_TOUCH_SECONDS per session, not after every request, and no write
    // brings back a session that a logout ended (session-store.ts).
    sessionStore = new ThrottledTouchRedisStore({
      client: redis,
      prefix: SESSION_PREFIX,
      ttl: config.sessionTtlSeconds,
      touchIntervalMs: config.sessionTouchSeconds * 1000,
      onEndedSessionWrite: () => logger.info('a request of a session that was logged out meanwhile ended; the session stays ended'),
    });
    accounts = new RedisAccountStore(redis, ACCOUNT_PREFIX);
    sessionIndex = new RedisSessionIndex(redis, SESSION_PREFIX, ACCOUNT_PREFIX);
    tokenStore = new RedisTokenStore({
      client: redis,
      prefix: TOKEN_PREFIX,
      encryptionKey,
      onCorruptRecord: (report) => logger.warn({ key: report.key, reason: report.reason }, 'unreadable token record treated as absent'),
    });
  }
  const healthy = () => memory || redis?.status === 'ready';
  if (!memory && !encryptionKey) {
    logger.warn(
      'TOKEN_ENCRYPTION_KEY is not set: provider tokens (refresh tokens included) are stored in Redis unencrypted. Set it to 32 random bytes (e.g. `openssl rand -hex 32`).',
    );
  }

  // --- passport: one instance per app (several apps may live in one process) ---
  const auth = new passport.Passport();
  const refresher = new TokenRefresher();
  const tokens = new TokenManager({
    refresher,
    store: tokenStore,
    lock: redis ? new RedisLock({ client: redis }) : undefined,
    isTokenRejected: TOKEN_REJECTED,
    // A request waiting for another process's refresh gives up (503 "Busy, try again") after about one
    // provider timeout, instead of the derived default of ~40 s (3 attempts + the lock's ttl).
    lockWaitMs: Math.max(1000, ...PROVIDER_IDS.map((id) => config.providers[id]?.timeoutMs ?? 0)) + 1000,
    onRefresh: (e) => logger.info({ provider: e.provider, attempt: e.attempt, trigger: e.trigger, rotated: e.rotated }, 'access token refreshed'),
    onError: (e) => logger.warn({ provider: e.provider, code: (e.error as { code?: string }).code }, 'token refresh failed'),
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
      let accountId: string;
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
        accountId = (await accounts.findByIdentity(provider, identity.id)) ?? (await accounts.create()).id;
      }
      const { absorbed } = await accounts.link(accountId, identity, replaces);
      // A one-provider account whose provider was just linked here is gone: so are its old tokens.
      if (absorbed) await tokens.delete(absorbed, provider);
      await tokens.save(accountId, provider, (params as TokenParams).tokenSet);
      const account = await accounts.get(accountId);
      if (!account) throw new Error('The account was removed while signing in');
      return account as unknown as Express.User;
    };

  // Used login states, recorded atomically in the shared Redis (SET NX PX; keys are digests, not states).
  const stateClaims = redis
    ? { claim: async (key: string, ttlMs: number) => (await redis!.set(`${ACCOUNT_PREFIX}state-claim:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK' }
    : undefined;
  const configured: ProviderId[] = [];
  /** Where the Link/Reconnect forms end up (POST /link redirects to the provider): CSP form-action. */
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
  // Demo mode: an Ontraport MCP connection, with discovery and a registered client (mcp-connections.ts).
  const mcpTimeoutMs = config.providers.ontraport?.timeoutMs ?? 10_000;
  const mcp = config.sandboxUrl
    ? createMcpConnection({ sandboxUrl: config.sandboxUrl, baseUrl: config.baseUrl, auth, refresher, redis, prefix: ACCOUNT_PREFIX, stateClaims, timeoutMs: mcpTimeoutMs, authorizationOrigins })
    : undefined;
  const site: SiteInfo = { configured, sandboxUrl: config.sandboxUrl, storage: memory ? 'memory' : 'redis', tokensEncrypted: !memory && encryptionKey !== undefined };

  // The session keeps the account's summary, so that a request needs no account read (see currentAccount).
  auth.serializeUser((user, done) => done(null, accountSummary(user as unknown as Account)));
  auth.deserializeUser((stored: unknown, done: (err: unknown, user?: Express.User | false) => void) => {
    // Anything else (an older session's bare account id) signs the session out: passport drops it.
    done(null, isAccountSummary(stored) ? (stored as unknown as Express.User) : false);
  });

  /** Puts the account's current summary in the session; express-session writes it only if it changed. */
  function rememberAccount(req: Request, account: Account): void {
    const summary = accountSummary(account);
    const data = passportSession(req);
    if (data) data.user = summary;
    req.user = summary as unknown as Express.User;
  }

  // --- the app ---
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // helmet's headers, worked out once at startup (they are the same for every response) and set with
  // one loop per request instead of helmet's chain of middlewares.
  app.use(
    fixedHeaders(
      helmet({
        contentSecurityPolicy: {
          directives: {
            'upgrade-insecure-requests': https ? [] : null,
            // Browsers apply form-action to the redirects after a form too: Link/Reconnect go on to the provider.
            'form-action': ["'self'", ...authorizationOrigins],
          },
        },
        strictTransportSecurity: https,
      }),
    ),
  );
  app.use(requestLogger(logger));

  app.get('/healthz', async (_req, res) => {
    let redisState: 'up' | 'down' | 'memory' = memory ? 'memory' : 'down';
    if (redis && redis.status === 'ready') {
      try {
        await redis.ping();
        redisState = 'up';
      } catch {
        redisState = 'down';
      }
    }
    res.set('Cache-Control', 'no-store');
    res.status(redisState === 'down' ? 503 : 200).json({ status: redisState === 'down' ? 'unavailable' : 'ok', redis: redisState });
  });
  app.get('/static/style.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=300').send(STYLESHEET);
  });
  app.get('/static/app.js', (_req, res) => {
    res.type('js').set('Cache-Control', 'public, max-age=300').send(SCRIPT);
  });

  // Login starts and callbacks per client address (rate-limit.ts), before anything touches the session
  // store: a refused request costs no Redis command.
  app.use(
    '/auth',
    rateLimit({
      limit: config.authRateLimit,
      refuse: (req, res, retryAfter) =>
        sendError(req, res, {
          status: 429,
          title: 'Too many sign-in attempts',
          message: `Too many sign-in requests from your network in the last minute. Try again in ${retryAfter} seconds.`,
          retryAfter,
        }),
    }),
  );

  // Fail fast: a request that carries a session cookie needs Redis. While it is down, answer 503 now
  // instead of waiting on the store (a cookie-less home page may still render).
  const cookiePattern = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=`);
  app.use((req, res, next) => {
    if (healthy() || !cookiePattern.test(req.headers.cookie ?? '')) return next();
    sendError(req, res, UNAVAILABLE);
  });

  app.use(
    session({
      name: SESSION_COOKIE,
      secret: config.sessionSecret,
      store: sessionStore,
      resave: false,
      saveUninitialized: false,
      proxy: config.trustProxy ? true : undefined,
      cookie: { httpOnly: true, sameSite: 'lax', secure: https, maxAge: config.sessionTtlSeconds * 1000, path: '/' },
    }),
  );
  // No auth.initialize(): passport.session() is an authenticate middleware, which puts req.login,
  // req.logout and req.isAuthenticated on the request itself (passport >= 0.5.1), and every route that
  // uses passport runs after it; initialize() would only set them a second time, per request.
  app.use(auth.session());
  app.use((_req, res, next) => {
    // Pages carry personal data and CSRF tokens: never cache them.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  const viewer = (req: Request): Viewer | undefined => {
    const account = currentAccount(req);
    return account ? { account, csrfToken: csrfToken(req) } : undefined;
  };

  function sendError(req: Request, res: Response, view: ErrorView): void {
    if (view.retryAfter) res.set('Retry-After', String(view.retryAfter));
    let who: Viewer | undefined;
    try {
      who = view.status === 503 || !req.session ? undefined : viewer(req);
    } catch {
      who = undefined;
    }
    res.status(view.status).type('html').send(errorPage({ ...view, viewer: who }));
  }

  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 });
  const requireCsrf: RequestHandler = (req, res, next) => {
    if (validCsrf(req)) return next();
    sendError(req, res, {
      status: 403,
      title: 'Form expired',
      message: 'This form could not be verified (its security token is missing or out of date). Reload the page and try again.',
      actions: [{ href: currentAccount(req) ? '/account' : '/', label: 'Reload' }],
    });
  };
  /**
   * Signed-in pages that show or change the account read it from the store (res.locals.account): the
   * session's summary may be behind a change made in another session of the same account, and an account
   * whose only identity was linked elsewhere is gone (that session is then signed out). The summary is
   * brought up to date on the way.
   */
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
  const storedAccount = (res: Response): Account => res.locals.account as Account;
  const configuredProvider = (req: Request): ProviderId => {
    const id = param(req, 'provider');
    if (!isProviderId(id)) throw notFound(`There is no provider called "${id}" here.`);
    if (!configured.includes(id)) {
      throw notFound(`${PROVIDER_INFO[id].name} is not configured on this server (set ${PROVIDER_INFO[id].env}_CLIENT_ID and ${PROVIDER_INFO[id].env}_CLIENT_SECRET).`);
    }
    return id;
  };

  app.get('/', (req, res) => {
    res.type('html').send(homePage(site, viewer(req)));
  });

  app.get('/auth/:provider', (req, res, next) => {
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
    if (!currentAccount(req)) req.session.cookie.maxAge = Math.min(PENDING_LOGIN_MS, config.sessionTtlSeconds * 1000);
    // The object state goes to the strategy's state store, one entry per pending login (several tabs).
    auth.authenticate(id, { state: { returnTo } } as unknown as passport.AuthenticateOptions)(req, res, next);
  });

  app.get('/auth/:provider/callback', (req, res, next) => {
    const id = configuredProvider(req);
    const name = PROVIDER_INFO[id].name;
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
  app.post('/link/:provider', form, requireAccount, requireCsrf, (req, res) => {
    const id = configuredProvider(req);
    req.session.linkIntent = { provider: id, expiresAt: Date.now() + LINK_INTENT_MS };
    res.redirect(303, `/auth/${id}?returnTo=%2Faccount`);
  });

  if (mcp) mountMcpConnections(app, auth, { tokens, form, requireAccount, requireCsrf, csrfToken });

  async function tokenViews(account: Account): Promise<Partial<Record<ProviderId, TokenView>>> {
    const views: Partial<Record<ProviderId, TokenView>> = {};
    await Promise.all(
      PROVIDER_IDS.filter((id) => account.identities[id]).map(async (id) => {
        const set = await tokens.get(account.id, id);
        if (set) views[id] = { expiresAt: set.expiresAt, scope: set.scope, hasRefreshToken: Boolean(set.refreshToken) };
      }),
    );
    return views;
  }

  app.get('/account', requireAccount, async (req, res) => {
    const who = { account: storedAccount(res), csrfToken: csrfToken(req) };
    res.type('html').send(accountPage(site, who, await tokenViews(who.account)));
  });

  app.post('/account/:provider/api', form, requireAccount, requireCsrf, async (req, res) => {
    const id = configuredProvider(req);
    const who = { account: storedAccount(res), csrfToken: csrfToken(req) };
    if (!who.account.identities[id]) throw notFound(`${PROVIDER_INFO[id].name} is not linked to your account.`);
    const url = sampleApiUrl(id, config.providers[id]!);
    let result: ApiResult;
    try {
      // TokenManager: a valid token (refreshed first when it expires soon), and one refresh + retry
      // when the provider rejects it anyway.
      const response = await tokens.fetch(who.account.id, id, url, {
        headers: { Accept: 'application/json' },
        signal: AbortSignal.timeout(config.providers[id]!.timeoutMs),
      });
      result = { provider: id, url, status: response.status, ok: response.ok, body: prettyBody(await response.text()) };
    } catch (err) {
      throw aboutProvider(err, id);
    }
    res.status(result.ok ? 200 : 502).type('html').send(accountPage(site, who, await tokenViews(who.account), result));
  });

  app.post('/account/:provider/disconnect', form, requireAccount, requireCsrf, async (req, res) => {
    const id = configuredProvider(req);
    const account = storedAccount(res);
    const linked = PROVIDER_IDS.filter((p) => account.identities[p]);
    if (linked.includes(id) && linked.length === 1) {
      throw new HttpError({
        status: 400,
        title: 'Cannot disconnect',
        message: `${PROVIDER_INFO[id].name} is the only way to sign in to this account. Link another provider first, or log out.`,
        actions: [{ href: '/account', label: 'Back to your account' }],
      });
    }
    await tokens.delete(account.id, id);
    await accounts.unlink(account.id, id);
    // The session's summary follows (saved before the redirect is sent), on every instance.
    const updated = await accounts.get(account.id);
    if (updated) rememberAccount(req, updated);
    res.redirect(303, '/account');
  });

  app.use(
    logoutRoutes({
      cookieName: SESSION_COOKIE,
      cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: https },
      sessionStore,
      sessionIndex,
      accountId: (req) => currentAccount(req)?.id,
      viewer,
      form,
      requireCsrf,
      logger,
    }),
  );

  app.use(() => {
    throw notFound();
  });

  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const provider = (err as { provider?: unknown } | null)?.provider;
    const view = errorView(err, typeof provider === 'string' ? provider : undefined, !healthy());
    // Only name, code, message and status (serializeError): never `err.command.args` of a Redis reply error.
    if (view.status >= 500 && view.status !== 503) req.log?.error({ err: serializeError(err) }, 'request failed');
    else if (view.status === 503) req.log?.warn({ err: serializeError(err) }, 'service unavailable');
    else if (!(err instanceof HttpError)) req.log?.warn({ err: serializeError(err) }, 'request refused');
    sendError(req, res, view);
  });

  let closing: Promise<void> | undefined;
  const closeAll = async () => {
    // A refreshed token set Redis refused is still being saved in the background: flushed before the
    // connection goes, or the customer would have to reconnect that provider.
    const lost = await tokens.close(5000);
    if (lost > 0) logger.error({ lost }, 'refreshed token sets could not be saved before shutdown');
    if (redis) await closeRedis(redis);
  };
  return {
    app,
    logger,
    tokens,
    accounts,
    redis,
    healthy,
    ready: (timeoutMs = 5000) => (redis ? waitForRedis(redis, timeoutMs) : Promise.resolve()),
    close: () => (closing ??= closeAll()),
  };
}
