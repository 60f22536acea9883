import type { ProviderDefinition } from './strategy';

/** Where a provider's MCP authorization server lives and what it protects. */
export interface McpAuthorizationServer {
  authorizationURL: string;
  tokenURL: string;
  /** RFC 8707 resource indicator: the MCP server the tokens are for. */
  resource: string;
  defaultScope?: readonly string[];
}

/**
 * The dialect of the MCP authorization servers (Ontraport and Customer.io run one): OAuth 2.1, so a
 * form-encoded token body, PKCE S256 required, and the `resource` sent with both the authorization and
 * the token request (MCP authorization spec). A client without a secret is a public client (`none`).
 */
export function mcpDialect(
  server: McpAuthorizationServer,
  hasClientSecret: boolean,
): Pick<
  ProviderDefinition,
  'authorizationURL' | 'tokenURL' | 'bodyEncoding' | 'clientAuthentication' | 'pkce' | 'defaultScope' | 'authorizationParams' | 'tokenParams'
> {
  return {
    authorizationURL: server.authorizationURL,
    tokenURL: server.tokenURL,
    bodyEncoding: 'form',
    clientAuthentication: hasClientSecret ? 'client_secret_post' : 'none',
    pkce: 'required',
    defaultScope: server.defaultScope,
    authorizationParams: { resource: server.resource },
    tokenParams: { resource: server.resource },
  };
}
