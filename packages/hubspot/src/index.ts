import { HubSpotStrategy } from './strategy';

export {
  HubSpotStrategy,
  HubSpotStrategy as Strategy,
  API_BASE_URL,
  AUTHORIZATION_URLS,
  DEFAULT_API_VERSION,
  DEFAULT_SCOPE,
  IDENTITY_PATHS,
  REVOCATION_PATHS,
  TOKEN_PATHS,
} from './strategy';
export type { HubSpotApiVersion, HubSpotAuthenticateOptions, HubSpotRegion, HubSpotStrategyOptions } from './strategy';
export type { HubSpotStrategyOptions as StrategyOptions } from './strategy';
export { parseHubSpotProfile } from './profile';
export type { HubSpotProfile, HubSpotProfile as Profile } from './profile';
export { parseHubSpotError } from './errors';
export { ErrorCode, OAuthRequestError, OAuthTokenError } from '@passport-martech/oauth2/provider-kit';
export type { TokenSet, TokenParams } from '@passport-martech/oauth2';

declare module 'passport' {
  // `passport.authenticate('hubspot', { accountId, optionalScope })` type-checks once this package is imported.
  interface AuthenticateOptions {
    /** HubSpot: pin the authorization to this account (`/oauth/{accountId}/authorize`). */
    accountId?: string | number;
    /** HubSpot: scopes the user may decline (`optional_scope`). */
    optionalScope?: string | string[];
  }
}

export default HubSpotStrategy;
