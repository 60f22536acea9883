import {
  McpOptions,
  ProviderDefinition,
  RegistrableStrategyOptions,
  checkOneOf,
  mcpDialect,
  providerStrategy,
  usesMcp,
} from '@passport-martech/oauth2/provider-kit';
import { parseCustomerIoError } from './errors';
import { CustomerIoProfile } from './profile';

const PACKAGE = '@passport-martech/customerio';

/** DOC: the dashboard host serves both regions; GUIDE: the guides put the consent page on it. */
export const GUIDE_AUTHORIZATION_URL = 'https://fly.customer.io/oauth/authorize';

/** DOC: the App API bases per region. */
export const API_BASE_URLS = {
  us: 'https://api.customer.io/v1',
  eu: 'https://api-eu.customer.io/v1',
} as const;
/** GUIDE: the guides put the token endpoint at `/v1/oauth/token` on the App API hosts (DOC hosts). */
export const GUIDE_TOKEN_URLS = {
  us: 'https://api.customer.io/v1/oauth/token',
  eu: 'https://api-eu.customer.io/v1/oauth/token',
} as const;
export const GUIDE_DEFAULT_SCOPE = 'full_access'; // GUIDE

/** CODE: the OAuth server in front of Customer.io's MCP server. */
export const MCP_AUTHORIZATION_URL = 'https://mcp.customer.io/oauth2/authorize';
export const MCP_TOKEN_URL = 'https://mcp.customer.io/oauth2/token';
/** RFC 7009 revocation (CODE: the server's published metadata names it as `revocation_endpoint`; docs/providers.md). */
export const MCP_REVOCATION_URL = 'https://mcp.customer.io/oauth2/revoke';
/**
 * CODE: the issuer of the MCP authorization server (the host of its endpoints). `discovery: true` reads
 * `https://mcp.customer.io/.well-known/oauth-authorization-server` (RFC 8414) and checks that the document names this
 * issuer; the `issuer` option overrides it.
 */
export const MCP_ISSUER = 'https://mcp.customer.io';
/**
 * DOC: the MCP server's URL, which its protected-resource metadata (RFC 9728) names as the resource
 * (docs/providers.md). A strict server refuses any other value (`invalid_target`). The EU server is
 * `https://mcp-eu.customer.io/mcp` (DOC); where its authorization server lives is UNK, so EU apps set
 * `resource`, `authorizationURL` and `tokenURL` from its metadata.
 */
export const MCP_RESOURCE = 'https://mcp.customer.io/mcp';
/**
 * DOC (the authorization server's published metadata, `scopes_supported`): what an MCP connection can
 * ask for with `scope`. None is requested by default: the server then grants its own default.
 */
export const MCP_SCOPES = ['configure', 'read', 'read:sensitive', 'write', 'write:live'] as const;

export type CustomerIoRegion = keyof typeof API_BASE_URLS;

/**
 * `clientID` is required, except with `authServer: 'mcp'`, where leaving it out registers a client
 * (RFC 7591; see "MCP connections" in the README).
 */
export interface CustomerIoStrategyOptions
  extends RegistrableStrategyOptions,
    Pick<McpOptions, 'discovery' | 'issuer' | 'metadataURL' | 'metadataTtlMs' | 'registration' | 'connectionOnly'> {
  /**
   * `us` (default) or `eu`: moves the token endpoint and API host to api-eu.customer.io (DOC hosts). Any
   * string is accepted by the type (`process.env.CUSTOMERIO_REGION || 'us'` compiles); another value is a
   * TypeError naming `region`.
   */
  region?: CustomerIoRegion | (string & {});
  /** `guide` (default): the guides' flow, JSON token body. `mcp`: Customer.io's MCP authorization server. */
  authServer?: 'guide' | 'mcp';
  /** MCP only: the resource indicator sent on both requests. */
  resource?: string;
  /** Base for API calls made with the tokens (not used by the login). Default from `region`: `https://api.customer.io/v1`. */
  apiBaseURL?: string;
}

function definition(options: CustomerIoStrategyOptions): ProviderDefinition {
  const region = regionOf(options);
  const common = { name: 'customerio', packageName: PACKAGE, scopeSeparator: ' ', apiBaseURL: API_BASE_URLS[region], parseError: parseCustomerIoError };
  if (usesMcp(PACKAGE, options)) {
    const server = { authorizationURL: MCP_AUTHORIZATION_URL, tokenURL: MCP_TOKEN_URL, revocationURL: MCP_REVOCATION_URL, resource: MCP_RESOURCE, issuer: MCP_ISSUER };
    return { ...common, ...mcpDialect(PACKAGE, server, options) };
  }
  return {
    ...common,
    authorizationURL: GUIDE_AUTHORIZATION_URL,
    tokenURL: GUIDE_TOKEN_URLS[region],
    bodyEncoding: 'json', // GUIDE
    clientAuthentication: 'client_secret_post', // GUIDE
    defaultScope: [GUIDE_DEFAULT_SCOPE],
    pkce: false, // UNK for the guide's server; `pkce: true` turns it on
  };
}

function regionOf(options: CustomerIoStrategyOptions): CustomerIoRegion {
  return checkOneOf(PACKAGE, 'region', options.region ?? 'us', Object.keys(API_BASE_URLS) as CustomerIoRegion[]);
}

/**
 * Passport strategy for Customer.io. The profile comes from identity fields of the token response
 * (`user_id`, `account_id`, `email`; Customer.io documents no identity endpoint, UNK), or from
 * `userProfileURL` when you set one.
 */
export class CustomerIoStrategy extends providerStrategy<CustomerIoStrategyOptions, CustomerIoProfile>(PACKAGE, definition) {
  readonly region: CustomerIoRegion = regionOf(this.options);
  declare readonly apiBaseURL: string;
}

export { CustomerIoStrategy as Strategy };
export default CustomerIoStrategy;
