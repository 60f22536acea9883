import type { Request } from 'express';
import { Strategy as OAuth2Strategy } from 'passport-oauth2';
import { AuthenticateAttempt, CallbackAttempt, StateVerifier, answerErrorResponse, finishLogin, trackLoginOutcome } from './callback-leg';
import { ErrorCode, OAuthRequestError, OAuthTokenError, isOAuthError, parseRfc6749Error } from './errors';
import { formEncode } from './form';
import { readJsonObject, requestProvider } from './http';
import type { McpConnection } from './mcp-connection';
import { normalizeScope } from './options';
import type { Profile } from './profile';
import { dictionaryModeForExpress } from './request-shape';
import { StartAttempt, StartLegSettings, startLeg } from './start-leg';
import { AppState } from './state-store';
import type { ProviderDefinition } from './strategy';
import type { TokenClient } from './token-client';
import type { TokenSet } from './token-set';

/**
 * The request-time half of ProviderStrategy: what `authenticate()` and passport-oauth2's profile and
 * error hooks run during a login. It loads with a login's first request (the login-requests chunk), not
 * with require(): strategy.ts keeps what construction needs, and its methods call these functions with
 * the object passport hands them (`Object.create(strategy)` for each authenticate() call).
 */

export type Done = (err?: unknown, profile?: Profile) => void;

/** What the functions below read of a strategy: its settings, its hooks and passport-oauth2's internals. */
export interface LoginStrategy {
  readonly name: string;
  readonly provider: Readonly<ProviderDefinition>;
  readonly options: Readonly<{ clientID?: string; clientSecret?: string; customHeaders?: Record<string, string>; revocationURL?: string }>;
  readonly timeout: number;
  readonly userProfileURL: string | undefined;
  readonly tokenClient: TokenClient;
  readonly _mcp: McpConnection | undefined;
  readonly _legSettings: StartLegSettings | undefined;
  _oauth2: { tokenSetFor?(accessToken: string): TokenSet | undefined };
  _stateStore: StateVerifier;
  redirect(url: string, status?: number): void;
  fail(challenge?: unknown, status?: number): void;
  authenticate(req: Request, options?: Record<string, unknown>): void;
  ready(): Promise<void>;
  authorizationURLFor(options: object): string;
  profile(accessToken: string, tokenSet: TokenSet | undefined): Promise<Profile>;
  profileFromLogin(tokenSet: TokenSet): Profile | undefined;
  parseProfile(json: Record<string, unknown>, raw: string): Profile | undefined;
  profileFromTokenSet(tokenSet: TokenSet): Profile | undefined;
  requestIdentity(url: string, accessToken: string, init?: IdentityRequest): Promise<{ json: Record<string, unknown>; text: string }>;
  profileUnavailable(reason: string): OAuthRequestError;
}

