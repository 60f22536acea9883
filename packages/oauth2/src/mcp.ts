import { METADATA_TTL_MS, metadataURLFor } from './mcp-discovery';
import type { RegistrationOptions } from './mcp-registration';
import { InsecureHttpOption, checkEndpointURL, checkOneOf, optionError } from './options';
import type { ProviderDefinition } from './strategy';

/** Where a provider's MCP authorization server lives and what it protects. */
export interface McpAuthorizationServer {
  authorizationURL: string;
  tokenURL: string;
  /** RFC 7009 revocation endpoint (a discovered `revocation_endpoint` wins when discovery is on). */
  revocationURL?: string;
  /** RFC 8707 resource indicator: the MCP server the tokens are for. */
  resource: string;
  defaultScope?: readonly string[];
  /** The server's issuer: `discovery: true` reads `<issuer>/.well-known/oauth-authorization-server` (RFC 8414). */
  issuer?: string;
}

/** What an MCP strategy does before a login: discovery, registration, the `iss` check, its identity mode. */
export interface McpSetup {
  /** The RFC 8414 document to read, or undefined when discovery is off. */
  metadataURL?: string;
  /** The issuer the document must name (undefined when the app gave `metadataURL` itself). */
  issuer?: string;
  metadataTtlMs: number;
  /** Dynamic registration (no `clientID` given). */
  registration?: RegistrationOptions;
  /** No profile: the login links a connection to a user who is already signed in. */
  connectionOnly: boolean;
}

/** The options of a provider that runs both the guides' server and an MCP authorization server. */
export interface McpOptions extends InsecureHttpOption {
  /** `guide` (default) or `mcp`. */
  authServer?: 'guide' | 'mcp';
  /** MCP only: overrides the server's resource indicator. */
  resource?: string;
  clientID?: string | undefined;
  clientSecret?: string | undefined;
  callbackURL?: string | undefined;
  /**
   * MCP only. `true`: read the endpoints from the server's RFC 8414 metadata at the built-in issuer
   * (cached for `metadataTtlMs`); the `iss` of each authorization response is then checked (RFC 9207).
   * Off by default: the built-in endpoints are used. Set by `issuer`, `metadataURL` and registration.
   */
  discovery?: boolean;
  /** MCP only: the authorization server's issuer (discovery reads its RFC 8414 document). */
  issuer?: string;
  /** MCP only: the exact URL of the metadata document (its `issuer` is then what `iss` is checked against). */
  metadataURL?: string;
  /** MCP only: how long a metadata document is used, in milliseconds (default one hour). */
  metadataTtlMs?: number;
  /** MCP only, without `clientID`: RFC 7591 dynamic registration and where the client is kept. */
  registration?: RegistrationOptions;
  /**
   * MCP only. `true`: the login links a connection and builds no profile (the verify callback gets
   * `undefined`); use it with `passport.authorize()` for a user who is already signed in.
   */
  connectionOnly?: boolean;
}

/** True when `options.authServer` picks the MCP server; a TypeError names any other value. */
export function usesMcp(owner: string, options: McpOptions): boolean {
  return checkOneOf(owner, 'authServer', options.authServer ?? 'guide', ['guide', 'mcp'] as const) === 'mcp';
}

/**
 * The dialect of the MCP authorization servers (a provider package may run one): OAuth 2.1, so a
 * form-encoded token body, PKCE S256 required, and the `resource` sent with both the authorization and
 * the token request (MCP authorization spec). A client without a secret is a public client (`none`).
 */
export function mcpDialect(
  owner: string,
  server: McpAuthorizationServer,
  options: McpOptions,
): Pick<
  ProviderDefinition,
  'authorizationURL' | 'tokenURL' | 'revocationURL' | 'bodyEncoding' | 'clientAuthentication' | 'pkce' | 'defaultScope' | 'authorizationParams' | 'tokenParams' | 'mcp'
> {
  // The resource is the MCP server the tokens are sent to: https like every endpoint.
  const resource = checkEndpointURL(owner, 'resource', options.resource ?? server.resource, options);
  const hasClientSecret = typeof options.clientSecret === 'string' && options.clientSecret !== '';
  return {
    authorizationURL: server.authorizationURL,
    tokenURL: server.tokenURL,
    revocationURL: server.revocationURL,
    bodyEncoding: 'form',
    clientAuthentication: hasClientSecret ? 'client_secret_post' : 'none',
    pkce: 'required',
    defaultScope: server.defaultScope,
    authorizationParams: { resource },
    tokenParams: { resource },
    mcp: mcpSetup(owner, server, options),
  };
}

function mcpSetup(owner: string, server: McpAuthorizationServer, options: McpOptions): McpSetup {
  for (const flag of ['discovery', 'connectionOnly'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') throw optionError(owner, flag, 'must be true or false');
  }
  const register = options.clientID === undefined;
  if (register && options.registration !== undefined && (typeof options.registration !== 'object' || options.registration === null)) {
    throw optionError(owner, 'registration', 'must be an object ({ store, clientName?, tokenEndpointAuthMethod?, key? })');
  }
  if (!register && options.registration !== undefined) throw optionError(owner, 'registration', 'cannot be combined with clientID (registration is for apps without one)');
  if (register && !/^https?:/i.test(String(options.callbackURL ?? ''))) {
    throw optionError(owner, 'callbackURL', 'must be an absolute URL when the client registers itself (it is the registered redirect URI)');
  }
  const ttl = options.metadataTtlMs ?? METADATA_TTL_MS;
  if (!Number.isInteger(ttl) || ttl < 0) throw optionError(owner, 'metadataTtlMs', 'must be a whole number of milliseconds');
  const issuer = options.issuer === undefined ? server.issuer : checkEndpointURL(owner, 'issuer', options.issuer, options);
  const metadataURL = options.metadataURL === undefined ? undefined : checkEndpointURL(owner, 'metadataURL', options.metadataURL, options);
  // Registration needs the registration_endpoint, which only the metadata names.
  const discover = options.discovery === true || options.issuer !== undefined || metadataURL !== undefined || register;
  if (discover && !metadataURL && !issuer) throw optionError(owner, 'issuer', 'is required for discovery (this server has no built-in issuer)');
  return {
    metadataURL: discover ? (metadataURL ?? metadataURLFor(issuer as string)) : undefined,
    issuer: discover && !metadataURL ? issuer : undefined,
    metadataTtlMs: ttl,
    registration: register ? { ...options.registration } : undefined,
    connectionOnly: options.connectionOnly === true,
  };
}
