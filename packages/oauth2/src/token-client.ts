import { ErrorBodyParser, ErrorCode, OAuthRequestError } from './errors';
import { formComponent, formEncode } from './form';
import { readJsonObject, requestProvider } from './http';
import { DEFAULT_TIMEOUT_MS } from './options';
import { TokenSet, toTokenSet } from './token-set';
import type { ProviderAgent } from './transport';

/** How the token request body is encoded. RFC 6749 says form; several guide-only providers want JSON. */
export type BodyEncoding = 'form' | 'json';

/** RFC 6749 2.3.1 client authentication, plus `none` for public clients that rely on PKCE. */
export type ClientAuthentication = 'client_secret_post' | 'client_secret_basic' | 'none';

export interface TokenClientOptions {
  tokenURL: string;
  clientID: string;
  clientSecret?: string;
  bodyEncoding?: BodyEncoding;
  clientAuthentication?: ClientAuthentication;
  /** Milliseconds for the whole request; default 10 000. */
  timeout?: number;
  /** Extra headers on every token request (passport-oauth2's `customHeaders`). */
  headers?: Record<string, string>;
  /** Reads the provider's error body; RFC 6749 5.2 when absent. */
  parseError?: ErrorBodyParser;
  /** Provider name for errors. */
  provider?: string;
  /** Parameters sent with every grant (an RFC 8707 `resource`, say); a request's own values win. */
  params?: Readonly<Record<string, string>>;
  /** An `http.Agent`/`https.Agent` (a proxy agent, say); default: a shared keep-alive agent. */
  agent?: ProviderAgent;
}

export type TokenRequestParams = Record<string, string | undefined>;

/** Token endpoint requests (node:http, keep-alive), in the provider's encoding and client authentication. */
export class TokenClient {
  readonly tokenURL: string;
  readonly clientID: string;
  readonly bodyEncoding: BodyEncoding;
  readonly clientAuthentication: ClientAuthentication;
  readonly timeout: number;
  readonly agent: ProviderAgent | undefined;
  readonly #clientSecret: string | undefined;
  readonly #headers: Record<string, string>;
  readonly #parseError: ErrorBodyParser | undefined;
  readonly #provider: string | undefined;
  readonly #params: Readonly<Record<string, string>>;

  constructor(options: TokenClientOptions) {
    this.tokenURL = options.tokenURL;
    this.clientID = options.clientID;
    this.bodyEncoding = options.bodyEncoding ?? 'form';
    this.clientAuthentication = options.clientAuthentication ?? 'client_secret_post';
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.agent = options.agent;
    this.#clientSecret = options.clientSecret;
    this.#headers = { ...options.headers };
    this.#parseError = options.parseError;
    this.#provider = options.provider;
    this.#params = { ...options.params };
  }

  /** A copy with some settings changed (another token URL for refresh, say). */
  with(changes: Partial<TokenClientOptions>): TokenClient {
    return new TokenClient({
      tokenURL: this.tokenURL,
      clientID: this.clientID,
      clientSecret: this.#clientSecret,
      bodyEncoding: this.bodyEncoding,
      clientAuthentication: this.clientAuthentication,
      timeout: this.timeout,
      headers: this.#headers,
      parseError: this.#parseError,
      provider: this.#provider,
      params: this.#params,
      agent: this.agent,
      ...changes,
    });
  }

  /** `authorization_code` grant (RFC 6749 4.1.3). */
  exchangeCode(code: string, params: { redirectURI?: string; codeVerifier?: string } & TokenRequestParams = {}): Promise<TokenSet> {
    const { redirectURI, codeVerifier, ...extra } = params;
    return this.requestToken({ ...extra, grant_type: 'authorization_code', code, redirect_uri: redirectURI, code_verifier: codeVerifier });
  }