export interface IdentityRequest {
  method?: 'GET' | 'POST';
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/** passport-oauth2's own implementations, for what this package leaves to it. */
const parent = OAuth2Strategy.prototype as unknown as {
  authenticate(this: unknown, req: Request, options: object): void;
  _loadUserProfile(this: unknown, accessToken: string, done: Done): void;
  _createOAuthError(this: unknown, message: string, err: unknown): Error;
};

/** Authorization response parameters that must appear at most once (a repeated one parses as an array). */
const RESPONSE_PARAMS = ['code', 'state', 'error', 'iss'] as const;

function isAbsentOrString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

/** ProviderStrategy.authenticate(): starts a login or finishes one; a malformed callback is a 400 failure. */
export function authenticateRequest(strategy: LoginStrategy, req: Request, options?: Record<string, unknown>): void {
  // In an Express app, the rest of this request (passport, express-session, Node's http) reads and adds
  // properties of req and res on shared hidden classes instead of one new class per request (request-shape.ts).
  dictionaryModeForExpress(req, req.res);
  const query = (req.query ?? {}) as Record<string, unknown>;
  const body = (req.body ?? {}) as Record<string, unknown>;
  for (let i = 0; i < RESPONSE_PARAMS.length; i++) {
    const param = RESPONSE_PARAMS[i]!;
    if (!isAbsentOrString(query[param]) || !isAbsentOrString(body[param])) {
      return strategy.fail({ message: `Malformed authorization response: "${param}" must appear once.` }, 400);
    }
  }
  const provider = strategy.provider;
  // A copy: the options object of passport.authenticate() is shared by every request of the route.
  const perRequest: Record<string, unknown> = options ? { ...options } : {};
  if (typeof perRequest.state === 'string') {
    // passport-oauth2 would send a string state as is and skip the store, so the callback could never
    // verify it (and PKCE would lose its verifier). It travels as app state instead: info.state on success.
    perRequest.state = new AppState(perRequest.state);
  }
  const callbackLeg = query.code !== undefined || query.error !== undefined || body.code !== undefined || body.error !== undefined;
  // MCP: discovery and registration first (then authenticate() runs again), and the callback's `iss` check.
  // (The gate is built for MCP strategies only: every other login skips its objects and closure.)
  if (strategy._mcp) {
    const meta = { authorizationURL: provider.authorizationURL, tokenURL: provider.tokenURL, clientID: strategy.options.clientID };
    const gate = { callbackLeg, iss: query.iss ?? body.iss, state: query.state ?? body.state, store: strategy._stateStore, meta, rerun: () => strategy.authenticate(req, options) };
    if (strategy._mcp.intercept(req, strategy as unknown as AuthenticateAttempt, gate)) return;
  }
  if (callbackLeg) {
    // A duplicate of this callback may wait for its outcome: bounded by the token and profile requests.
    trackLoginOutcome(strategy as unknown as AuthenticateAttempt, req, 2 * strategy.timeout + 5_000);
    const error = query.error ?? body.error;
    if (typeof error === 'string') {
      return answerErrorResponse(strategy as unknown as AuthenticateAttempt, req, error, query.state ?? body.state, {
        provider: strategy.name,
        knownErrors: provider.authorizationErrors,
        store: strategy._stateStore,
        meta: { authorizationURL: provider.authorizationURL, tokenURL: provider.tokenURL, clientID: strategy.options.clientID },
      });
    }
  }
  if (perRequest.scope !== undefined) {
    perRequest.scope = normalizeScope(provider.packageName, perRequest.scope, provider.requiredScope);
  }
  let authorizationURL: string;
  try {
    authorizationURL = callbackLeg ? provider.authorizationURL : strategy.authorizationURLFor(perRequest);
  } catch (error) {
    // A bad per-request option (an account id a provider pins, say) is the caller's mistake: a 400, not a crash.
    return strategy.fail({ message: (error as Error).message }, 400);
  }
  if (authorizationURL !== provider.authorizationURL) {
    // passport-oauth2 builds the redirect from the constructor's URL; this request uses another base.
    const redirect = strategy.redirect;
    strategy.redirect = (location: string, status?: number) => {
      const target = new URL(authorizationURL);
      target.search = new URL(location).search;
      redirect.call(strategy, target.toString(), status);
    };
  }
  try {
    // Both legs are ours when the callback URL is fixed (start-leg.ts, callback-leg.ts); passport-oauth2's otherwise.
    const settings = strategy._legSettings;
    const own = callbackLeg
      ? settings !== undefined && finishLogin(strategy as unknown as CallbackAttempt, req, perRequest, query.code || body.code, query.state || body.state, settings.callbackURL)
      : settings !== undefined && authorizationURL === provider.authorizationURL && startLeg(strategy as unknown as StartAttempt, req, perRequest, settings);
    if (!own) parent.authenticate.call(strategy, req, perRequest);
  } catch (error) {
    // Our own option checks (a per-request optionalScope, say) name the package: the caller's mistake.
    if (error instanceof TypeError && error.message.startsWith(`${provider.packageName}:`)) {
      return strategy.fail({ message: error.message }, 400);
    }
    throw error;
  }
}

/** ProviderStrategy.parseErrorResponse(): the token client's parser, for callers of passport-oauth2's hook. */
export function tokenErrorFromBody(strategy: LoginStrategy, body: string, status: number): Error | null {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  try {
    readJsonObject({ status, json, text: body, headers: new Headers() }, readOptions(strategy, 'Token request'));
  } catch (error) {
    if (error instanceof OAuthTokenError) return error;
  }
  return null;
}

/**
 * The TokenSet of the login whose profile is being loaded, on passport's per-request object (see
 * loadUserProfile()).
 */
const LOGIN_TOKEN_SET = Symbol('passport-martech.loginTokenSet');
type LoginScoped = { [LOGIN_TOKEN_SET]?: TokenSet };

/**
 * ProviderStrategy._loadUserProfile(). passport-oauth2 hands only the access token to the profile step;
 * the token response arrives just before, in the same tick. It is picked up here so userProfile() can use
 * it (identities read from token responses). It is kept on the object passport makes for each
 * authenticate() call (Object.create(strategy)), so concurrent logins never share it; userProfile() uses
 * it only for the same access token. Not a process-wide Map by access token: measured under load (bench
 * README, figure 4), a long-lived Map that takes and drops an entry per login kept its entries reachable
 * by young-generation collections, which promoted each login's TokenSet to the old generation.
 */
export function loadUserProfile(strategy: LoginStrategy, accessToken: string, done: Done): void {
  const tokenSet = strategy._oauth2.tokenSetFor?.(accessToken);
  const scoped = strategy as LoginScoped;
  if (tokenSet) scoped[LOGIN_TOKEN_SET] = tokenSet;
  parent._loadUserProfile.call(strategy, accessToken, (err, profile) => {
    if (tokenSet && scoped[LOGIN_TOKEN_SET] === tokenSet) scoped[LOGIN_TOKEN_SET] = undefined;
    done(err, profile);
  });
}

/** ProviderStrategy.userProfile(): the profile, with the login's TokenSet at hand when there is one. */
export function userProfile(strategy: LoginStrategy, accessToken: string, done: Done): void {
  const held = (strategy as LoginScoped)[LOGIN_TOKEN_SET];
  const tokenSet = held !== undefined && held.accessToken === accessToken ? held : undefined;
  if (tokenSet) {
    // A profile the token response already holds needs no request, so no promise either.
    let immediate: Profile | undefined;
    try {
      immediate = strategy.profileFromLogin(tokenSet);
    } catch (error) {
      return done(error);
    }
    // Given at once, as passport-oauth2's own userProfile gives its answer.
    if (immediate) return done(null, immediate);
  }
  strategy.profile(accessToken, tokenSet).then(
    (profile) => process.nextTick(done, null, profile),
    (error: unknown) => process.nextTick(done, error),
  );
}

/** ProviderStrategy.profile()'s default: `userProfileURL`, else the token response, else PROFILE_UNAVAILABLE. */
export async function defaultProfile(strategy: LoginStrategy, accessToken: string, tokenSet: TokenSet | undefined): Promise<Profile> {
  if (strategy.userProfileURL) {
    const { json, text } = await strategy.requestIdentity(strategy.userProfileURL, accessToken);
    const profile = strategy.parseProfile(json, text);
    if (profile) return profile;
    throw strategy.profileUnavailable(`the identity document at userProfileURL names no user (no id, user_id, sub, account_id or email)`);
  }
  const fromToken = tokenSet ? strategy.profileFromTokenSet(tokenSet) : undefined;
  if (fromToken) return fromToken;
  throw strategy.profileUnavailable(
    tokenSet
      ? 'the token response carries no identity field and the provider documents no identity endpoint'
      : 'there is no token response to read identity from (a profile outside a login needs userProfileURL)',
  );
}

/** ProviderStrategy.requestIdentity(): the token in the Authorization header; typed errors for every failure. */
export async function requestIdentity(strategy: LoginStrategy, url: string, accessToken: string, init: IdentityRequest): Promise<{ json: Record<string, unknown>; text: string }> {
  const method = init.method ?? 'GET';
  // A provider's own headers (an API version header, say); the Authorization and Content-Type set below win.
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = formEncode(init.form);
  } else {
    headers.Authorization = `Bearer ${accessToken}`;
  }
  const options = readOptions(strategy, 'Profile request', [accessToken]);
  // passport-oauth2 sends customHeaders on every request to the provider, the profile request included.
  const allHeaders = { ...strategy.options.customHeaders, ...headers };
  const request = { url, method, headers: allHeaders, body, timeout: strategy.timeout, agent: strategy.tokenClient.agent, kind: 'profile', ...options };
  return requestProvider(request, (response) => ({ json: readJsonObject(response, options), text: response.text }));
}

