import { ProviderDefinition, ProviderStrategyOptions, providerStrategy } from '@passport-martech/oauth2/provider-kit';
import { parseBoomTownError } from './errors';
import { BoomTownProfile } from './profile';

const PACKAGE = '@passport-martech/boomtown';

/**
 * GUIDE: every BoomTown endpoint below comes from the 2024 integration guides. BoomTown publishes no
 * developer documentation (UNK); partners get API access through their account manager, so confirm
 * each URL with BoomTown.
 */
export const AUTHORIZATION_URL = 'https://auth.boomtownroi.com/oauth/authorize';
export const TOKEN_URL = 'https://auth.boomtownroi.com/oauth/token';
export const API_BASE_URL = 'https://api.boomtownroi.com/v1';
export const DEFAULT_SCOPE = 'offline_access'; // GUIDE: needed for a refresh token

export interface BoomTownStrategyOptions extends ProviderStrategyOptions {
  /** Base for API calls made with the tokens (`/leads` under it). Default `https://api.boomtownroi.com/v1` (GUIDE). */
  apiBaseURL?: string;
}

function definition(_options: BoomTownStrategyOptions): ProviderDefinition {
  return {
    name: 'boomtown',
    packageName: PACKAGE,
    authorizationURL: AUTHORIZATION_URL,
    tokenURL: TOKEN_URL,
    apiBaseURL: API_BASE_URL,
    bodyEncoding: 'json', // GUIDE
    clientAuthentication: 'client_secret_post', // GUIDE
    scopeSeparator: ' ',
    defaultScope: [DEFAULT_SCOPE],
    pkce: false, // UNK; `pkce: true` turns it on
    parseError: parseBoomTownError,
  };
}

/**
 * Passport strategy for BoomTown. The profile comes from identity fields of the token response
 * (`user_id`, `account_id`, `email`, ...) or from `userProfileURL` when you set one.
 */
export class BoomTownStrategy extends providerStrategy<BoomTownStrategyOptions, BoomTownProfile>(PACKAGE, definition) {
  declare readonly apiBaseURL: string;
}

export { BoomTownStrategy as Strategy };
export default BoomTownStrategy;
