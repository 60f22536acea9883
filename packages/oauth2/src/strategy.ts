import { parse as parseLegacyURL } from 'node:url';
import type { Request } from 'express';
// A named import: esbuild then requires passport-oauth2 as is, without copying its exports (a default
// import of a CommonJS module is wrapped in __toESM at every load of the bundle).
import { Strategy as OAuth2Strategy, type StateStore, type StrategyOptions, type VerifyFunction } from 'passport-oauth2';
import type { ErrorBodyParser, OAuthRequestError } from './errors';
import type { ProviderAgent } from './transport';
import { TokenClientOAuth2, createOAuth2Adapter } from './oauth2-adapter';
import type { StartLegSettings } from './start-leg';
import {
  Done,
  IdentityRequest,
  LoginStrategy,
  authenticateRequest,
  defaultProfile,
  loadUserProfile,
  oauthError,
  profileUnavailable,
  requestIdentity,
  revoke as revokeToken,
  tokenErrorFromBody,
  userProfile,
} from './login-leg';
import { McpClientConfig, McpConnection } from './mcp-connection';
import type { McpSetup } from './mcp';
import { DEFAULT_TIMEOUT_MS, InsecureHttpOption, checkEndpointURL, checkURL, normalizeScope, optionError, optionalString, requireString } from './options';
import { Profile, TokenIdentityHook, profileFromTokenResponse, profileFromUserInfo } from './profile';
import type { StateClaimStore } from './state-claims';
import { SessionStateStore } from './state-store';
import { CookieStateOptions, CookieStateStore } from './cookie-state-store';
import { BodyEncoding, ClientAuthentication, TokenClient } from './token-client';
import { TokenSet } from './token-set';
import { AnyVerify, AnyVerifyFunction, adaptVerify } from './verify';

/**
 * A provider described as data: what a subclass declares instead of code. Every URL here is a default
 * the user can override with the matching option.
 */
export interface ProviderDefinition {
  /** The strategy name (`passport.authenticate(name)`). */
  name: string;
  /** For error messages: `@passport-martech/<name>`. */
  packageName: string;
  authorizationURL: string;
  tokenURL: string;
  /** Identity endpoint, when the provider has one. */
  userProfileURL?: string;
  /** The default of the `apiBaseURL` option: where API calls made with the tokens go. */
  apiBaseURL?: string;
  /** A different URL for the refresh grant (passport-oauth2-refresh reads `_refreshURL`). */
  refreshURL?: string;
  /** RFC 7009 revocation endpoint, where the provider documents one (`revoke()`). */
  revocationURL?: string;
  bodyEncoding: BodyEncoding;
  clientAuthentication: ClientAuthentication;
  /** Default ' '. */
  scopeSeparator?: string;
  /** Used when the user gives no `scope`. */
  defaultScope?: readonly string[];
  /** Always added to whatever scope is asked for. */
  requiredScope?: readonly string[];
  /** `true`: PKCE S256 on by default; `'required'`: on and cannot be turned off. */
  pkce?: boolean | 'required';
  /** Fixed parameters added to every authorization request (e.g. an RFC 8707 `resource`). */
  authorizationParams?: Readonly<Record<string, string>>;
  /** Fixed parameters added to every token request. */
  tokenParams?: Readonly<Record<string, string>>;
  /** Reads the provider's error bodies; RFC 6749 when absent. */
  parseError?: ErrorBodyParser;
  /**
   * `error` values the provider documents for its authorization error responses beyond RFC 6749 4.1.2.1's;
   * any other value is reported as `unknown`.
   */
  authorizationErrors?: readonly string[];
  /** An MCP authorization server's discovery, registration and identity mode (see mcp.ts). */
  mcp?: McpSetup;
  /** The provider's own identity fields in a token response, beyond the standard keys (see profile.ts). */
  tokenIdentity?: TokenIdentityHook;
  /**
   * The provider's rule for "this API answer rejects the access token" when it is not (only) HTTP 401,
   * e.g. an error code inside an HTTP 200 body. It must leave the response body readable (`clone()`).
   */
  isTokenRejected?: (response: Response) => boolean | Promise<boolean>;
}

