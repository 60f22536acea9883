import {
  AnyVerifyFunction,
  Profile,
  ProviderStrategy,
  ProviderStrategyOptions,
  TokenSet,
  VerifyFunction,
  VerifyFunctionWithParams,
  VerifyFunctionWithRequest,
  VerifyFunctionWithRequestAndParams,
  WithRequest,
  WithoutRequest,
  checkEndpointURL,
  joinURL,
  requireString,
} from '@passport-martech/oauth2';
import { parseMarketoError } from './errors';
import { MarketoProfile, parseMarketoTokenProfile } from './profile';

const PACKAGE = '@passport-martech/marketo';

/**
 * GUIDE: the 2024 integration guides describe an authorization-code flow on the instance host
 * (`https://<instance>.marketo.com`). Marketo's own documentation describes only client credentials
 * (see MarketoClientCredentials); confirm these paths with Adobe before relying on them.
 */
export const AUTHORIZE_PATH = '/oauth/authorize'; // GUIDE
export const TOKEN_PATH = '/oauth/token'; // GUIDE

export interface MarketoStrategyOptions extends ProviderStrategyOptions {
  /**
   * Required: your instance's base URL, e.g. `https://app-ab12.marketo.com`. There is no default: the
   * guides' host is a placeholder. Paths under it are kept (`http://127.0.0.1:4000/marketo`).
   */
  instanceURL: string;
}

/** Passport strategy for the guides' Marketo authorization-code flow (GUIDE). */
export class MarketoStrategy extends ProviderStrategy<MarketoStrategyOptions> {
  readonly instanceURL: string;

  constructor(options: MarketoStrategyOptions & WithoutRequest, verify: VerifyFunction<MarketoProfile>);
  constructor(options: MarketoStrategyOptions & WithoutRequest, verify: VerifyFunctionWithParams<MarketoProfile>);
  constructor(options: MarketoStrategyOptions & WithRequest, verify: VerifyFunctionWithRequest<MarketoProfile>);
  constructor(options: MarketoStrategyOptions & WithRequest, verify: VerifyFunctionWithRequestAndParams<MarketoProfile>);
  // Options typed as the wide interface (passReqToCallback?: boolean): annotate the verify parameters.
  constructor(options: MarketoStrategyOptions, verify: AnyVerifyFunction<MarketoProfile>);
  constructor(options: MarketoStrategyOptions, verify: AnyVerifyFunction<MarketoProfile>) {
    const instanceURL = checkEndpointURL(PACKAGE, 'instanceURL', requireString(PACKAGE, options ?? {}, 'instanceURL'), options);
    super(
      {
        name: 'marketo',
        packageName: PACKAGE,
        authorizationURL: joinURL(instanceURL, AUTHORIZE_PATH),
        tokenURL: joinURL(instanceURL, TOKEN_PATH),
        bodyEncoding: 'form', // GUIDE
        clientAuthentication: 'client_secret_post', // GUIDE; Marketo's identity service also reads the secret from parameters (DOC)
        scopeSeparator: ' ',
        pkce: false, // UNK: nothing public says Marketo accepts PKCE; turn on with `pkce: true` if yours does
        parseError: parseMarketoError,
      },
      options,
      verify,
    );
    this.instanceURL = instanceURL;
  }

  /** Marketo's token answer names the API user only through `scope`, an email (DOC for client credentials). */
  protected override profileFromTokenSet(tokenSet: TokenSet): Profile | undefined {
    return parseMarketoTokenProfile(tokenSet.raw);
  }
}

export { MarketoStrategy as Strategy };
export default MarketoStrategy;
