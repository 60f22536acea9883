import { parse as parseLegacyURL } from 'node:url';
import type { Request } from 'express';
// A named import: esbuild then requires passport-oauth2 as is, without copying its exports (a default
// import of a CommonJS module is wrapped in __toESM at every load of the bundle).
import { Strategy as OAuth2Strategy, type StateStore, type StrategyOptions, type VerifyFunction } from 'passport-oauth2';
import { formEncode } from './form';
import { ErrorBodyParser, ErrorCode, OAuthRequestError, OAuthTokenError, isOAuthError, parseRfc6749Error } from './errors';
import { readJsonObject, requestProvider } from './http';
import type { ProviderAgent } from './transport';
import { TokenClientOAuth2, createOAuth2Adapter } from './oauth2-adapter';
import { AuthenticateAttempt, CallbackAttempt, StateVerifier, answerErrorResponse, finishLogin, trackLoginOutcome } from './callback-leg';
import { StartAttempt, StartLegSettings, startLeg } from './start-leg';
import { McpClientConfig, McpConnection } from './mcp-connection';
import type { McpSetup } from './mcp';
import { DEFAULT_TIMEOUT_MS, InsecureHttpOption, checkEndpointURL, checkURL, normalizeScope, optionError, optionalString, requireString } from './options';
import { Profile, TokenIdentityHook, profileFromTokenResponse, profileFromUserInfo } from './profile';
import type { StateClaimStore } from './state-claims';
import { AppState, SessionStateStore } from './state-store';
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

type Done = (err?: unknown, profile?: Profile) => void;

/** The TokenSet of the login whose profile is being loaded, on passport's per-request object. */
const LOGIN_TOKEN_SET = Symbol('passport-martech.loginTokenSet');
type LoginScoped = { [LOGIN_TOKEN_SET]?: TokenSet };

/** What makes two client settings the same client (useClient). */
const CLIENT_FIELDS = ['authorizationURL', 'tokenURL', 'clientID', 'clientSecret', 'clientAuthentication'] as const;

