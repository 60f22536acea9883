import {
  ProviderDefinition,
  ProviderStrategyOptions,
  checkEndpointURL,
  joinURL,
  providerStrategy,
  requireString,
} from '@passport-martech/oauth2/provider-kit';
import { marketoTokenRejected, parseMarketoError } from './errors';
import { MarketoProfile, marketoTokenIdentity } from './profile';

const PACKAGE = '@passport-martech/marketo';

/**
 * GUIDE: the 2024 integration guides describe an authorization-code flow on the instance host
 * (`https://<instance>.marketo.com`). Marketo's own documentation describes only client credentials
 * (see MarketoClientCredentials); confirm these paths with Adobe before relying on them.
 */
export const AUTHORIZATION_PATH = '/oauth/authorize'; // GUIDE
export const TOKEN_PATH = '/oauth/token'; // GUIDE
/**
 * UNK: the guides' flow names no API host; the REST API is taken to be under the instance URL. Marketo's
 * documented REST base is `https://<munchkin-id>.mktorest.com/rest` (DOC): set `apiBaseURL` to it.
 */
export const API_BASE_PATH = '/rest';

export interface MarketoStrategyOptions extends ProviderStrategyOptions {
  /**
   * Required: your instance's base URL, e.g. `https://app-ab12.marketo.com`. There is no default: the
   * guides' host is a placeholder. Paths under it are kept (`http://127.0.0.1:4000/marketo`).
   */
  instanceURL: string;
  /** Base for REST calls made with the tokens (not used by the login). Default `<instanceURL>/rest` (UNK). */
  apiBaseURL?: string;
}

function definition(options: MarketoStrategyOptions): ProviderDefinition {
  const instanceURL = instanceURLOf(options);
  return {
    name: 'marketo',
    packageName: PACKAGE,
    authorizationURL: joinURL(instanceURL, AUTHORIZATION_PATH),
    tokenURL: joinURL(instanceURL, TOKEN_PATH),
    apiBaseURL: joinURL(instanceURL, API_BASE_PATH),
    bodyEncoding: 'form', // GUIDE
    clientAuthentication: 'client_secret_post', // GUIDE; Marketo's identity service also reads the secret from parameters (DOC)
    scopeSeparator: ' ',
    pkce: false, // UNK: nothing public says Marketo accepts PKCE; turn on with `pkce: true` if yours does
    parseError: parseMarketoError,
    tokenIdentity: marketoTokenIdentity,
    isTokenRejected: marketoTokenRejected,
  };
}

function instanceURLOf(options: MarketoStrategyOptions): string {
  return checkEndpointURL(PACKAGE, 'instanceURL', requireString(PACKAGE, options, 'instanceURL'), options);
}

/** Passport strategy for the guides' Marketo authorization-code flow (GUIDE). */
export class MarketoStrategy extends providerStrategy<MarketoStrategyOptions, MarketoProfile>(PACKAGE, definition) {
  readonly instanceURL: string = instanceURLOf(this.options);
  declare readonly apiBaseURL: string;
}

export { MarketoStrategy as Strategy };
export default MarketoStrategy;
