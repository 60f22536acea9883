import { MarketoStrategy } from './strategy';

export { MarketoStrategy, MarketoStrategy as Strategy, API_BASE_PATH, AUTHORIZATION_PATH, TOKEN_PATH } from './strategy';
export type { MarketoStrategyOptions, MarketoStrategyOptions as StrategyOptions } from './strategy';
export { MarketoClientCredentials } from './client-credentials';
export type { MarketoClientCredentialsOptions } from './client-credentials';
export type { MarketoProfile, MarketoProfile as Profile } from './profile';
export { marketoTokenRejected, parseMarketoError, TOKEN_EXPIRED, TOKEN_INVALID, RATE_LIMITED, TOO_MANY_CONCURRENT, DAILY_QUOTA_REACHED, DAILY_QUOTA_ERROR_CODE } from './errors';
export { ErrorCode, OAuthRequestError, OAuthTokenError } from '@passport-martech/oauth2/provider-kit';
export type { TokenSet, TokenParams } from '@passport-martech/oauth2';

export default MarketoStrategy;