/** Options every strategy accepts (passport-oauth2's, plus ours). */
export interface ProviderStrategyOptions extends InsecureHttpOption {
  /**
   * Required. `undefined` is accepted by the type so that `clientID: process.env.X` compiles; an unset or
   * empty value is a TypeError at construction that names the option.
   */
  clientID: string | undefined;
  /** Optional only for providers whose `clientAuthentication` is `none`; `undefined` is checked as clientID is. */
  clientSecret?: string | undefined;
  /** Absolute, or a path resolved against the request (as in passport-oauth2). Checked as clientID is. */
  callbackURL: string | undefined;
  /** Array, or a string of scopes separated by spaces or commas. */
  scope?: string | string[];
  scopeSeparator?: string;
  authorizationURL?: string;
  tokenURL?: string;
  userProfileURL?: string;
  /** RFC 7009 revocation endpoint for `revoke()`; default: the provider's documented one, if any. */
  revocationURL?: string;
  /**
   * The base URL of the provider's API, for the calls the app makes with the tokens (the login does not
   * use it); exposed as `strategy.apiBaseURL`. Default: the provider's. Checked as the endpoints are.
   */
  apiBaseURL?: string;
  /** Milliseconds per request to the provider (token and profile); default 10 000. */
  timeout?: number;
  /**
   * The `http.Agent`/`https.Agent` for every request to the provider (token, refresh, profile): a proxy
   * agent, say. Default: a shared keep-alive agent. `strategy._oauth2.setAgent(agent)` works too.
   */
  agent?: ProviderAgent;
  /** `false` turns PKCE off where the provider allows it; `true`/`'S256'` turn it on. */
  pkce?: boolean | 'S256' | 'plain';
  /**
   * Default on, kept in the session (express-session). `{ cookie: { key } }` keeps each pending login in
   * an encrypted cookie instead, for apps without sessions (see the README, "Apps without sessions").
   * `false` turns state off (not recommended; PKCE needs it).
   */
  state?: boolean | { cookie: CookieStateOptions };
  /** A custom passport-oauth2 state store object, replacing the built-in multi-tab session store. */
  store?: StateStore | object | boolean;
  sessionKey?: string;
  /**
   * With the built-in state store: a store shared by several processes that records used states
   * atomically (`claim(key, ttlMs)`, e.g. Redis `SET NX PX`). Within one process consumption is atomic
   * without it.
   */
  stateClaims?: StateClaimStore;
  passReqToCallback?: boolean;
  skipUserProfile?: boolean | ((...args: never[]) => unknown);
  customHeaders?: Record<string, string>;
  proxy?: boolean;
}

/** Options of a provider whose client may register itself (MCP): `clientID` may be left out. */
export type RegistrableStrategyOptions = Omit<ProviderStrategyOptions, 'clientID'> & { clientID?: string | undefined };

/** What `params` holds in a verify callback: the token response (minus refresh_token) and the TokenSet. */
export type TokenParams = Record<string, unknown> & { tokenSet: TokenSet };

/** What makes two client settings the same client (useClient). */
const CLIENT_FIELDS = ['authorizationURL', 'tokenURL', 'clientID', 'clientSecret', 'clientAuthentication'] as const;

/** passport-oauth2 internals this class relies on (stable since 1.4). */
interface PassportOAuth2Internals {
  _oauth2: TokenClientOAuth2;
  _refreshURL?: string;
}

/**
 * The base of every passport-martech strategy: passport-oauth2's Strategy, with token requests in the
 * provider's dialect, typed errors, TokenSets, multi-tab state, PKCE and Promise verify callbacks.
 */
export class ProviderStrategy<TOptions extends RegistrableStrategyOptions = RegistrableStrategyOptions> extends OAuth2Strategy {
  /** The definition after options were applied (URLs as used). */
  readonly provider: Readonly<ProviderDefinition>;
  declare protected readonly options: Readonly<TOptions>;
  protected readonly timeout: number;
  protected readonly userProfileURL: string | undefined;
  /** The `apiBaseURL` option, or the provider's default (undefined when it has none). */
  readonly apiBaseURL: string | undefined;
  /** MCP discovery and registration, when on (mcp-connection.ts). */
  private readonly _mcp: McpConnection | undefined;
  /** Builds the token client adapter for a client authentication method (MCP clients switch). */
  private readonly _adapterFor: (clientAuthentication: ClientAuthentication) => ReturnType<typeof createOAuth2Adapter>;
  /** The client settings useClient() last installed (the same settings keep the same adapter). */
  #client: Readonly<McpClientConfig> | undefined;
  /** A login's fixed settings, when this package runs both legs itself (start-leg.ts, callback-leg.ts). */
  private readonly _legSettings: StartLegSettings | undefined;

