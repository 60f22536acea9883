import {
  McpOptions,
  ProviderDefinition,
  RegistrableStrategyOptions,
  mcpDialect,
  providerStrategy,
  usesMcp,
} from '@passport-martech/oauth2/provider-kit';
import { parseOntraportError } from './errors';
import { OntraportProfile } from './profile';

const PACKAGE = '@passport-martech/ontraport';

/**
 * GUIDE: the 2024 integration guides' endpoints. Ontraport's public REST documentation describes only
 * static `Api-Appid` + `Api-Key` headers, so these exist in the guides alone; confirm them with Ontraport.
 */
export const GUIDE_AUTHORIZATION_URL = 'https://api.ontraport.com/oauth2/auth';
export const GUIDE_TOKEN_URL = 'https://api.ontraport.com/oauth2/token';

/** CODE: the OAuth server in front of Ontraport's MCP server, as its metadata and real clients show. */
export const MCP_AUTHORIZATION_URL = 'https://app.ontraport.com/oauth/authorize';
export const MCP_TOKEN_URL = 'https://app.ontraport.com/oauth/token';
/** RFC 7009 revocation (CODE: the server's published metadata names it as `revocation_endpoint`; docs/providers.md). */
export const MCP_REVOCATION_URL = 'https://app.ontraport.com/oauth/revoke';
export const MCP_RESOURCE = 'https://mcp.ontraport.com';
export const MCP_DEFAULT_SCOPE = 'mcp:tools';
/**
 * CODE: the issuer of the MCP authorization server (the host of its endpoints). `discovery: true` reads
 * `https://app.ontraport.com/.well-known/oauth-authorization-server` (RFC 8414) and checks that the document names this
 * issuer; the `issuer` option overrides it.
 */
export const MCP_ISSUER = 'https://app.ontraport.com';

/** REST base for calls with the tokens (DOC for the API-key flavour). */
export const API_BASE_URL = 'https://api.ontraport.com/1';

/**
 * `clientID` is required, except with `authServer: 'mcp'`, where leaving it out registers a client
 * (RFC 7591; see "MCP connections" in the README).
 */
export interface OntraportStrategyOptions
  extends RegistrableStrategyOptions,
    Pick<McpOptions, 'discovery' | 'issuer' | 'metadataURL' | 'metadataTtlMs' | 'registration' | 'connectionOnly'> {
  /** `guide` (default): the guides' flow, JSON token body. `mcp`: Ontraport's MCP authorization server. */
  authServer?: 'guide' | 'mcp';
  /** MCP only: the resource indicator sent on both requests. Default `https://mcp.ontraport.com`. */
  resource?: string;
  /** Base for API calls made with the tokens (not used by the login). Default `https://api.ontraport.com/1`. */
  apiBaseURL?: string;
}

function definition(options: OntraportStrategyOptions): ProviderDefinition {
  const common = { name: 'ontraport', packageName: PACKAGE, scopeSeparator: ' ', apiBaseURL: API_BASE_URL, parseError: parseOntraportError };
  if (usesMcp(PACKAGE, options)) {
    const server = { authorizationURL: MCP_AUTHORIZATION_URL, tokenURL: MCP_TOKEN_URL, revocationURL: MCP_REVOCATION_URL, resource: MCP_RESOURCE, defaultScope: [MCP_DEFAULT_SCOPE], issuer: MCP_ISSUER };
    return { ...common, ...mcpDialect(PACKAGE, server, options) };
  }
  return {
    ...common,
    authorizationURL: GUIDE_AUTHORIZATION_URL,
    tokenURL: GUIDE_TOKEN_URL,
    bodyEncoding: 'json', // GUIDE
    clientAuthentication: 'client_secret_post', // GUIDE: client_id and client_secret in the JSON body
    pkce: false, // UNK for the guide's server; `pkce: true` turns it on
  };
}

/**
 * Passport strategy for Ontraport. The profile comes from the token response's `account_id` (the
 * guides' servers document no identity endpoint, UNK), or from `userProfileURL` when you set one.
 */
export class OntraportStrategy extends providerStrategy<OntraportStrategyOptions, OntraportProfile>(PACKAGE, definition) {
  declare readonly apiBaseURL: string;
}

export { OntraportStrategy as Strategy };
export default OntraportStrategy;
