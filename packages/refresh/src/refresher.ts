import {
  DEFAULT_TIMEOUT_MS,
  ErrorCode,
  OAuthRequestError,
  TokenClient,
  TokenSet,
  isOAuthError,
  isRecord,
  readJsonObject,
  redactJson,
  safeCause,
  scrub,
  toTokenSet,
} from '@passport-martech/oauth2/provider-kit';
import { StrategyNotRegisteredError } from './errors';
import type { TokenRejectedCheck } from './manager-options';

/** Extra body parameters of a refresh request (`scope`, ...). Arrays are joined with spaces. */
export type RefreshParams = Record<string, unknown>;

/** passport-oauth2-refresh's callback: `(err, accessToken, refreshToken, results)`. */
export type RequestNewAccessTokenCallback = (
  err: Error | null,
  accessToken?: string,
  refreshToken?: string,
  results?: Record<string, unknown>,
) => void;

/** node-oauth's OAuth2 as far as a refresh needs it (its constructor arguments are read from it). */
export interface NodeOAuth2Like {
  getOAuthAccessToken(
    code: string,
    params: Record<string, unknown>,
    callback: (err: unknown, accessToken?: string, refreshToken?: string, results?: Record<string, unknown>) => void,
  ): void;
}

/**
 * What `use()` accepts: any passport strategy object. Ours (`ProviderStrategy`) refresh through their
 * `refreshTokenClient`; any other needs passport-oauth2's `_oauth2` (node-oauth), optionally
 * `_refreshURL`, or the `setRefreshOAuth2` option.
 */
export interface RefreshableStrategy {
  name?: string;
}

interface StrategyInternals {
  name?: string;
  readonly refreshTokenClient?: unknown;
  /** The provider's "token rejected" rule (ProviderStrategy.isTokenRejected). */
  isTokenRejected?: (response: Response) => boolean | Promise<boolean>;
  /** RFC 7009 revocation (ProviderStrategy.revoke). */
  revoke?: Revoke;
  _oauth2?: unknown;
  _refreshURL?: string;
}

/** passport-oauth2-refresh's third `use()` argument. */
export interface UseOptions {
  /** Returns the node-oauth OAuth2 object to refresh with (passport-oauth2-refresh's hook, kept). */
  setRefreshOAuth2?: (adapters: { strategyOAuth2: unknown; refreshOAuth2: NodeOAuth2Like | undefined }) => NodeOAuth2Like;
}

export interface TokenRefresherOptions {
  /**
   * Milliseconds to wait for a refresh through a strategy that is not ours (node-oauth has no timeout
   * of its own); default 10 000. Our strategies use their own `timeout` option.
   */
  timeout?: number;
}

type Registration = (
  | { kind: 'client'; name: string; client: TokenClient }
  | { kind: 'oauth2'; name: string; oauth2: NodeOAuth2Like; clientSecret?: string }
) & { rejected?: TokenRejectedCheck; revoke?: Revoke };

type Revoke = (token: string, tokenTypeHint: 'refresh_token' | 'access_token') => Promise<void>;

interface RefreshOutcome {
  tokenSet: TokenSet;
  /** The callback's `results` (passport-oauth2-refresh's 4th argument). */
  results: Record<string, unknown>;
}

interface NodeOAuth2Internals {
  constructor: new (...args: unknown[]) => NodeOAuth2Like;
  getOAuthAccessToken: NodeOAuth2Like['getOAuthAccessToken'];
  _clientId: string;
  _clientSecret: string;
  _baseSite: string;
  _authorizeUrl: string;
  _accessTokenUrl: string;
  _customHeaders?: Record<string, string>;
}

/**
 * Refreshes access tokens through registered passport strategies. A drop-in for
 * passport-oauth2-refresh (`use`, `has`, `requestNewAccessToken`), plus `refresh()` that resolves a
 * TokenSet and rejects with typed errors, for our strategies and any other passport-oauth2 strategy.
 */
export class TokenRefresher {
  readonly #registrations = new Map<string, Registration>();
  readonly #timeout: number;

