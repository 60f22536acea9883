/**
 * `@passport-martech/oauth2/provider-kit`: what a strategy package is built from. Everything the main
 * entry exports is here too, so a provider package imports from this one path. How a provider package
 * is put together, and what else adding one touches: docs/architecture.md ("Adding a provider").
 */
export * from './index';
export { providerStrategy } from './strategy-class';
export type { StrategyConstructor } from './strategy-class';
export type { ProviderDefinition, RegistrableStrategyOptions } from './strategy';
export { TokenClient, basicAuthorization } from './token-client';
export type { BodyEncoding, ClientAuthentication, TokenClientOptions, TokenRequestParams } from './token-client';
export type { TokenClientOAuth2 } from './oauth2-adapter';
export { toTokenSet } from './token-set';
export { parseRfc6749Error, safeCause } from './errors';
export type { ErrorBodyParser, ProviderErrorFields } from './errors';
export { cleanIdentity, emailList, idString, isEmail, profileFromTokenResponse, profileFromUserInfo, stringField } from './profile';
export type { TokenIdentityHook } from './profile';
export { checkEndpointURL, checkOneOf, checkURL, isLoopbackHost, joinURL, normalizeScope, optionError, optionalString, requireString } from './options';
export { bodyExcerpt, redactJson, scrub } from './redact';
export { readJsonObject, requestProvider, sendProviderRequest } from './http';
export { errorCodeOf, isTraced, traced } from './diagnostics';
export type { ProviderRequest, ProviderResponse } from './http';
export { mcpDialect, usesMcp } from './mcp';
export type { McpAuthorizationServer, McpOptions, McpSetup } from './mcp';
export type { AuthorizationServerMetadata } from './mcp-discovery';
export { registerClient } from './mcp-registration';
export type { McpClientConfig } from './mcp-connection';
