import {
  ProviderDefinition,
  ProviderStrategyOptions,
  TokenSet,
  checkEndpointURL,
  joinURL,
  optionError,
  providerStrategy,
} from '@passport-martech/oauth2/provider-kit';
import { parseKlaviyoError } from './errors';
import { KlaviyoProfile, parseKlaviyoAccount } from './profile';

const PACKAGE = '@passport-martech/klaviyo';

/**
 * DOC: every endpoint below is in Klaviyo's own OAuth guide (docs/providers.md, "Klaviyo"). The consent
 * page is on www.klaviyo.com; token traffic must go to a.klaviyo.com, as www.klaviyo.com has refused it
 * (403 HTML) since 2025-03-31.
 */
export const AUTHORIZATION_URL = 'https://www.klaviyo.com/oauth/authorize';
export const TOKEN_URL = 'https://a.klaviyo.com/oauth/token';
/**
 * DOC: RFC 7009-style revocation on a.klaviyo.com (form body `token`, `token_type_hint`; HTTP Basic client
 * authentication, CODE): `strategy.revoke()` and the refresh package's `manager.revoke()` use it.
 */
export const REVOCATION_URL = 'https://a.klaviyo.com/oauth/revoke';
/** DOC: the REST API base; every call takes `Authorization: Bearer` and a `revision` header. */
export const API_BASE_URL = 'https://a.klaviyo.com/api';
/** DOC: the Accounts API under API_BASE_URL, Klaviyo's only answer to "who connected" (no user-info endpoint). */
export const ACCOUNTS_PATH = '/accounts';
/** DOC: the current API revision in Klaviyo's docs on 2026-11-30; the `revision` option pins another. */
export const API_REVISION = '2026-10-15';
/** DOC: the scope the Accounts API needs; always asked for unless `skipUserProfile: true`. */
export const DEFAULT_SCOPE = 'accounts:read';

/** DOC: `YYYY-MM-DD`, optionally with a `.suffix` (e.g. `2024-10-15.pre`). */
const REVISION_FORMAT = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

export interface KlaviyoStrategyOptions extends ProviderStrategyOptions {
  /** Required: Klaviyo authenticates the client with HTTP Basic (DOC). */
  clientSecret: string | undefined;
  /** Space-separated or an array, e.g. `['lists:read', 'profiles:read']`; `accounts:read` is added for the profile. */
  scope?: string | string[];
  /** Base for API calls made with the tokens, and of the profile's Accounts call. Default `https://a.klaviyo.com/api` (DOC). */
  apiBaseURL?: string;
  /** The `revision` header of the Accounts call (DOC: required on every API call). Default `API_REVISION`. */
  revision?: string;
}

function definition(options: KlaviyoStrategyOptions): ProviderDefinition {
  // Checked here, first, so a bad value is reported as apiBaseURL and not as the userProfileURL built from it.
  const apiBaseURL = checkEndpointURL(PACKAGE, 'apiBaseURL', options.apiBaseURL ?? API_BASE_URL, options);
  revisionOf(options);
  return {
    name: 'klaviyo',
    packageName: PACKAGE,
    authorizationURL: AUTHORIZATION_URL,
    tokenURL: TOKEN_URL,
    revocationURL: REVOCATION_URL,
    // The Accounts call follows apiBaseURL; the userProfileURL option still overrides it.
    userProfileURL: joinURL(apiBaseURL, ACCOUNTS_PATH),
    apiBaseURL: API_BASE_URL,
    bodyEncoding: 'form', // DOC: application/x-www-form-urlencoded
    clientAuthentication: 'client_secret_basic', // DOC: Authorization: Basic base64(client_id:client_secret)
    scopeSeparator: ' ', // DOC
    defaultScope: [DEFAULT_SCOPE],
    // Without a profile call the Accounts scope is not needed, so it is not forced on the user.
    requiredScope: options.skipUserProfile === true ? [] : [DEFAULT_SCOPE],
    pkce: 'required', // DOC: code_challenge_method=S256 is a required parameter
    parseError: parseKlaviyoError,
  };
}

function revisionOf(options: KlaviyoStrategyOptions): string {
  const revision = options.revision ?? API_REVISION;
  if (typeof revision !== 'string' || !REVISION_FORMAT.test(revision)) {
    throw optionError(PACKAGE, 'revision', 'must be a Klaviyo API revision, YYYY-MM-DD (optionally .suffix)');
  }
  return revision;
}

/**
 * Passport strategy for Klaviyo's OAuth 2.0 authorization-code flow with PKCE. The profile is the connected
 * Klaviyo account, read from the Accounts API (`GET {apiBaseURL}/accounts` with the `revision` header).
 */
export class KlaviyoStrategy extends providerStrategy<KlaviyoStrategyOptions, KlaviyoProfile>(PACKAGE, definition) {
  declare readonly apiBaseURL: string;
  /** The `revision` header Klaviyo's API needs on every call (DOC): the profile's, and your own calls'. */
  readonly revision: string = revisionOf(this.options);

  protected override async profile(accessToken: string, _tokenSet: TokenSet | undefined): Promise<KlaviyoProfile> {
    const url = this.userProfileURL as string; // always set: from apiBaseURL or the userProfileURL option
    // DOC: every API call names its revision; JSON:API media type.
    const headers = { revision: this.revision, Accept: 'application/vnd.api+json' };
    const { json, text } = await this.requestIdentity(url, accessToken, { headers });
    const profile = parseKlaviyoAccount(json, text);
    if (!profile) throw this.profileUnavailable('the Accounts API answer carries no account (data[0] with type "account" and an id)');
    return profile;
  }
}

export { KlaviyoStrategy as Strategy };
export default KlaviyoStrategy;
