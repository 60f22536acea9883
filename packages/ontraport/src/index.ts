import { OntraportStrategy } from './strategy';

export {
  OntraportStrategy,
  OntraportStrategy as Strategy,
  API_BASE_URL,
  GUIDE_AUTHORIZATION_URL,
  GUIDE_TOKEN_URL,
  MCP_AUTHORIZATION_URL,
  MCP_ISSUER,
  MCP_RESOURCE,
  MCP_DEFAULT_SCOPE,
  MCP_REVOCATION_URL,
  MCP_TOKEN_URL,
} from './strategy';
export type { OntraportStrategyOptions, OntraportStrategyOptions as StrategyOptions } from './strategy';
export type { OntraportProfile, OntraportProfile as Profile } from './profile';
export { parseOntraportError } from './errors';
export { ErrorCode, OAuthRequestError, OAuthTokenError } from '@passport-martech/oauth2/provider-kit';
export type { TokenSet, TokenParams } from '@passport-martech/oauth2';

export default OntraportStrategy;
