import { InsecureHttpOption, checkEndpointURL, checkOneOf } from './options';
import type { ProviderDefinition } from './strategy';

/** Where a provider's MCP authorization server lives and what it protects. */
export interface McpAuthorizationServer {
  authorizationURL: string;
  tokenURL: string;
  /** RFC 8707 resource indicator: the MCP server the tokens are for. */
  resource: string;
  defaultScope?: readonly string[];
}

/** The options of a provider that runs both the guides' server and an MCP authorization server. */
export interface McpOptions extends InsecureHttpOption {
  /** `guide` (default) or `mcp`. */
  authServer?: 'guide' | 'mcp';
  /** MCP only: overrides the server's resource indicator. */
  resource?: string;
  clientSecret?: string;
}

/** True when `options.authServer` picks the MCP server; a TypeError names any other value. */
export function usesMcp(owner: string, options: McpOptions): boolean {
  return checkOneOf(owner, 'authServer', options.authServer ?? 'guide', ['guide', 'mcp'] as const) === 'mcp';
}

/**
 * The dialect of the MCP authorization servers (Ontraport and Customer.io run one): OAuth 2.1, so a
 * form-encoded token body, PKCE S256 required, and the `resource` sent with both the authorization and
 * the token request (MCP authorization spec). A client without a secret is a public client (`none`).
 */
export function mcpDialect(
  owner: string,
  server: McpAuthorizationServer,
  options: McpOptions,
): Pick<
  ProviderDefinition,
  'authorizationURL' | 'tokenURL' | 'bodyEncoding' | 'clientAuthentication' | 'pkce' | 'defaultScope' | 'authorizationParams' | 'tokenParams'
> {
  // The resource is the MCP server the tokens are sent to: https like every endpoint.
  const resource = checkEndpointURL(owner, 'resource', options.resource ?? server.resource, options);
  const hasClientSecret = typeof options.clientSecret === 'string' && options.clientSecret !== '';
  return {
    authorizationURL: server.authorizationURL,
    tokenURL: server.tokenURL,
    bodyEncoding: 'form',
    clientAuthentication: hasClientSecret ? 'client_secret_post' : 'none',
    pkce: 'required',
    defaultScope: server.defaultScope,
    authorizationParams: { resource },
    tokenParams: { resource },
  };
}
