import { KlaviyoStrategy } from './strategy';

export {
  KlaviyoStrategy,
  KlaviyoStrategy as Strategy,
  ACCOUNTS_PATH,
  API_BASE_URL,
  API_REVISION,
  AUTHORIZATION_URL,
  DEFAULT_SCOPE,
  REVOCATION_URL,
  TOKEN_URL,
} from './strategy';
export type { KlaviyoStrategyOptions, KlaviyoStrategyOptions as StrategyOptions } from './strategy';
export { parseKlaviyoAccount } from './profile';
export type { KlaviyoProfile, KlaviyoProfile as Profile } from './profile';
export { parseKlaviyoError } from './errors';
export { ErrorCode, OAuthRequestError, OAuthTokenError } from '@passport-martech/oauth2/provider-kit';
export type { TokenSet, TokenParams } from '@passport-martech/oauth2';

export default KlaviyoStrategy;
