import {
  DEFAULT_TIMEOUT_MS,
  ErrorCode,
  OAuthRequestError,
  TokenSet,
  InsecureHttpOption,
  checkEndpointURL,
  expiresWithin,
  joinURL,
  optionError,
  readJsonObject,
  requireString,
  requestProvider,
  toTokenSet,
} from '@passport-martech/oauth2/provider-kit';
import type { ProviderAgent } from '@passport-martech/oauth2/provider-kit';
import { DAILY_QUOTA_ERROR_CODE, DAILY_QUOTA_REACHED, RATE_LIMITED, TOO_MANY_CONCURRENT, isTokenRejectionBody, parseMarketoError } from './errors';

const PACKAGE = '@passport-martech/marketo';

export interface MarketoClientCredentialsOptions extends InsecureHttpOption {
  /** e.g. `123-ABC-456`: identity `https://<id>.mktorest.com/identity`, REST `https://<id>.mktorest.com/rest` (DOC). */
  munchkinId?: string;
  /** The identity base instead of a Munchkin id (`/oauth/token` is appended). */
  identityURL?: string;
  /** The REST base; default from `munchkinId`, required with `identityURL`. */
  restURL?: string;
  /** Required; `undefined` is accepted by the type (`process.env.X`) and refused at construction, naming the option. */
  clientId: string | undefined;
  /** Required, as clientId. */
  clientSecret: string | undefined;
  /** Milliseconds per request; default 10 000. */
  timeout?: number;
  /**
   * The `http.Agent`/`https.Agent` for the identity (token) request: a proxy agent, say. Default: a
   * shared keep-alive agent. (`fetch()`'s REST calls go through Node's fetch, which takes no agent.)
   */
  agent?: ProviderAgent;
  /** A token is renewed this many seconds before it expires; default 60. */
  skewSeconds?: number;
  /**
   * How many times `fetch()` tries again after Marketo's 606 (too many calls in 20 s) or 615 (too
   * many concurrent requests); default 2. 0 hands the answer back at once.
   */
  rateLimitRetries?: number;
  /** The wait before the first of those tries, doubled for each next one; default 2 000 ms. */
  rateLimitDelayMs?: number;
}

/**
 * Marketo's documented server-to-server authentication (DOC): client credentials against the identity
 * service, the token cached until shortly before it expires, and REST calls with `Authorization: Bearer`.
 */
export class MarketoClientCredentials {
  readonly identityURL: string;
  readonly restURL: string;
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #timeout: number;
  readonly #agent: ProviderAgent | undefined;
  readonly #skewSeconds: number;
  readonly #rateLimitRetries: number;
  readonly #rateLimitDelayMs: number;
  #token: TokenSet | undefined;
  #pending: Promise<TokenSet> | undefined;
  /** Marketo returned the same token again near its end: use it until then (epoch ms). */
  #reuseUntil = 0;

