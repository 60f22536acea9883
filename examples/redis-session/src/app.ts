/**
 * createApp(config): the Express app and a close function, wired from its parts: the stores (stores.ts),
 * sign-in and account linking (sign-in.ts), and the routes (login-routes.ts, account-routes.ts,
 * logout.ts, mcp-connections.ts). No listening here (see server.ts), so tests drive it with supertest
 * and several instances can share one Redis.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import { dictionaryMode } from '@passport-martech/oauth2';
import type { Logger } from 'pino';
import type { TokenManager } from '@passport-martech/refresh';
import type { AccountStore } from './accounts';
import { accountRoutes } from './account-routes';
import type { AppConfig } from './config';
import { errorView, HttpError, notFound, UNAVAILABLE } from './errors';
import { SCRIPT, STYLESHEET } from './html';
import { createLogger, requestLogger, serializeError } from './logging';
import { loginRoutes } from './login-routes';
import { logoutRoutes } from './logout';
import { createMcpConnection, mountMcpConnections } from './mcp-connections';
import { metricsRoute } from './instrumentation';
import { homePage, type SiteInfo } from './pages';
import { rateLimit } from './rate-limit';
import { waitForRedis, type RedisClient } from './redis';
import { requestHelpers } from './request-helpers';
import { series } from './series';
import { csrfToken, fixedHeaders } from './security';
import { createSignIn, currentAccount } from './sign-in';
import { ACCOUNT_PREFIX, createStores } from './stores';

export { SESSION_PREFIX, TOKEN_PREFIX, ACCOUNT_PREFIX } from './stores';
export { PENDING_LOGIN_MS } from './login-routes';
export const SESSION_COOKIE = 'sid';

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
  redis?: RedisClient;
}

export function createApp(config: AppConfig, options: CreateAppOptions = {}): AppHandle {
  const logger = options.logger ?? createLogger(config.logLevel);
  const https = config.baseUrl.startsWith('https:');
  const stores = createStores(config, logger);
  const { redis, memory, sessionStore, accounts, sessionIndex, healthy } = stores;
  const { auth, refresher, tokens, configured, authorizationOrigins, stateClaims } = createSignIn(config, stores, logger);
  // Demo mode: an Ontraport MCP connection, with discovery and a registered client (mcp-connections.ts).
  const mcp = config.sandboxUrl
    ? createMcpConnection({
        sandboxUrl: config.sandboxUrl,
        baseUrl: config.baseUrl,
        auth,
        refresher,
        redis,
        prefix: ACCOUNT_PREFIX,
        stateClaims,
        timeoutMs: config.providerTimeoutMs,
        authorizationOrigins,
      })
    : undefined;
  const site: SiteInfo = { configured, sandboxUrl: config.sandboxUrl, storage: memory ? 'memory' : 'redis', tokensEncrypted: !memory && stores.encryptionKey !== undefined };
  const helpers = requestHelpers(accounts, configured);
  const { sendError, viewer, form, requireAccount, requireCsrf } = helpers;

  // --- the app ---
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  // helmet's headers, worked out once at startup (they are the same for every response) and set with
  // one loop per request instead of helmet's chain of middlewares; then request logging, after the
  // request and response objects are put in dictionary mode (`dictionaryMode`, from
  // @passport-martech/oauth2's request-shape.ts, which says why). The middlewares that run on every
  // request are mounted in series (series.ts): one router layer each group.
  const securityHeaders = fixedHeaders(
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
  );
  app.use(series(dictionaryMode, securityHeaders, requestLogger(logger)));

  // Liveness: the process runs and answers (a Redis outage must not get it restarted: it recovers by
  // itself). Readiness: Redis takes a write (readiness.ts), so send users here. /healthz is readiness, as
  // it always meant "this instance can serve" (README "Health checks").
  app.get('/livez', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  const readiness: express.RequestHandler = async (_req, res) => {
    const { ready, reason } = await stores.readiness();
    const redisState = memory ? 'memory' : ready ? 'up' : 'down';
    res.set('Cache-Control', 'no-store');
    if (ready) res.json({ status: 'ok', redis: redisState });
    else res.status(503).json({ status: 'unavailable', redis: redisState, reason });
  };
  app.get('/readyz', readiness);
  app.get('/healthz', readiness);
  const metrics = config.metricsToken ? metricsRoute(config.metricsToken) : undefined;
  if (metrics) app.get('/metrics', metrics.handler);
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
  const failFast: express.RequestHandler = (req, res, next) => {
    if (healthy() || !cookiePattern.test(req.headers.cookie ?? '')) return next();
    sendError(req, res, UNAVAILABLE);
  };
  const sessions = session({
    name: SESSION_COOKIE,
    secret: config.sessionSecret,
    store: sessionStore,
    resave: false,
    saveUninitialized: false,
    proxy: config.trustProxy ? true : undefined,
    cookie: { httpOnly: true, sameSite: 'lax', secure: https, maxAge: config.sessionTtlSeconds * 1000, path: '/' },
  });
  const noStore: express.RequestHandler = (_req, res, next) => {
    // Pages carry personal data and CSRF tokens: never cache them.
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
  // No auth.initialize(): passport.session() is an authenticate middleware, which puts req.login,
  // req.logout and req.isAuthenticated on the request itself (passport >= 0.5.1), and every route that
  // uses passport runs after it; initialize() would only set them a second time, per request.
  app.use(series(failFast, sessions, auth.session(), noStore));

  app.get('/', (req, res) => {
    res.type('html').send(homePage(site, viewer(req)));
  });

  // Routes go on the app itself, not on mounted routers: a router runs its own dispatch for every
  // request that passes through it (bench figure 3).
  loginRoutes(app, { auth, helpers, sessionIndex, sessionTtlSeconds: config.sessionTtlSeconds });
  if (mcp) mountMcpConnections(app, auth, { tokens, form, requireAccount, requireCsrf, csrfToken });
  accountRoutes(app, { site, providers: config.providers, accounts, tokens, helpers });

  logoutRoutes(app, {
    cookieName: SESSION_COOKIE,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: https },
    sessionStore,
    sessionIndex,
    accountId: (req) => currentAccount(req)?.id,
    viewer,
    form,
    requireCsrf,
    logger,
  });

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
    metrics?.stop();
    await stores.close();
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