  constructor(definition: ProviderDefinition, options: TOptions, verify: AnyVerifyFunction<never> | AnyVerify) {
    const owner = definition.packageName;
    if (!options || typeof options !== 'object') throw new TypeError(`${owner}: options object is required`);
    if (typeof verify !== 'function') throw new TypeError(`${owner}: a verify callback is required`);
    // An MCP client that registers itself (no clientID) gets its id before the first login.
    const clientID = definition.mcp?.registration ? '' : requireString(owner, options, 'clientID');
    const callbackURL = requireString(owner, options, 'callbackURL');
    if (definition.clientAuthentication !== 'none') requireString(owner, options, 'clientSecret');
    else optionalString(owner, options, 'clientSecret');

    if (options.allowInsecureHttp !== undefined && typeof options.allowInsecureHttp !== 'boolean') {
      throw optionError(owner, 'allowInsecureHttp', 'must be true or false');
    }
    const authorizationURL = checkEndpointURL(owner, 'authorizationURL', options.authorizationURL ?? definition.authorizationURL, options);
    const tokenURL = checkEndpointURL(owner, 'tokenURL', options.tokenURL ?? definition.tokenURL, options);
    const userProfileURL = options.userProfileURL ?? definition.userProfileURL;
    // A strategy pointed at another token server (a proxy, a staging or mock server) must not send its
    // tokens and client credentials to the provider's production revocation endpoint.
    const revocationURL = options.revocationURL ?? (options.tokenURL === undefined ? definition.revocationURL : undefined);
    if (revocationURL !== undefined) checkEndpointURL(owner, 'revocationURL', revocationURL, options);
    if (userProfileURL !== undefined) checkEndpointURL(owner, 'userProfileURL', userProfileURL, options);
    const apiBaseURL = options.apiBaseURL ?? definition.apiBaseURL;
    if (apiBaseURL !== undefined) checkEndpointURL(owner, 'apiBaseURL', apiBaseURL, options);
    if (/^https?:/i.test(callbackURL)) checkURL(owner, 'callbackURL', callbackURL);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout <= 0 || timeout > 2_147_483_647) {
      throw optionError(owner, 'timeout', 'must be a whole number of milliseconds between 1 and 2147483647');
    }

    const pkce = resolvePkce(owner, definition.pkce, options.pkce);
    const cookieState = cookieStateOption(owner, options.state);
    if (cookieState && options.store !== undefined) throw optionError(owner, 'store', 'cannot be combined with state: { cookie } (which is a store)');
    const stateOn = options.state !== false || (options.store !== undefined && options.store !== false);
    if (pkce && !stateOn) throw optionError(owner, 'state', 'cannot be false while PKCE is on (set pkce: false too; without a session, use state: { cookie: { key } })');
    const sessionKey = options.sessionKey ?? `oauth2:${definition.name}`;
    const customStore = typeof options.store === 'object' && options.store !== null;
    if (options.stateClaims !== undefined && (customStore || !stateOn)) {
      throw optionError(owner, 'stateClaims', 'works with the built-in state store only (a custom store makes its own consumption atomic)');
    }
    const store = customStore
      ? options.store
      : cookieState
        ? new CookieStateStore({ ...cookieState, callbackURL, owner, strategy: definition.name, stateClaims: options.stateClaims })
        : stateOn
        ? new SessionStateStore({ key: sessionKey, owner, stateClaims: options.stateClaims })
        : undefined;

    if (pkce && typeof store === 'object' && typeof (store as { store?: unknown }).store === 'function' && (store as { store: () => void }).store.length !== 5) {
      // passport-oauth2 hands the PKCE verifier only to a five-argument store(req, verifier, state, meta, cb).
      throw optionError(owner, 'store', 'must take five arguments (req, verifier, state, meta, callback) while PKCE is on, or set pkce: false');
    }
    const scope = normalizeScope(owner, options.scope ?? definition.defaultScope, definition.requiredScope);
    const passReqToCallback = options.passReqToCallback === true;

    const passportOptions = {
      ...options,
      // passport-oauth2 insists on one; a registering client's real id is installed before its first login.
      clientID: clientID || 'pending-registration',
      authorizationURL,
      tokenURL,
      clientSecret: options.clientSecret ?? '',
      scope,
      scopeSeparator: options.scopeSeparator ?? definition.scopeSeparator ?? ' ',
      sessionKey,
      state: stateOn,
      store,
      pkce: pkce as unknown as boolean,
      passReqToCallback,
      ...(definition.mcp?.connectionOnly ? { skipUserProfile: true } : {}),
    };
    super(passportOptions as StrategyOptions, adaptVerify(verify, passReqToCallback) as VerifyFunction);

