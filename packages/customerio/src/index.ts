import { CustomerIoStrategy } from './strategy';

export {
  CustomerIoStrategy,
  CustomerIoStrategy as Strategy,
  API_BASE_URLS,
  GUIDE_AUTHORIZATION_URL,
  GUIDE_DEFAULT_SCOPE,
  GUIDE_TOKEN_URLS,
  MCP_AUTHORIZATION_URL,
  MCP_ISSUER,
  MCP_RESOURCE,
  MCP_SCOPES,
  MCP_REVOCATION_URL,
  MCP_TOKEN_URL,
} from './strategy';
export type { CustomerIoRegion, CustomerIoStrategyOptions, CustomerIoStrategyOptions as StrategyOptions } from './strategy';
export type { CustomerIoProfile, CustomerIoProfile as Profile } from './profile';
export { parseCustomerIoError } from './errors';
export { ErrorCode, OAuthRequestError, OAuthTokenError } from '@passport-martech/oauth2/provider-kit';
export type { TokenSet, TokenParams } from '@passport-martech/oauth2';

export default CustomerIoStrategy;
