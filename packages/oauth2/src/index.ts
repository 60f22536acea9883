export { ProviderStrategy } from './strategy';
export type { ProviderDefinition, ProviderStrategyOptions, RegistrableStrategyOptions, TokenParams } from './strategy';
export { TokenClient, basicAuthorization } from './token-client';
export type { BodyEncoding, ClientAuthentication, TokenClientOptions, TokenRequestParams } from './token-client';
export { createOAuth2Adapter } from './oauth2-adapter';
export type { TokenClientOAuth2, TokenClientOAuth2Class, AdapterSettings } from './oauth2-adapter';
export { toTokenSet, expiresWithin } from './token-set';
export type { TokenSet } from './token-set';
export {
  ErrorCode,
  OAuthTokenError,
  OAuthRequestError,
  isOAuthError,
  isRecord,
  parseRfc6749Error,
  safeCause,
} from './errors';
export type { ErrorCodeValue, ErrorBodyParser, OAuthError, OAuthErrorFields, ProviderErrorFields } from './errors';
export { AppState, SessionStateStore, STATE_TTL_MS, MAX_PENDING_LOGINS } from './state-store';
export { MemoryStateClaims, stateClaimKey } from './state-claims';
export { CookieStateStore, MAX_PENDING_COOKIES } from './cookie-state-store';
export type { CookieStateKey, CookieStateOptions, CookieStateStoreOptions } from './cookie-state-store';
export type { StateClaimStore } from './state-claims';
export { AUTHORIZATION_ERROR_CODES, OAuthAuthorizationError, UNKNOWN_AUTHORIZATION_ERROR, knownAuthorizationError } from './authorization-error';
export type { SessionStateStoreOptions } from './state-store';
export { adaptVerify } from './verify';
export type {
  AnyVerify,
  AnyVerifyFunction,
  VerifyCallback,
  VerifyFunction,
  VerifyFunctionWithParams,
  VerifyFunctionWithRequest,
  VerifyFunctionWithRequestAndParams,
  WithRequest,
  WithoutRequest,
} from './verify';
export {
  emailList,
  firstId,
  idString,
  isEmail,
  profileFromTokenResponse,
  profileFromUserInfo,
  stringField,
  withoutTokens,
  cleanIdentity,
  TOKEN_IDENTITY_KEYS,
  USERINFO_ID_KEYS,
} from './profile';
export type { Profile, TokenIdentityOptions } from './profile';
export type { InsecureHttpOption } from './options';
export { checkEndpointURL, isLoopbackHost, checkOneOf, checkURL, joinURL, normalizeScope, optionError, optionalString, requireString } from './options';
export { bodyExcerpt, redactJson, scrub } from './redact';
export { sendProviderRequest, requestProvider, readJsonObject, DEFAULT_TIMEOUT_MS } from './http';
export { CHANNELS, errorCodeOf, isTraced, traced } from './diagnostics';
export type { ProviderRequestEvent, TraceContext } from './diagnostics';
export { defaultAgents, IDLE_SOCKET_MS } from './transport';
export type { ProviderAgent } from './transport';
export type { ProviderRequest, ProviderResponse } from './http';
export { mcpDialect, usesMcp } from './mcp';
export type { McpAuthorizationServer, McpOptions, McpSetup } from './mcp';
export { METADATA_TTL_MS, MetadataCache, fetchAuthorizationServerMetadata, metadataURLFor } from './mcp-discovery';
export type { AuthorizationServerMetadata, DiscoveryOptions } from './mcp-discovery';
export { MemoryClientStore, registerClient, registrationKey } from './mcp-registration';
export type { ClientStore, RegisteredClient, RegistrationAuthMethod, RegistrationOptions, RegistrationRequest } from './mcp-registration';
export type { McpClientConfig } from './mcp-connection';