  constructor(options: TokenRefresherOptions = {}) {
    const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw new TypeError('@passport-martech/refresh: timeout must be a positive number of milliseconds');
    }
    this.#timeout = timeout;
  }

  /**
   * Registers a strategy under `strategy.name`, or under `name`. Our strategies refresh through their
   * own token client (encoding, client authentication, timeout, refresh URL); any other strategy
   * through a clone of its node-oauth `_oauth2`, made exactly as passport-oauth2-refresh makes it.
   */
  use(strategy: RefreshableStrategy, options?: UseOptions): this;
  use(name: string, strategy: RefreshableStrategy, options?: UseOptions): this;
  use(nameOrStrategy: string | RefreshableStrategy, strategyOrOptions?: RefreshableStrategy | UseOptions, maybeOptions?: UseOptions): this {
    let name: string | undefined;
    let strategy: StrategyInternals | undefined;
    let options: UseOptions;
    if (typeof nameOrStrategy === 'string') {
      name = nameOrStrategy;
      strategy = strategyOrOptions as StrategyInternals | undefined;
      options = maybeOptions ?? {};
    } else {
      strategy = nameOrStrategy as StrategyInternals;
      name = strategy?.name;
      options = (strategyOrOptions as UseOptions | undefined) ?? {};
    }
    if (strategy == null) throw new Error('Cannot register: strategy is null');
    if (!name) throw new Error('Cannot register: name must be specified, or strategy must include name');

    // Looked up on each call: the strategy's method as it is then (an app may wrap it after use()).
    const rejected: TokenRejectedCheck | undefined =
      typeof strategy.isTokenRejected === 'function' ? (response) => (strategy as Required<Pick<StrategyInternals, 'isTokenRejected'>>).isTokenRejected(response) : undefined;
    const revoke: Revoke | undefined =
      typeof strategy.revoke === 'function' ? (token, hint) => (strategy as Required<Pick<StrategyInternals, 'revoke'>>).revoke(token, hint) : undefined;
    const client = options.setRefreshOAuth2 ? undefined : ownRefreshClient(strategy);
    if (client) {
      this.#registrations.set(name, { kind: 'client', name, client, rejected, revoke });
      return this;
    }

    let refreshOAuth2: NodeOAuth2Like | undefined;
    const internals = strategy._oauth2 as NodeOAuth2Internals | undefined;
    if (internals && typeof internals.getOAuthAccessToken === 'function') {
      // Exactly passport-oauth2-refresh 2.2: the strategy's own OAuth2 class (it may be a subclass), its
      // _refreshURL when it has one, and its getOAuthAccessToken (some strategies override it).
      const OAuth2 = internals.constructor;
      refreshOAuth2 = new OAuth2(
        internals._clientId,
        internals._clientSecret,
        internals._baseSite,
        internals._authorizeUrl,
        strategy._refreshURL || internals._accessTokenUrl,
        internals._customHeaders,
      );
      refreshOAuth2.getOAuthAccessToken = internals.getOAuthAccessToken;
    }
    if (typeof options.setRefreshOAuth2 === 'function') {
      refreshOAuth2 = options.setRefreshOAuth2({ strategyOAuth2: strategy._oauth2, refreshOAuth2 });
    }
    if (!refreshOAuth2) {
      throw new Error(
        'The OAuth2 adapter used to refresh the token is not configured correctly. Use the setRefreshOAuth2 option to return a OAuth 2.0 adapter.',
      );
    }
    this.#registrations.set(name, { kind: 'oauth2', name, oauth2: refreshOAuth2, clientSecret: internals?._clientSecret, rejected, revoke });
    return this;
  }

  /** True when a strategy is registered under `name`. */
  has(name: string): boolean {
    return this.#registrations.has(name);
  }

  /**
   * The "token rejected" rule the strategy registered under `name` supplies (`isTokenRejected(response)`,
   * e.g. an error code inside an HTTP 200 body); undefined when it has none (then: HTTP 401).
   */
  rejectionCheck(name: string): TokenRejectedCheck | undefined {
    return this.#registrations.get(name)?.rejected;
  }

  /**
   * Revokes a refresh token (default) or an access token at the provider, through the strategy registered
   * as `name` (`strategy.revoke`, RFC 7009). Rejects with `OAUTH_REVOCATION_UNSUPPORTED` when that
   * strategy has no revocation (a strategy that is not ours, or a provider that documents none), with
   * the provider's typed error when it refuses, and StrategyNotRegisteredError for an unknown name.
   */
  async revoke(name: string, token: string, tokenTypeHint: 'refresh_token' | 'access_token' = 'refresh_token'): Promise<void> {
    const registration = this.#registrations.get(name);
    if (!registration) throw new StrategyNotRegisteredError(name);
    if (!registration.revoke) {
      throw new OAuthRequestError({ code: ErrorCode.REVOCATION_UNSUPPORTED, provider: name, message: `The strategy registered as "${name}" cannot revoke tokens` });
    }
    await registration.revoke(token, tokenTypeHint);
  }

  /**
   * The longest one refresh through `name` can take, in milliseconds: our strategy's `timeout`, or this
   * refresher's for other strategies; undefined for an unknown name. TokenManager derives its default
   * `lockWaitMs` from it.
   */
  timeoutFor(name: string): number | undefined {
    const registration = this.#registrations.get(name);
    if (!registration) return undefined;
    if (registration.kind === 'oauth2') return this.#timeout;
    const timeout = (registration.client as { timeout?: unknown }).timeout;
    return typeof timeout === 'number' && timeout > 0 ? timeout : this.#timeout;
  }

  /**
   * One `refresh_token` grant through the strategy registered as `name`. Resolves the new TokenSet
   * (`expiresAt` stamped on receipt; `refreshToken` only when the provider sent one). Rejects with the
   * oauth2 package's typed errors — `OAuthTokenError` (`code` `invalid_grant`, ...) or
   * `OAuthRequestError` (`OAUTH_NETWORK`, `OAUTH_TIMEOUT`, `OAUTH_HTTP_ERROR`, ...) — for every strategy,
   * ours or not. `params` is never modified.
   */
  async refresh(name: string, refreshToken: string, params?: RefreshParams): Promise<TokenSet> {
    return (await this.#request(name, refreshToken, params)).tokenSet;
  }

  /**
   * passport-oauth2-refresh's exact contract:
   * `requestNewAccessToken(name, refreshToken, [params], (err, accessToken, refreshToken, results) => {})`.
   * `refreshToken` in the callback is the new one when the provider rotated it, else undefined (as
   * there). `results` is the token response without `refresh_token`, as there; for our strategies it
   * also has `results.tokenSet`, not enumerable, so that logging `results` does not print the refresh
   * token. The callback is called outside any promise chain, so a callback that throws is an uncaught
   * exception, as with passport-oauth2-refresh, not an unhandled rejection.
   */
  requestNewAccessToken(name: string, refreshToken: string, done: RequestNewAccessTokenCallback): void;
  requestNewAccessToken(name: string, refreshToken: string, params: RefreshParams | undefined, done: RequestNewAccessTokenCallback): void;
  requestNewAccessToken(
    name: string,
    refreshToken: string,
    paramsOrDone: RefreshParams | RequestNewAccessTokenCallback | undefined,
    maybeDone?: RequestNewAccessTokenCallback,
  ): void {
    const done = (typeof paramsOrDone === 'function' ? paramsOrDone : maybeDone) as RequestNewAccessTokenCallback;
    if (typeof done !== 'function') throw new TypeError('requestNewAccessToken: a callback is required');
    const params = typeof paramsOrDone === 'function' ? undefined : paramsOrDone;
    this.#request(name, refreshToken, params).then(
      ({ tokenSet, results }) => process.nextTick(done, null, tokenSet.accessToken, tokenSet.refreshToken, results),
      (error: Error) => process.nextTick(done, error),
    );
  }

  async #request(name: string, refreshToken: string, params: RefreshParams = {}): Promise<RefreshOutcome> {
    const registration = this.#registrations.get(name);
    if (!registration) throw new StrategyNotRegisteredError(name);
    if (typeof refreshToken !== 'string' || refreshToken === '') throw new TypeError('refreshToken must be a non-empty string');
    if (registration.kind === 'client') {
      const tokenSet = await registration.client.refresh(refreshToken, stringParams(params));
      return { tokenSet, results: compatResults(tokenSet.raw, tokenSet) };
    }
    return this.#requestThroughOAuth2(registration, refreshToken, params);
  }

  #requestThroughOAuth2(
    registration: Extract<Registration, { kind: 'oauth2' }>,
    refreshToken: string,
    params: RefreshParams,
  ): Promise<RefreshOutcome> {
    const secrets = [refreshToken, registration.clientSecret];
    return new Promise<RefreshOutcome>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(
          new OAuthRequestError({
            code: ErrorCode.TIMEOUT,
            provider: registration.name,
            message: `Token request failed: no answer within ${this.#timeout} ms`,
          }),
        );
      }, this.#timeout);
      // node-oauth writes client_id, client_secret and the token into the object it is given: a copy.
      const body: Record<string, unknown> = { ...params, grant_type: 'refresh_token' };
      try {
        registration.oauth2.getOAuthAccessToken(refreshToken, body, (err, accessToken, newRefreshToken, results) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const receivedAt = Date.now();
          if (err) return reject(fromNodeOAuthError(err, registration.name, secrets));
          try {
            resolve(toOutcome(accessToken, newRefreshToken, results, receivedAt, registration.name));
          } catch (error) {
            reject(error);
          }
        });
      } catch (error) {
        settled = true;
        clearTimeout(timer);
        reject(fromNodeOAuthError(error, registration.name, secrets));
      }
    });
  }
}