/** passport-oauth2 internals this class relies on (stable since 1.4). */
interface PassportOAuth2Internals {
  _oauth2: TokenClientOAuth2;
  _scope?: string | string[];
  _callbackURL?: string;
  _refreshURL?: string;
  _loadUserProfile(accessToken: string, done: Done): void;
  _createOAuthError(message: string, err: unknown): Error;
  _stateStore: StateVerifier;
  redirect(url: string, status?: number): void;
  fail(challenge?: unknown, status?: number): void;
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
    await this.ready();
    const url = (this.options.revocationURL === undefined ? await this._mcp?.discoveredRevocationURL() : undefined) ?? this.provider.revocationURL;
    if (!url) {
      throw new OAuthRequestError({
        code: ErrorCode.REVOCATION_UNSUPPORTED,
        provider: this.name,
        message: `${this.provider.packageName}: the provider documents no token revocation endpoint (set revocationURL if it has one)`,
      });
    }
    await this.tokenClient.revoke(url, token, tokenTypeHint);
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
    const self = this as unknown as PassportOAuth2Internals;
    const query = (req.query ?? {}) as Record<string, unknown>;
    const body = (req.body ?? {}) as Record<string, unknown>;
    for (let i = 0; i < RESPONSE_PARAMS.length; i++) {
      const param = RESPONSE_PARAMS[i]!;
      if (!isAbsentOrString(query[param]) || !isAbsentOrString(body[param])) {
        return self.fail({ message: `Malformed authorization response: "${param}" must appear once.` }, 400);
      }
    }
    // A copy: the options object of passport.authenticate() is shared by every request of the route.
    const perRequest: Record<string, unknown> = options ? { ...options } : {};
    if (typeof perRequest.state === 'string') {
      // passport-oauth2 would send a string state as is and skip the store, so the callback could never
      // verify it (and PKCE would lose its verifier). It travels as app state instead: info.state on success.
      perRequest.state = new AppState(perRequest.state);
    }
    const callbackLeg = query.code !== undefined || query.error !== undefined || body.code !== undefined || body.error !== undefined;
    // MCP: discovery and registration first (then this method runs again), and the callback's `iss` check.
    // (The gate is built for MCP strategies only: every other login skips its objects and closure.)
    if (this._mcp) {
      const meta = { authorizationURL: this.provider.authorizationURL, tokenURL: this.provider.tokenURL, clientID: this.options.clientID };
      const gate = { callbackLeg, iss: query.iss ?? body.iss, state: query.state ?? body.state, store: self._stateStore, meta, rerun: () => this.authenticate(req, options) };
      if (this._mcp.intercept(req, self as unknown as AuthenticateAttempt, gate)) return;
    }
    if (callbackLeg) {
      // A duplicate of this callback may wait for its outcome: bounded by the token and profile requests.
      trackLoginOutcome(self as unknown as AuthenticateAttempt, req, 2 * this.timeout + 5_000);
      const error = query.error ?? body.error;
      if (typeof error === 'string') {
        return answerErrorResponse(self as unknown as AuthenticateAttempt, req, error, query.state ?? body.state, {
          provider: this.name,
          knownErrors: this.provider.authorizationErrors,
          store: self._stateStore,
          meta: { authorizationURL: this.provider.authorizationURL, tokenURL: this.provider.tokenURL, clientID: this.options.clientID },
        });
      }
    }
    if (perRequest.scope !== undefined) {
      perRequest.scope = normalizeScope(this.provider.packageName, perRequest.scope, this.provider.requiredScope);
    }
    let authorizationURL: string;
    try {
      authorizationURL = callbackLeg ? this.provider.authorizationURL : this.authorizationURLFor(perRequest);
    } catch (error) {
      // A bad per-request option (an account id a provider pins, say) is the caller's mistake: a 400, not a crash.
      return self.fail({ message: (error as Error).message }, 400);
    }
    if (authorizationURL !== this.provider.authorizationURL) {
      // passport-oauth2 builds the redirect from the constructor's URL; this request uses another base.
      const redirect = self.redirect;
      self.redirect = (location: string, status?: number) => {
        const target = new URL(authorizationURL);
        target.search = new URL(location).search;
        redirect.call(this, target.toString(), status);
      };
    }
    try {
      // Both legs are ours when the callback URL is fixed (start-leg.ts, callback-leg.ts); passport-oauth2's otherwise.
      const settings = this._legSettings;
      const own = callbackLeg
        ? settings !== undefined && finishLogin(self as unknown as CallbackAttempt, req, perRequest, query.code || body.code, query.state || body.state, settings.callbackURL)
        : settings !== undefined && authorizationURL === this.provider.authorizationURL && startLeg(self as unknown as StartAttempt, req, perRequest, settings);
      if (!own) super.authenticate(req, perRequest);
    } catch (error) {
      // Our own option checks (a per-request optionalScope, say) name the package: the caller's mistake.
      if (error instanceof TypeError && error.message.startsWith(`${this.provider.packageName}:`)) {
        return self.fail({ message: error.message }, 400);
      }
      throw error;
    }
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
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return null;
    }
    try {
      readJsonObject({ status, json, text: body, headers: new Headers() }, this._readOptions('Token request'));
    } catch (error) {
      if (error instanceof OAuthTokenError) return error;
    }
    return null;
  }

  /** passport-oauth2's hook: loads the profile, with the login's TokenSet at hand when there is one. */
  override userProfile(accessToken: string, done: Done): void {
    const held = (this as LoginScoped)[LOGIN_TOKEN_SET];
    const tokenSet = held !== undefined && held.accessToken === accessToken ? held : undefined;
    if (tokenSet) {
      // A profile the token response already holds needs no request, so no promise either.
      let immediate: Profile | undefined;
      try {
        immediate = this.profileFromLogin(tokenSet);
      } catch (error) {
        return done(error);
      }
      // Given at once, as passport-oauth2's own userProfile gives its answer.
      if (immediate) return done(null, immediate);
    }
    this.profile(accessToken, tokenSet).then(
      (profile) => process.nextTick(done, null, profile),
      (error: unknown) => process.nextTick(done, error),
    );
  }

  /**
   * Builds the profile. The default: GET `userProfileURL` with the token as Bearer when set, else the
   * identity fields of the token response, else a PROFILE_UNAVAILABLE error. Providers override it.
   */
  protected async profile(accessToken: string, tokenSet: TokenSet | undefined): Promise<Profile> {
    if (this.userProfileURL) {
      const { json, text } = await this.requestIdentity(this.userProfileURL, accessToken);
      const profile = this.parseProfile(json, text);
      if (profile) return profile;
      throw this.profileUnavailable(`the identity document at userProfileURL names no user (no id, user_id, sub, account_id or email)`);
    }
    const fromToken = tokenSet ? this.profileFromTokenSet(tokenSet) : undefined;
    if (fromToken) return fromToken;
    throw this.profileUnavailable(
      tokenSet
        ? 'the token response carries no identity field and the provider documents no identity endpoint'
        : 'there is no token response to read identity from (a profile outside a login needs userProfileURL)',
    );
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
  protected async requestIdentity(
    url: string,
    accessToken: string,
    init: { method?: 'GET' | 'POST'; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<{ json: Record<string, unknown>; text: string }> {
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
    const readOptions = this._readOptions('Profile request', [accessToken]);
    // passport-oauth2 sends customHeaders on every request to the provider, the profile request included.
    const allHeaders = { ...this.options.customHeaders, ...headers };
    const request = { url, method, headers: allHeaders, body, timeout: this.timeout, agent: this.tokenClient.agent, kind: 'profile', ...readOptions };
    return requestProvider(request, (response) => ({ json: readJsonObject(response, readOptions), text: response.text }));
  }

  protected profileUnavailable(reason: string): OAuthRequestError {
    return new OAuthRequestError({
      code: ErrorCode.PROFILE_UNAVAILABLE,
      provider: this.name,
      message: `${this.provider.packageName}: cannot build a profile: ${reason}. Set the userProfileURL option to an identity endpoint, or skipUserProfile: true${this.provider.mcp ? ' (or connectionOnly: true to link an MCP connection to a signed-in user)' : ''}.`,
    });
  }

  // Not an ES `#private` method: passport runs authenticate() on Object.create(strategy), and `#` members
  // do not exist on that per-request object (TypeError "Receiver must be an instance of class ...").
  private _readOptions(label: string, extraSecrets: (string | undefined)[] = []) {
    return {
      label,
      provider: this.name,
      parseError: this.provider.parseError ?? parseRfc6749Error,
      secrets: [this.options.clientSecret, ...extraSecrets],
    };
  }

  /**
   * passport-oauth2 hands only the access token to the profile step; the token response arrives just
   * before, in the same tick. It is picked up here so userProfile() can use it (identities read from
   * token responses). It is kept on `this`, which is the object passport makes for each authenticate()
   * call (Object.create(strategy)), so concurrent logins never share it; userProfile() uses it only for
   * the same access token. Not a process-wide Map by access token: measured under load (bench README,
   * figure 4), a long-lived Map that takes and drops an entry per login kept its entries reachable by
   * young-generation collections, which promoted each login's TokenSet to the old generation.
   */
  _loadUserProfile(accessToken: string, done: Done): void {
    const tokenSet = (this as unknown as PassportOAuth2Internals)._oauth2.tokenSetFor?.(accessToken);
    const scoped = this as LoginScoped;
    if (tokenSet) scoped[LOGIN_TOKEN_SET] = tokenSet;
    const parent = OAuth2Strategy.prototype as unknown as PassportOAuth2Internals;
    parent._loadUserProfile.call(this, accessToken, (err, profile) => {
      if (tokenSet && scoped[LOGIN_TOKEN_SET] === tokenSet) scoped[LOGIN_TOKEN_SET] = undefined;
      done(err, profile);
    });
  }

  /** Keeps our typed errors as they are instead of wrapping them in InternalOAuthError. */
  _createOAuthError(message: string, err: unknown): Error {
    // A registered client the server no longer knows: the next login registers a new one.
    if (this._mcp && isOAuthError(err) && err.code === 'invalid_client') this._mcp.clientRejected(this.tokenClient.clientID);
    if (isOAuthError(err)) return err;
    const parent = OAuth2Strategy.prototype as unknown as PassportOAuth2Internals;
    return parent._createOAuthError.call(this, message, err);
  }
}

/** Authorization response parameters that must appear at most once (a repeated one parses as an array). */
const RESPONSE_PARAMS = ['code', 'state', 'error', 'iss'] as const;

function isAbsentOrString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
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