/** ProviderStrategy.profileUnavailable(): PROFILE_UNAVAILABLE, saying which option would give a profile. */
export function profileUnavailable(strategy: LoginStrategy, reason: string): OAuthRequestError {
  const provider = strategy.provider;
  return new OAuthRequestError({
    code: ErrorCode.PROFILE_UNAVAILABLE,
    provider: strategy.name,
    message: `${provider.packageName}: cannot build a profile: ${reason}. Set the userProfileURL option to an identity endpoint, or skipUserProfile: true${provider.mcp ? ' (or connectionOnly: true to link an MCP connection to a signed-in user)' : ''}.`,
  });
}

/** ProviderStrategy.revoke(): RFC 7009 at the provider's (or the MCP server's) revocation endpoint. */
export async function revoke(strategy: LoginStrategy, token: string, tokenTypeHint: 'refresh_token' | 'access_token'): Promise<void> {
  await strategy.ready();
  const provider = strategy.provider;
  const url = (strategy.options.revocationURL === undefined ? await strategy._mcp?.discoveredRevocationURL() : undefined) ?? provider.revocationURL;
  if (!url) {
    throw new OAuthRequestError({
      code: ErrorCode.REVOCATION_UNSUPPORTED,
      provider: strategy.name,
      message: `${provider.packageName}: the provider documents no token revocation endpoint (set revocationURL if it has one)`,
    });
  }
  await strategy.tokenClient.revoke(url, token, tokenTypeHint);
}

/** ProviderStrategy._createOAuthError(): our typed errors stay as they are instead of becoming InternalOAuthError. */
export function oauthError(strategy: LoginStrategy, message: string, err: unknown): Error {
  // A registered client the server no longer knows: the next login registers a new one.
  if (strategy._mcp && isOAuthError(err) && err.code === 'invalid_client') strategy._mcp.clientRejected(strategy.tokenClient.clientID);
  if (isOAuthError(err)) return err;
  return parent._createOAuthError.call(strategy, message, err);
}

function readOptions(strategy: LoginStrategy, label: string, extraSecrets: (string | undefined)[] = []) {
  return {
    label,
    provider: strategy.name,
    parseError: strategy.provider.parseError ?? parseRfc6749Error,
    secrets: [strategy.options.clientSecret, ...extraSecrets],
  };
}
