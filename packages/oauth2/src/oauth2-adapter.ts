import { OAuth2 } from 'oauth';
import { TokenClient, TokenClientOptions, TokenRequestParams } from './token-client';
import { TokenSet } from './token-set';

import type { oauth2tokenCallback as AccessTokenCallback } from 'oauth';

/** The settings of a token client that node-oauth's constructor arguments do not carry. */
export type AdapterSettings = Omit<TokenClientOptions, 'tokenURL' | 'clientID' | 'clientSecret' | 'headers'>;

/**
 * node-oauth's `OAuth2`, answering `getOAuthAccessToken` with a TokenClient.
 *
 * passport-oauth2 calls `_oauth2.getOAuthAccessToken(code, params, cb)` in its callback leg, and
 * passport-oauth2-refresh clones `_oauth2` with `new strategy._oauth2.constructor(clientId, secret,
 * baseSite, authorizeUrl, tokenUrl, customHeaders)` and then copies `getOAuthAccessToken` onto the
 * clone. The provider's settings (encoding, client authentication, timeout, error parser) are not in
 * those six arguments, so each strategy gets its own class that closes over them: a clone made by its
 * constructor speaks the provider's dialect too.
 */
export interface TokenClientOAuth2 extends OAuth2 {
  readonly tokenClient: TokenClient;
  /** The TokenSet of a token response being handed to passport right now (see ProviderStrategy). */
  tokenSetFor(accessToken: string): TokenSet | undefined;
}

export type TokenClientOAuth2Class = new (
  clientId: string,
  clientSecret: string,
  baseSite: string,
  authorizePath: string,
  accessTokenPath: string,
  customHeaders?: Record<string, string>,
) => TokenClientOAuth2;

export function createOAuth2Adapter(settings: AdapterSettings): TokenClientOAuth2Class {
  return class ProviderOAuth2 extends OAuth2 implements TokenClientOAuth2 {
    // Built on first use: a strategy is constructed at startup, and the token client's modules (a lazy
    // chunk of the published bundle, scripts/bundle.js) are then loaded by the first login, not by startup.
    #tokenClient: TokenClient | undefined;
    readonly #tokenClientOptions: TokenClientOptions;
    /**
     * The TokenSet being handed to passport right now. A field, not a Map by access token: a delivery is
     * synchronous (one at a time), and a long-lived Map that takes and drops an entry per login was
     * measured to keep its entries reachable by young-generation collections (bench README, figure 4),
     * which promoted each login's TokenSet to the old generation.
     */
    #delivering: TokenSet | undefined;

    constructor(
      clientId: string,
      clientSecret: string,
      baseSite: string,
      authorizePath: string,
      accessTokenPath: string,
      customHeaders?: Record<string, string>,
    ) {
      super(clientId, clientSecret, baseSite, authorizePath, accessTokenPath, customHeaders);
      this.#tokenClientOptions = {
        ...settings,
        tokenURL: `${baseSite ?? ''}${accessTokenPath}`,
        clientID: clientId,
        clientSecret,
        headers: customHeaders && { ...customHeaders },
      };
      // Anyone calling node-oauth's own get() sends the token in a header, never in the query string.
      this.useAuthorizationHeaderforGET(true);
    }

    get tokenClient(): TokenClient {
      return (this.#tokenClient ??= new TokenClient(this.#tokenClientOptions));
    }

    /**
     * node-oauth's way to route requests through an agent (a proxy, say), as passport-oauth2 users do
     * with `strategy._oauth2.setAgent(agent)`: token, refresh and profile requests use it from now on.
     */
    override setAgent(agent: Parameters<OAuth2['setAgent']>[0]): void {
      super.setAgent(agent);
      this.#tokenClient = this.tokenClient.with({ agent: agent as TokenClientOptions['agent'] });
    }

    tokenSetFor(accessToken: string): TokenSet | undefined {
      const delivering = this.#delivering;
      return delivering !== undefined && delivering.accessToken === accessToken ? delivering : undefined;
    }

    override getOAuthAccessToken(code: string, paramsOrCallback: TokenRequestParams | AccessTokenCallback, maybeCallback?: AccessTokenCallback): void {
      const params = typeof paramsOrCallback === 'function' ? {} : (paramsOrCallback ?? {});
      const callback = (typeof paramsOrCallback === 'function' ? paramsOrCallback : maybeCallback) as AccessTokenCallback;
      // node-oauth's contract: the first argument is the code, or the refresh token for a refresh; other
      // grants (client_credentials, ...) carry everything in params.
      const grantType = params.grant_type ?? 'authorization_code';
      const codeParam = grantType === 'refresh_token' ? 'refresh_token' : grantType === 'authorization_code' ? 'code' : undefined;
      const request: TokenRequestParams = { ...params, grant_type: grantType };
      if (codeParam) {
        if (typeof code !== 'string' || code === '') {
          process.nextTick(callback, new TypeError(`${codeParam} must be a non-empty string`));
          return;
        }
        request[codeParam] = code;
      }
      this.tokenClient.requestToken(request).then(
        (tokenSet) =>
          process.nextTick(() => {
            // Like node-oauth, `params` lacks refresh_token (it is the second argument); tokenSet.raw keeps it.
            const results: Record<string, unknown> = {};
            for (const key in tokenSet.raw) if (key !== 'refresh_token') results[key] = tokenSet.raw[key];
            results.tokenSet = tokenSet;
            const outer = this.#delivering;
            this.#delivering = tokenSet;
            try {
              callback(null as unknown as Error, tokenSet.accessToken, tokenSet.refreshToken, results);
            } finally {
              this.#delivering = outer;
            }
          }),
        (error: Error) => process.nextTick(callback, error),
      );
    }
  };
}