/** passport-oauth2-refresh exports the class under this name. */
export { TokenRefresher as AuthTokenRefresh };

function ownRefreshClient(strategy: StrategyInternals): TokenClient | undefined {
  let client: unknown;
  try {
    client = strategy.refreshTokenClient;
  } catch {
    return undefined;
  }
  return client instanceof TokenClient || (isRecord(client) && typeof client.refresh === 'function') ? (client as TokenClient) : undefined;
}

function stringParams(params: RefreshParams): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    out[key] = Array.isArray(value) ? value.join(' ') : String(value);
  }
  return out;
}

function toOutcome(
  accessToken: string | undefined,
  refreshToken: string | undefined,
  results: Record<string, unknown> | undefined,
  receivedAt: number,
  provider: string,
): RefreshOutcome {
  const fromResults = isRecord(results) ? results : {};
  // A clone of our own adapter hands over its TokenSet: keep it (expiry stamped at its receipt).
  const carried = fromResults.tokenSet as TokenSet | undefined;
  if (isRecord(carried) && typeof carried.accessToken === 'string' && carried.accessToken === accessToken) {
    return { tokenSet: carried, results: compatResults(fromResults, carried) };
  }
  if (typeof accessToken !== 'string' || accessToken === '') {
    throw new OAuthRequestError({
      code: ErrorCode.NO_ACCESS_TOKEN,
      provider,
      message: 'Token request failed: the answer carries no access_token',
    });
  }
  const raw: Record<string, unknown> = { ...fromResults, access_token: accessToken };
  if (typeof refreshToken === 'string' && refreshToken !== '') raw.refresh_token = refreshToken;
  return { tokenSet: toTokenSet(raw, receivedAt), results: fromResults };
}

