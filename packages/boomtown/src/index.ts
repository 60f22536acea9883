import { BoomTownStrategy } from './strategy';

export { BoomTownStrategy, BoomTownStrategy as Strategy, API_BASE_URL, AUTHORIZATION_URL, DEFAULT_SCOPE, TOKEN_URL } from './strategy';
export type { BoomTownStrategyOptions, BoomTownStrategyOptions as StrategyOptions } from './strategy';
export type { BoomTownProfile, BoomTownProfile as Profile } from './profile';
export { parseBoomTownError } from './errors';
export { ErrorCode, OAuthRequestError, OAuthTokenError } from '@passport-martech/oauth2/provider-kit';
export type { TokenSet, TokenParams } from '@passport-martech/oauth2';

export default BoomTownStrategy;