  constructor(options: MarketoClientCredentialsOptions) {
    if (!options || typeof options !== 'object') throw new TypeError(`${PACKAGE}: options object is required`);
    this.#clientId = requireString(PACKAGE, options, 'clientId');
    this.#clientSecret = requireString(PACKAGE, options, 'clientSecret');
    if (options.munchkinId !== undefined && !/^[A-Za-z0-9-]+$/.test(options.munchkinId)) {
      throw optionError(PACKAGE, 'munchkinId', 'must look like 123-ABC-456');
    }
    const host = options.munchkinId ? `https://${options.munchkinId.toLowerCase()}.mktorest.com` : undefined;
    const identity = options.identityURL ?? (host && `${host}/identity`);
    if (!identity) throw optionError(PACKAGE, 'munchkinId', 'or "identityURL" is required');
    this.identityURL = checkEndpointURL(PACKAGE, 'identityURL', identity, options);
    const rest = options.restURL ?? (host && `${host}/rest`);
    if (!rest) throw optionError(PACKAGE, 'restURL', 'is required when identityURL is given without munchkinId');
    this.restURL = checkEndpointURL(PACKAGE, 'restURL', rest, options);
    this.#timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.#agent = options.agent;
    if (!(this.#timeout > 0)) throw optionError(PACKAGE, 'timeout', 'must be a positive number of milliseconds');
    this.#skewSeconds = options.skewSeconds ?? 60;
    if (!(this.#skewSeconds >= 0)) throw optionError(PACKAGE, 'skewSeconds', 'must be zero or more');
    this.#rateLimitRetries = options.rateLimitRetries ?? 2;
    if (!Number.isInteger(this.#rateLimitRetries) || this.#rateLimitRetries < 0) throw optionError(PACKAGE, 'rateLimitRetries', 'must be a whole number, zero or more');
    this.#rateLimitDelayMs = options.rateLimitDelayMs ?? 2000;
    if (!(this.#rateLimitDelayMs >= 0)) throw optionError(PACKAGE, 'rateLimitDelayMs', 'must be zero or more milliseconds');
  }

  /** A valid token: the cached one, or one new request shared by every caller waiting at that moment. */
  getToken(): Promise<TokenSet> {
    const token = this.#token;
    if (token && (!expiresWithin(token, this.#skewSeconds) || Date.now() < this.#reuseUntil - 1000)) return Promise.resolve(token);
    this.#pending ??= this.#requestToken().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets the cached token, so the next getToken() asks Marketo again. */
  invalidate(): void {
    this.#token = undefined;
    this.#reuseUntil = 0;
  }

  /**
   * Calls the REST API: `path` is relative to the REST base (`/v1/leads.json`). On Marketo's 601/602
   * answer (HTTP 200, DOC) the token is fetched again and the call retried once; on 606/615 (rate and
   * concurrency limits) the call is tried again `rateLimitRetries` times with a growing wait, then the
   * answer is handed back as it is; 607 (daily quota) throws MARKETO_DAILY_QUOTA_EXCEEDED. The body is
   * read once and handed back in a new Response.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    // The query string (filterType=..., fields=...) stays a query string, not part of the path.
    const queryAt = path.indexOf('?');
    const url = queryAt === -1 ? joinURL(this.restURL, path) : `${joinURL(this.restURL, path.slice(0, queryAt))}${path.slice(queryAt)}`;
    let response = await this.#call(url, init, await this.getToken());
    if (isTokenRejectionBody(response.json)) {
      this.invalidate();
      response = await this.#call(url, init, await this.getToken());
    }
    for (let retry = 0; retry < this.#rateLimitRetries && isRateLimited(response.json); retry++) {
      await new Promise((resolve) => setTimeout(resolve, this.#rateLimitDelayMs * 2 ** retry));
      response = await this.#call(url, init, await this.getToken());
    }
    if (marketoErrorCode(response.json) === DAILY_QUOTA_REACHED) {
      throw new OAuthRequestError({
        code: DAILY_QUOTA_ERROR_CODE,
        status: response.status,
        provider: 'marketo',
        message: "Marketo REST request refused: the subscription's daily API quota is used up (error 607); it resets daily",
      });
    }
    // The body was read already: hand back a fresh Response without the original framing headers.
    const headers = new Headers(response.headers);
    headers.delete('content-encoding');
    headers.delete('content-length');
    const nullBody = [101, 204, 205, 304].includes(response.status);
    return new Response(nullBody ? null : response.text, { status: response.status, headers });
  }

  async #call(url: string, init: RequestInit, token: TokenSet) {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token.accessToken}`);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { ...init, headers, redirect: 'manual', signal: init.signal ?? AbortSignal.timeout(this.#timeout) });
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError';
      throw new OAuthRequestError({
        code: timedOut ? ErrorCode.TIMEOUT : ErrorCode.NETWORK,
        provider: 'marketo',
        message: timedOut ? `Marketo REST request failed: no answer within ${this.#timeout} ms` : 'Marketo REST request failed: network error',
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  async #requestToken(): Promise<TokenSet> {
    // DOC: parameters go in the query string; Marketo accepts GET and POST.
    const url = new URL(joinURL(this.identityURL, '/oauth/token'));
    url.searchParams.set('grant_type', 'client_credentials');
    url.searchParams.set('client_id', this.#clientId);
    url.searchParams.set('client_secret', this.#clientSecret);
    const secrets = [this.#clientSecret];
    const label = 'Marketo client-credentials token request';
    const request = { url: url.toString(), method: 'GET' as const, timeout: this.#timeout, agent: this.#agent, secrets, label, provider: 'marketo', kind: 'token', grantType: 'client_credentials' };
    const { json, receivedAt } = await requestProvider(request, (response) => {
      const answer = { json: readJsonObject(response, { parseError: parseMarketoError, secrets, label, provider: 'marketo' }), receivedAt: Date.now() };
      if (typeof answer.json.access_token !== 'string' || answer.json.access_token === '') {
        throw new OAuthRequestError({ code: ErrorCode.NO_ACCESS_TOKEN, status: response.status, provider: 'marketo', message: `${label} failed: no access_token` });
      }
      return answer;
    });
    // DOC: expires_in is what is LEFT of the token's 3600 s, and asking again returns the same token. So
    // within the last `skewSeconds` Marketo hands back the token we hold: keep using it to its real end
    // instead of asking on every call.
    const fresh = toTokenSet(json, receivedAt);
    if (this.#token && fresh.accessToken === this.#token.accessToken && fresh.expiresAt !== undefined) {
      this.#reuseUntil = fresh.expiresAt;
    }
    this.#token = fresh;
    return fresh;
  }
}

function marketoErrorCode(json: unknown): string | undefined {
  return parseMarketoError(json, 200)?.code;
}

function isRateLimited(json: unknown): boolean {
  const code = marketoErrorCode(json);
  return code === RATE_LIMITED || code === TOO_MANY_CONCURRENT;
}