    this.name = definition.name;
    // Not enumerable: console.log(strategy) must not print the client secret.
    Object.defineProperty(this, 'options', { value: Object.freeze({ ...options }), enumerable: false });
    this.timeout = timeout;
    this.userProfileURL = userProfileURL;
    this.apiBaseURL = apiBaseURL;
    this.provider = Object.freeze({ ...definition, authorizationURL, tokenURL, userProfileURL, apiBaseURL, revocationURL });

    const adapterSettings = { bodyEncoding: definition.bodyEncoding, timeout, parseError: definition.parseError, provider: definition.name, params: definition.tokenParams, agent: options.agent };
    this._adapterFor = (clientAuthentication) => createOAuth2Adapter({ ...adapterSettings, clientAuthentication });
    const fallback = { authorizationURL, tokenURL, clientID, clientSecret: options.clientSecret ?? '', clientAuthentication: definition.clientAuthentication };
    this.useClient(fallback);
    const mcp = definition.mcp && new McpConnection(this, {
      owner, setup: definition.mcp, fallback, explicit: { authorizationURL: options.authorizationURL, tokenURL: options.tokenURL },
      callbackURL, timeout, agent: options.agent, headers: options.customHeaders, allowInsecureHttp: options.allowInsecureHttp,
    });
    this._mcp = mcp?.active ? mcp : undefined;
    // An absolute callback URL (passport-oauth2's own test: a protocol) is fixed for every login; MCP
    // clients, whose endpoints change with discovery, keep passport-oauth2's legs.
    this._legSettings = !this._mcp && parseLegacyURL(callbackURL).protocol ? { callbackURL, pkce } : undefined;
    const internals = this as unknown as PassportOAuth2Internals;
    if (definition.refreshURL) internals._refreshURL = checkEndpointURL(owner, 'refreshURL', definition.refreshURL, options);
  }

  /**
   * Points the authorization redirect and token requests at a client and its endpoints (MCP discovery and
   * registration call this before a login; the same settings keep the same adapter).
   */
  useClient(config: McpClientConfig): void {
    const current = this.#client;
    if (current && CLIENT_FIELDS.every((field) => current[field] === config[field])) return;
    const Adapter = this._adapterFor(config.clientAuthentication);
    const adapter = new Adapter(config.clientID, config.clientSecret, '', config.authorizationURL, config.tokenURL, this.options.customHeaders);
    Object.defineProperty(adapter, '_clientSecret', { enumerable: false });
    // A private copy (the adapter holds the same secret, not enumerable): never printed or serialised.
    this.#client = { ...config };
    (this as unknown as PassportOAuth2Internals)._oauth2 = adapter;
  }

  /**
   * MCP discovery and registration now, so that the registered client is in place for a refresh in a
   * process that has served no login yet (a background worker). Resolves at once for other strategies.
   */
  async ready(): Promise<void> {
    await this._mcp?.prepare();
  }

  /**
   * Revokes a refresh token (default) or an access token at the provider (RFC 7009), as this strategy's
   * client. An MCP strategy with discovery uses the `revocation_endpoint` of the server's metadata.
   * Rejects with `OAUTH_REVOCATION_UNSUPPORTED` when the provider documents no revocation endpoint and
   * `revocationURL` is not set, and with the provider's typed error when it refuses.
   */
  async revoke(token: string, tokenTypeHint: 'refresh_token' | 'access_token' = 'refresh_token'): Promise<void> {
    if (typeof token !== 'string' || token === '') throw new TypeError(`${this.provider.packageName}: revoke() needs the token to revoke`);
    return revokeToken(this as unknown as LoginStrategy, token, tokenTypeHint);
  }

  /** The token client this strategy uses (same encoding, client auth, timeout and token URL). */
  get tokenClient(): TokenClient {
    return (this as unknown as PassportOAuth2Internals)._oauth2.tokenClient;
  }

  /** The token client for the refresh grant (the refresh URL when the provider has a separate one). */
  get refreshTokenClient(): TokenClient {
    const refreshURL = (this as unknown as PassportOAuth2Internals)._refreshURL;
    return refreshURL ? this.tokenClient.with({ tokenURL: refreshURL }) : this.tokenClient;
  }

  /** A valid `authenticate()` call starts a login or finishes one; a malformed callback is a 400 failure. */
  override authenticate(req: Request, options?: Record<string, unknown>): void {
    authenticateRequest(this as unknown as LoginStrategy, req, options);
  }

  /** Hook: the authorization endpoint for one request (a provider may pin an account in its path). */
  protected authorizationURLFor(_options: object): string {
    return this.provider.authorizationURL;
  }

  override authorizationParams(_options: object): object {
    return { ...this.provider.authorizationParams };
  }

  override tokenParams(_options: object): object {
    return { ...this.provider.tokenParams };
  }

  /** passport-oauth2's hook, kept for callers that use it; the token client uses the same parser. */
  override parseErrorResponse(body: string, status: number): Error | null {
    return tokenErrorFromBody(this as unknown as LoginStrategy, body, status);
  }

  /** passport-oauth2's hook: loads the profile, with the login's TokenSet at hand when there is one. */
  override userProfile(accessToken: string, done: Done): void {
    userProfile(this as unknown as LoginStrategy, accessToken, done);
  }

  /**
   * Builds the profile. The default: GET `userProfileURL` with the token as Bearer when set, else the
   * identity fields of the token response, else a PROFILE_UNAVAILABLE error. Providers override it.
   */
  protected async profile(accessToken: string, tokenSet: TokenSet | undefined): Promise<Profile> {
    return defaultProfile(this as unknown as LoginStrategy, accessToken, tokenSet);
  }

  /**
   * Hook: the profile of a login when its token response is enough on its own (no request to make);
   * undefined lets `profile()` decide. A provider that reads identities from its token responses
   * answers here, and calls it from its `profile()` too.
   */
  protected profileFromLogin(_tokenSet: TokenSet): Profile | undefined {
    return undefined;
  }

  /** Hook: the profile from an identity document fetched from `userProfileURL`. */
  protected parseProfile(json: Record<string, unknown>, raw: string): Profile | undefined {
    return profileFromUserInfo(this.name, json, raw);
  }

  /** Hook: the profile from a token response's identity fields (and the provider's own, `tokenIdentity`). */
  protected profileFromTokenSet(tokenSet: TokenSet): Profile | undefined {
    return profileFromTokenResponse(this.name, tokenSet.raw, { identity: this.provider.tokenIdentity });
  }

  /**
   * Whether an API answer means "this access token is no longer accepted": the provider's rule
   * (`isTokenRejected` of the definition), else HTTP 401. TokenRefresher hands it to TokenManager.fetch.
   */
  async isTokenRejected(response: Response): Promise<boolean> {
    const rule = this.provider.isTokenRejected;
    return rule ? (await rule(response)) === true : response.status === 401;
  }

  /** An identity request with the token in the Authorization header; typed errors for every failure. */
  protected async requestIdentity(url: string, accessToken: string, init: IdentityRequest = {}): Promise<{ json: Record<string, unknown>; text: string }> {
    return requestIdentity(this as unknown as LoginStrategy, url, accessToken, init);
  }

  /** A PROFILE_UNAVAILABLE error that says which option would give a profile. */
  protected profileUnavailable(reason: string): OAuthRequestError {
    return profileUnavailable(this as unknown as LoginStrategy, reason);
  }

  /** passport-oauth2's hook, run on the login's token response: picks up its TokenSet for userProfile(). */
  _loadUserProfile(accessToken: string, done: Done): void {
    loadUserProfile(this as unknown as LoginStrategy, accessToken, done);
  }

  /** Keeps our typed errors as they are instead of wrapping them in InternalOAuthError. */
  _createOAuthError(message: string, err: unknown): Error {
    return oauthError(this as unknown as LoginStrategy, message, err);
  }
}

function cookieStateOption(owner: string, state: unknown): CookieStateOptions | undefined {
  if (state === undefined || typeof state === 'boolean') return undefined;
  const cookie = state && typeof state === 'object' ? (state as { cookie?: unknown }).cookie : undefined;
  if (!cookie || typeof cookie !== 'object') throw optionError(owner, 'state', 'must be true, false or { cookie: { key } }');
  return cookie as CookieStateOptions;
}

function resolvePkce(owner: string, supported: boolean | 'required' | undefined, requested: unknown): 'S256' | 'plain' | false {
  if (requested === undefined) return supported ? 'S256' : false;
  if (requested === false) {
    if (supported === 'required') throw optionError(owner, 'pkce', 'cannot be turned off: this authorization server requires PKCE');
    return false;
  }
  if (requested === true || requested === 'S256') return 'S256';
  if (requested === 'plain') {
    if (supported === 'required') throw optionError(owner, 'pkce', "cannot be 'plain': this authorization server requires S256");
    return 'plain';
  }
  throw optionError(owner, 'pkce', "must be true, false, 'S256' or 'plain'");
}
