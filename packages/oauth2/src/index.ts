/**
 * `@passport-martech/oauth2`: what an app using a passport-martech strategy needs — the typed errors,
 * TokenSet, the profile and verify types, the state and client stores it may configure. Strategy
 * authors import `@passport-martech/oauth2/provider-kit` (this entry and the helpers).
 */
export { ProviderStrategy } from './strategy';
export type { ProviderStrategyOptions, TokenParams } from './strategy';
export { expiresWithin } from './token-set';
export type { TokenSet } from './token-set';
export { ErrorCode, OAuthTokenError, OAuthRequestError, isOAuthError, isRecord } from './errors';
export type { ErrorCodeValue, OAuthError, OAuthErrorFields } from './errors';
export { AUTHORIZATION_ERROR_CODES, OAuthAuthorizationError, UNKNOWN_AUTHORIZATION_ERROR, knownAuthorizationError } from './authorization-error';
export type { Profile } from './profile';
export type {
  AnyVerifyFunction,
  VerifyCallback,
  VerifyFunction,
  VerifyFunctionWithParams,
  VerifyFunctionWithRequest,
  VerifyFunctionWithRequestAndParams,
  WithRequest,
  WithoutRequest,
} from './verify';
export { SessionStateStore, STATE_TTL_MS, MAX_PENDING_LOGINS } from './state-store';
export type { SessionStateStoreOptions } from './state-store';
export { MemoryStateClaims, stateClaimKey } from './state-claims';
export type { StateClaimStore } from './state-claims';
export { CookieStateStore } from './cookie-state-store';
export type { CookieStateOptions } from './cookie-state-store';
export { MemoryClientStore } from './mcp-registration';
export type { ClientStore, RegisteredClient, RegistrationOptions } from './mcp-registration';
export type { InsecureHttpOption } from './options';
export { DEFAULT_TIMEOUT_MS } from './options';
export { CHANNELS } from './diagnostics';
export type { ProviderRequestEvent, TraceContext } from './diagnostics';
export { defaultAgents, IDLE_SOCKET_MS } from './transport';
export { dictionaryMode } from './request-shape';
export type { ProviderAgent } from './transport';
