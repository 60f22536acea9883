/**
 * MCP connections (issue 16): a signed-in account links Ontraport's MCP server without any client set up
 * by hand. The strategy discovers the authorization server (RFC 8414), registers a client once (RFC 7591)
 * and keeps it in Redis for every instance of the app, checks `iss` on the callback (RFC 9207), and builds
 * no profile (`connectionOnly`): the connection belongs to the account that is signed in. The tokens go to
 * the TokenManager under `ontraport-mcp`, so they refresh like any other provider's.
 *
 * Demo mode only (SANDBOX_URL): against Ontraport itself, drop `issuer` and `resource` (the package's
 * built-in issuer is used with `discovery: true`).
 */
import express, { type RequestHandler } from 'express';
import type passport from 'passport';

type Authenticator = InstanceType<typeof passport.Passport>;
import { MemoryClientStore, type ClientStore, type StateClaimStore, type TokenParams, type VerifyCallback } from '@passport-martech/oauth2';
import { Strategy as OntraportStrategy, type OntraportProfile } from '@passport-martech/ontraport';
import type { TokenManager, TokenRefresher } from '@passport-martech/refresh';
import type { Account } from './accounts';
import { html, layout } from './html';
import { accountName } from './accounts';
import type { RedisClient } from './redis';

/** The strategy (and TokenManager provider) name of the connection. */
export const MCP_CONNECTION = 'ontraport-mcp';
export const MCP_CALLBACK_PATH = '/connections/ontraport/callback';

/** The account page's pointer to /connections (demo mode). */
export const MCP_CONNECTIONS_TEASER = html`<h2>MCP connections</h2><p><a href="/connections">Connect Ontraport's MCP server</a> to this account (no client set up by hand).</p>`;

/** A ClientStore over ioredis: SET NX makes two instances registering at once agree on one client. */
export function redisClientStore(redis: RedisClient, prefix: string): ClientStore {
  return {
    get: (key) => redis.get(`${prefix}${key}`),
    set: (key, value) => redis.set(`${prefix}${key}`, value),
    setIfAbsent: async (key, value) => (await redis.set(`${prefix}${key}`, value, 'NX')) === 'OK',
    delete: (key) => redis.del(`${prefix}${key}`),
  };
}

export interface McpStrategyOptions {
  sandboxUrl: string;
  baseUrl: string;
  auth: Authenticator;
  refresher: TokenRefresher;
  redis: RedisClient | undefined;
  prefix: string;
  stateClaims?: StateClaimStore;
  timeoutMs: number;
  /** CSP form-action: the Connect form ends at the authorization server. */
  authorizationOrigins: Set<string>;
}

export interface McpRoutesOptions {
  tokens: TokenManager;
  form: RequestHandler;
  requireAccount: RequestHandler;
  requireCsrf: RequestHandler;
  csrfToken(req: express.Request): string;
}

/** The connection's strategy, registered with passport and the refresher. */
export function createMcpConnection(o: McpStrategyOptions): OntraportStrategy {
  const issuer = `${o.sandboxUrl}/ontraport`;
  const strategy = new OntraportStrategy(
    {
      authServer: 'mcp',
      issuer,
      resource: `${issuer}/mcp`,
      callbackURL: `${o.baseUrl}${MCP_CALLBACK_PATH}`,
      // No clientID: registered once, kept in Redis for every instance.
      registration: { store: o.redis ? redisClientStore(o.redis, o.prefix) : new MemoryClientStore(), clientName: 'passport-martech example' },
      connectionOnly: true,
      sessionKey: `oauth2:${MCP_CONNECTION}`,
      timeout: o.timeoutMs,
      ...(o.stateClaims ? { stateClaims: o.stateClaims } : {}),
    },
    (_accessToken: string, _refreshToken: string | undefined, params: TokenParams, _profile: OntraportProfile, done: VerifyCallback) =>
      // connectionOnly: no profile; the connection belongs to the signed-in account (req.user stays as it is).
      done(null, { tokenSet: params.tokenSet } as unknown as Express.User),
  );
  o.auth.use(MCP_CONNECTION, strategy);
  o.refresher.use(MCP_CONNECTION, strategy);
  o.authorizationOrigins.add(new URL(issuer).origin);
  return strategy;
}

/** The /connections page, its Connect form and the callback. */
export function mountMcpConnections(app: express.Express, auth: Authenticator, o: McpRoutesOptions): void {
  const accountOf = (res: express.Response) => res.locals.account as Account;

  app.get('/connections', o.requireAccount, async (req, res) => {
    const account = accountOf(res);
    const tokenSet = await o.tokens.get(account.id, MCP_CONNECTION);
    const csrf = o.csrfToken(req);
    const status = tokenSet
      ? html`<p>Connected. Scope: <code>${(tokenSet.scope ?? []).join(' ') || '(none)'}</code>; the access token expires ${tokenSet.expiresAt ? new Date(tokenSet.expiresAt).toISOString() : 'never'}.</p>`
      : html`<p>Not connected.</p>`;
    const body = html`<h1>MCP connections</h1>
<section class="card"><h2>Ontraport MCP</h2>${status}
<p>The app has no Ontraport client of its own: it registers one with the authorization server the first time (and shares it with every instance).</p>
<form method="post" action="/connections/ontraport" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="primary">${tokenSet ? 'Reconnect' : 'Connect'} Ontraport MCP</button></form></section>`;
    res.type('html').send(layout({ title: 'MCP connections', user: { name: accountName(account), csrfToken: csrf }, body }));
  });

  // A CSRF-checked POST starts it, so another site cannot connect its own Ontraport to this account.
  app.post('/connections/ontraport', o.form, o.requireAccount, o.requireCsrf, auth.authorize(MCP_CONNECTION));

  app.get(MCP_CALLBACK_PATH, o.requireAccount, (req, res, next) => {
    auth.authorize(MCP_CONNECTION, (err: unknown, connection: { tokenSet?: TokenParams['tokenSet'] } | false) => {
      if (err) return next(err);
      if (!connection || !connection.tokenSet) {
        res.status(403).type('html').send(
          layout({ title: 'Not connected', body: html`<h1>Not connected</h1><p>The connection was declined, or the answer did not come from the server this app asked (state or iss check). <a href="/connections">Try again</a>.</p>` }),
        );
        return;
      }
      o.tokens.save(accountOf(res).id, MCP_CONNECTION, connection.tokenSet).then(() => res.redirect(303, '/connections'), next);
    })(req, res, next);
  });
}
