import {
  ProviderDefinition,
  ProviderStrategyOptions,
  TokenSet,
  checkOneOf,
  joinURL,
  normalizeScope,
  optionError,
  providerStrategy,
} from '@passport-martech/oauth2/provider-kit';
import { parseHubSpotError } from './errors';
import { HubSpotProfile, parseHubSpotProfile } from './profile';

const PACKAGE = '@passport-martech/hubspot';

/** Authorization endpoints per region. `na1` DOC; `eu1` (app-eu1.hubspot.com) CODE: seen in real EU integrations. */
export const AUTHORIZATION_URLS = {
  na1: 'https://app.hubspot.com/oauth/authorize',
  eu1: 'https://app-eu1.hubspot.com/oauth/authorize',
} as const;

/** Token, identity and API calls stay on this host whatever the region (DOC). */
export const API_BASE_URL = 'https://api.hubapi.com';

/**
 * Token endpoints under API_BASE_URL per API version, all DOC. `v1` is deprecated and switched off on
 * 2027-02-16; it is what the 2024 guides and every older npm strategy use. `2026-03` is HubSpot's
 * date-versioned path.
 */
export const TOKEN_PATHS = {
  '2026-03': '/oauth/2026-03/token',
  v3: '/oauth/v3/token',
  v1: '/oauth/v1/token',
} as const;

/**
 * Identity endpoints under API_BASE_URL per API version (DOC): introspection (POST, form, client
 * credentials + token) for `v3` and `2026-03`; for `v1` the `access-tokens` base, to which the token is
 * appended as a path segment.
 */
export const IDENTITY_PATHS = {
  '2026-03': '/oauth/2026-03/token/introspect',
  v3: '/oauth/v3/token/introspect',
  v1: '/oauth/v1/access-tokens',
} as const;

/**
 * RFC 7009-style revocation under API_BASE_URL (DOC: "Revoke an OAuth token", form body with
 * `client_id`, `client_secret`, `token`, `token_type_hint`). Only the date-versioned API documents it:
 * v1 has a different call (`DELETE /oauth/v1/refresh-tokens/:token`, which `revoke()`'s RFC 7009 POST
 * cannot make) and v3 none, so on those versions `revoke()` answers OAUTH_REVOCATION_UNSUPPORTED unless
 * `revocationURL` names an RFC 7009 endpoint (see docs/providers.md).
 */
export const REVOCATION_PATHS: Partial<Record<keyof typeof TOKEN_PATHS, string>> = {
  '2026-03': '/oauth/2026-03/token/revoke',
};

/** The API version used when `apiVersion` is not given. */
export const DEFAULT_API_VERSION = '2026-03';
/** DOC: HubSpot requires the `oauth` scope on every authorization; it is always added. */
export const DEFAULT_SCOPE = 'oauth';

export type HubSpotApiVersion = keyof typeof TOKEN_PATHS;
export type HubSpotRegion = keyof typeof AUTHORIZATION_URLS;

export interface HubSpotStrategyOptions extends ProviderStrategyOptions {
  /** Default `['oauth']`; `oauth` is always included (DOC: HubSpot requires it). */
  scope?: string | string[];
  /** Scopes the user may decline (`optional_scope`, DOC). */
  optionalScope?: string | string[];
  /**
   * `eu1` sends the user to app-eu1.hubspot.com (CODE). Default `na1`. Any string is accepted by the type
   * (`process.env.HUBSPOT_REGION || 'na1'` compiles); another value is a TypeError naming `region`.
   */
  region?: HubSpotRegion | (string & {});
  /** Pins the authorization to one HubSpot account: `/oauth/{accountId}/authorize` (DOC). */
  accountId?: string | number;
  /** Token path and identity call. Default `'2026-03'` (DEFAULT_API_VERSION). */
  apiVersion?: HubSpotApiVersion;
  /** `introspect` (default): one identity request with email and domain. `token`: no request, from the token response. */
  profileSource?: 'introspect' | 'token';
  /**
   * Base for API calls made with the tokens (not used by the login). Default `https://api.hubapi.com`
   * (DOC). EU portals on older tokens may need `https://api-eu1.hubapi.com` (CODE).
   */
  apiBaseURL?: string;
}

/** Per-request options of `passport.authenticate('hubspot', { ... })`; they win over the constructor's. */
export interface HubSpotAuthenticateOptions {
  optionalScope?: string | string[];
  accountId?: string | number;
  scope?: string | string[];
}

