import {
  AnyVerifyFunction,
  ProviderDefinition,
  ProviderStrategy,
  RegistrableStrategyOptions,
  McpOptions,
  VerifyFunction,
  VerifyFunctionWithParams,
  VerifyFunctionWithRequest,
  VerifyFunctionWithRequestAndParams,
  WithRequest,
  WithoutRequest,
  checkOneOf,
  checkEndpointURL,
  mcpDialect,
  usesMcp,
} from '@passport-martech/oauth2';
import { parseCustomerIoError } from './errors';
import { CustomerIoProfile } from './profile';

const PACKAGE = '@passport-martech/customerio';

/** DOC: the dashboard host serves both regions; GUIDE: the guides put the consent page on it. */
export const GUIDE_AUTHORIZATION_URL = 'https://fly.customer.io/oauth/authorize';

/** DOC: the App API hosts per region. GUIDE: the guides put the token endpoint at `/v1/oauth/token` on them. */
export const API_HOSTS = {
  us: 'https://api.customer.io',
  eu: 'https://api-eu.customer.io',
} as const;
export const GUIDE_TOKEN_PATH = '/v1/oauth/token';
export const GUIDE_SCOPE = 'full_access'; // GUIDE

/** CODE: the OAuth server in front of Customer.io's MCP server. */
export const MCP_AUTHORIZATION_URL = 'https://mcp.customer.io/oauth2/authorize';
export const MCP_TOKEN_URL = 'https://mcp.customer.io/oauth2/token';
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

export type CustomerIoRegion = keyof typeof API_HOSTS;

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

function customerIoDefinition(options: CustomerIoStrategyOptions): ProviderDefinition {
  const region = checkOneOf(PACKAGE, 'region', options.region ?? 'us', Object.keys(API_HOSTS) as CustomerIoRegion[]);
  const common = { name: 'customerio', packageName: PACKAGE, scopeSeparator: ' ', parseError: parseCustomerIoError };
  if (usesMcp(PACKAGE, options)) {
    const server = { authorizationURL: MCP_AUTHORIZATION_URL, tokenURL: MCP_TOKEN_URL, resource: MCP_RESOURCE, issuer: MCP_ISSUER };
    return { ...common, ...mcpDialect(PACKAGE, server, options) };
  }
  return {
    ...common,
    authorizationURL: GUIDE_AUTHORIZATION_URL,
    tokenURL: `${API_HOSTS[region]}${GUIDE_TOKEN_PATH}`,
    bodyEncoding: 'json', // GUIDE
    clientAuthentication: 'client_secret_post', // GUIDE
    defaultScope: [GUIDE_SCOPE],
    pkce: false, // UNK for the guide's server; `pkce: true` turns it on
  };
}

/**
 * Passport strategy for Customer.io. The profile comes from identity fields of the token response
 * (`user_id`, `account_id`, `email`; Customer.io documents no identity endpoint, UNK), or from
 * `userProfileURL` when you set one.
 */
export class CustomerIoStrategy extends ProviderStrategy<CustomerIoStrategyOptions> {
  readonly region: CustomerIoRegion;
  readonly apiBaseURL: string;

  constructor(options: CustomerIoStrategyOptions & WithoutRequest, verify: VerifyFunction<CustomerIoProfile>);
  constructor(options: CustomerIoStrategyOptions & WithoutRequest, verify: VerifyFunctionWithParams<CustomerIoProfile>);
  constructor(options: CustomerIoStrategyOptions & WithRequest, verify: VerifyFunctionWithRequest<CustomerIoProfile>);
  constructor(options: CustomerIoStrategyOptions & WithRequest, verify: VerifyFunctionWithRequestAndParams<CustomerIoProfile>);
  // Options typed as the wide interface (passReqToCallback?: boolean): annotate the verify parameters.
  constructor(options: CustomerIoStrategyOptions, verify: AnyVerifyFunction<CustomerIoProfile>);
  constructor(options: CustomerIoStrategyOptions, verify: AnyVerifyFunction<CustomerIoProfile>) {
    super(customerIoDefinition(options ?? {}), options, verify);
    this.region = (options.region ?? 'us') as CustomerIoRegion; // checked by customerIoDefinition
    this.apiBaseURL = checkEndpointURL(PACKAGE, 'apiBaseURL', options.apiBaseURL ?? `${API_HOSTS[this.region]}/v1`, options);
  }
}

export { CustomerIoStrategy as Strategy };
export default CustomerIoStrategy;