  /** `refresh_token` grant (RFC 6749 6). Never mutates `params`. */
  refresh(refreshToken: string, params: TokenRequestParams = {}): Promise<TokenSet> {
    return this.requestToken({ ...params, grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  /** Any grant: `params` go in the body as given (undefined values dropped) plus client authentication. */
  requestToken(params: TokenRequestParams): Promise<TokenSet> {
    try {
      return this.#requestToken(params);
    } catch (error) {
      // Not an async method (one promise less per token request), but it still never throws.
      return Promise.reject(error);
    }
  }

  #requestToken(params: TokenRequestParams): Promise<TokenSet> {
    const body: Record<string, string> = {};
    // As { ...this.#params, ...params } without the copy: the request's values win, undefined ones drop.
    for (const key of Object.keys(this.#params)) {
      const value = Object.hasOwn(params, key) ? params[key] : this.#params[key];
      if (value !== undefined) body[key] = value;
    }
    for (const key of Object.keys(params)) {
      const value = params[key];
      if (value !== undefined && !Object.hasOwn(this.#params, key)) body[key] = value;
    }
    const { headers, basicCredential } = this.#authenticate(body);
    headers['Content-Type'] = this.bodyEncoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
    const encoded = this.bodyEncoding === 'json' ? JSON.stringify(body) : formEncode(body);
    const secrets = [this.#clientSecret, basicCredential, body.code, body.refresh_token, body.code_verifier, body.assertion];

    const read = { parseError: this.#parseError, secrets, label: 'Token request', provider: this.#provider };
    const request = { url: this.tokenURL, method: 'POST' as const, headers, body: encoded, timeout: this.timeout, agent: this.agent, kind: 'token', grantType: body.grant_type, ...read };
    return requestProvider(request, (response) => {
      const receivedAt = Date.now();
      const json = readJsonObject(response, read);
      if (typeof json.access_token !== 'string' || json.access_token === '') {
        throw new OAuthRequestError({
          code: ErrorCode.NO_ACCESS_TOKEN,
          status: response.status,
          provider: this.#provider,
          // A 2xx token answer may hold tokens under names we do not know: name its keys, never its values.
          message: `Token request failed: HTTP ${response.status} without access_token (keys: ${Object.keys(json).slice(0, 12).join(', ') || 'none'})`,
        });
      }
      return toTokenSet(json, receivedAt);
    });
  }

  /**
   * RFC 7009 token revocation at `revocationURL`, authenticated as this client: `token_type_hint`
   * `refresh_token` (default) or `access_token`. Any 2xx is success — RFC 7009 2.2 answers 200 for a
   * token that was already invalid too. Anything else is the typed error of a token request
   * (`unsupported_token_type`, `invalid_client`, `OAUTH_HTTP_ERROR`, ...).
   */
  async revoke(revocationURL: string, token: string, tokenTypeHint: 'refresh_token' | 'access_token' = 'refresh_token'): Promise<void> {
    const body: Record<string, string> = { token, token_type_hint: tokenTypeHint };
    const { headers, basicCredential } = this.#authenticate(body);
    // RFC 7009 2.1: always a form body, whatever the provider's token request encoding.
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    const read = { parseError: this.#parseError, secrets: [this.#clientSecret, basicCredential, token], label: 'Revocation request', provider: this.#provider };
    const request = { url: revocationURL, method: 'POST' as const, headers, body: formEncode(body), timeout: this.timeout, agent: this.agent, kind: 'revocation', ...read };
    await requestProvider(request, (response) => {
      if (response.status < 200 || response.status >= 300) readJsonObject(response, read);
    });
  }

  /** Adds this client's authentication (RFC 6749 2.3.1) to a request body; the headers to send it with. */
  #authenticate(body: Record<string, string>): { headers: Record<string, string>; basicCredential?: string } {
    const headers: Record<string, string> = { ...this.#headers };
    switch (this.clientAuthentication) {
      case 'client_secret_basic':
        headers.Authorization = basicAuthorization(this.clientID, this.#clientSecret ?? '');
        // A provider that echoes the header would otherwise leak the secret in base64.
        return { headers, basicCredential: headers.Authorization.slice('Basic '.length) };
      case 'client_secret_post':
        body.client_id = this.clientID;
        if (this.#clientSecret !== undefined) body.client_secret = this.#clientSecret;
        return { headers };
      case 'none':
        body.client_id = this.clientID;
        return { headers };
    }
  }
}

/** RFC 6749 2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
export function basicAuthorization(clientID: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formComponent(clientID)}:${formComponent(clientSecret)}`).toString('base64')}`;
}