function definition(options: HubSpotStrategyOptions): ProviderDefinition {
  const region = checkOneOf(PACKAGE, 'region', options.region ?? 'na1', Object.keys(AUTHORIZATION_URLS) as HubSpotRegion[]);
  const version = apiVersionOf(options);
  checkOneOf(PACKAGE, 'profileSource', options.profileSource ?? 'introspect', ['introspect', 'token'] as const);
  if (options.accountId !== undefined) accountSegment(options.accountId);
  if (options.optionalScope !== undefined) normalizeScope(PACKAGE, options.optionalScope);
  return {
    name: 'hubspot',
    packageName: PACKAGE,
    authorizationURL: AUTHORIZATION_URLS[region],
    tokenURL: joinURL(API_BASE_URL, TOKEN_PATHS[version]),
    userProfileURL: joinURL(API_BASE_URL, IDENTITY_PATHS[version]),
    revocationURL: REVOCATION_PATHS[version] && joinURL(API_BASE_URL, REVOCATION_PATHS[version]),
    apiBaseURL: API_BASE_URL,
    bodyEncoding: 'form', // DOC: application/x-www-form-urlencoded on every version
    clientAuthentication: 'client_secret_post', // DOC: client_id and client_secret in the body
    scopeSeparator: ' ', // DOC
    defaultScope: [DEFAULT_SCOPE],
    requiredScope: [DEFAULT_SCOPE],
    pkce: true, // DOC: code_verifier accepted on all three token endpoints
    parseError: parseHubSpotError,
  };
}

function apiVersionOf(options: HubSpotStrategyOptions): HubSpotApiVersion {
  return checkOneOf(PACKAGE, 'apiVersion', options.apiVersion ?? DEFAULT_API_VERSION, Object.keys(TOKEN_PATHS) as HubSpotApiVersion[]);
}

/** Passport strategy for HubSpot's OAuth 2.0 authorization-code flow. */
export class HubSpotStrategy extends providerStrategy<HubSpotStrategyOptions, HubSpotProfile>(PACKAGE, definition) {
  readonly apiVersion: HubSpotApiVersion = apiVersionOf(this.options);
  declare readonly apiBaseURL: string;
  private readonly profileSource: 'introspect' | 'token' = this.options.profileSource ?? 'introspect';

  protected override authorizationURLFor(options: HubSpotAuthenticateOptions): string {
    const accountId = options.accountId ?? this.options.accountId;
    if (accountId === undefined) return this.provider.authorizationURL;
    // DOC: /oauth/{accountId}/authorize skips HubSpot's account picker.
    const url = new URL(this.provider.authorizationURL);
    url.pathname = url.pathname.replace(/\/authorize\/?$/, `/${accountSegment(accountId)}/authorize`);
    return url.toString();
  }

  override authorizationParams(options: HubSpotAuthenticateOptions): object {
    const optional = normalizeScope(PACKAGE, options.optionalScope ?? this.options.optionalScope);
    return optional ? { ...super.authorizationParams(options), optional_scope: optional.join(' ') } : super.authorizationParams(options);
  }

  /** `profileSource: 'token'`: the token response's identity, when it names the user (see profile()). */
  protected override profileFromLogin(tokenSet: TokenSet): HubSpotProfile | undefined {
    return this.profileSource === 'token' ? parseHubSpotProfile(tokenSet.raw) : undefined;
  }

  protected override async profile(accessToken: string, tokenSet: TokenSet | undefined): Promise<HubSpotProfile> {
    const fromToken = tokenSet && this.profileFromLogin(tokenSet);
    // CODE: `user_id` is optional in HubSpot's generated client model; the 2025-08-18 changelog adds
    // only `hub_id` and `scopes` (DOC). Without it, the identity call below.
    if (fromToken) return fromToken;
    const url = this.userProfileURL as string;
    const { json, text } =
      this.apiVersion === 'v1'
        ? await this.requestIdentity(joinURL(url, encodeURIComponent(accessToken)), accessToken)
        : await this.requestIdentity(url, accessToken, {
            method: 'POST',
            form: {
              client_id: this.options.clientID as string, // checked at construction
              client_secret: this.options.clientSecret ?? '',
              token: accessToken,
              token_type_hint: 'access_token',
            },
          });
    if (json.active === false) throw this.profileUnavailable('HubSpot reports the access token as not active');
    const profile = parseHubSpotProfile(json, text);
    if (!profile) throw this.profileUnavailable('the identity answer carries no user_id');
    return profile;
  }
}

function accountSegment(accountId: unknown): string {
  const id = typeof accountId === 'number' ? String(accountId) : accountId;
  if (typeof id !== 'string' || !/^\d+$/.test(id)) throw optionError(PACKAGE, 'accountId', 'must be a HubSpot account id (digits only)');
  return id;
}

export { HubSpotStrategy as Strategy };
export default HubSpotStrategy;