/**
 * passport-oauth2-refresh's `results`: the token response without `refresh_token` (node-oauth removes
 * it). Our TokenSet rides along as `results.tokenSet`, not enumerable: its `refreshToken` and
 * `raw.refresh_token` would otherwise put the refresh token back into whatever logs `results`.
 */
function compatResults(response: Record<string, unknown>, tokenSet: TokenSet): Record<string, unknown> {
  const { refresh_token: _omitted, tokenSet: _carried, ...results } = response;
  Object.defineProperty(results, 'tokenSet', { value: tokenSet, enumerable: false, writable: true, configurable: true });
  return results;
}

/**
 * node-oauth's failures as the oauth2 package's typed errors: `{ statusCode, data }` goes through the
 * same reader as our own token client (RFC 6749 `error` -> OAuthTokenError with that code), a socket
 * error becomes OAUTH_NETWORK. `statusCode` and a redacted `data` are kept for code written against
 * passport-oauth2-refresh's raw errors.
 */
export function fromNodeOAuthError(error: unknown, provider: string, secrets: readonly (string | undefined)[] = []): Error {
  if (isOAuthError(error)) return error;
  if (isRecord(error) && typeof error.statusCode === 'number') {
    const status = error.statusCode;
    const text = typeof error.data === 'string' ? error.data : Buffer.isBuffer(error.data) ? error.data.toString('utf8') : '';
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    let typed: Error;
    try {
      readJsonObject({ status, json, text, headers: new Headers() }, { secrets, label: 'Token request', provider });
      typed = new OAuthRequestError({ code: ErrorCode.HTTP_ERROR, status, provider, message: `Token request failed: HTTP ${status}` });
    } catch (readError) {
      typed = readError as Error;
    }
    const data = json === undefined ? scrub(text.slice(0, 160), secrets) : scrub(JSON.stringify(redactJson(json)), secrets);
    Object.defineProperty(typed, 'statusCode', { value: status, enumerable: false, configurable: true });
    Object.defineProperty(typed, 'data', { value: data, enumerable: false, configurable: true });
    return typed;
  }
  const code = isRecord(error) && typeof error.code === 'string' ? error.code : undefined;
  const cause = safeCause(error, secrets);
  const message = cause?.message ?? 'unknown error';
  return new OAuthRequestError({
    code: code === 'ETIMEDOUT' ? ErrorCode.TIMEOUT : ErrorCode.NETWORK,
    provider,
    message: `Token request failed: network error (${message})`,
    cause,
  });
}

