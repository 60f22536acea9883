/**
 * The shape of a provider dialect. Each provider is one table of this type (src/providers/<id>.ts); the
 * engine (src/engine.ts) turns any table into routes. Differences between providers are data here, or a
 * small render function where the provider's JSON differs.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { BodyEncoding } from './body';
import type { ErrorShape } from './errors';
import type { Grant } from './state';
import type { ProviderId, SandboxUser } from './types';

/** Provenance of a fact, as in docs/providers.md. */
export type Mark = 'DOC' | 'CODE' | 'GUIDE' | 'UNK';

export type ClientAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'none';
export type PkceMethod = 'S256' | 'plain';

/** What a token response builder gets. */
export interface TokenResponseInput {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  grant: Grant;
}

/** One authorization-code flow: its authorize and token endpoints and their rules. */
export interface FlowDialect {
  /** `main` for a provider's only or guide flow, `mcp` for an MCP authorization server. */
  name: 'main' | 'mcp';
  mark: Mark;
  /**
   * The first path also hosts the consent form's `<path>/decision` route. A path may carry `:accountId`,
   * which pins the account the grant is for (HubSpot).
   */
  authorizePaths: string[];
  tokenPaths: string[];
  bodyEncoding: BodyEncoding;
  clientAuth: ClientAuthMethod[];
  /**
   * `mark`: where PKCE support comes from. DOC/CODE: the provider accepts it, so its strategy sends it by
   * default; UNK: nothing public says so and only the sandbox accepts it (the strategy leaves it off).
   */
  pkce: { required: boolean; methods: PkceMethod[]; mark: Mark };
  /** RFC 8707 `resource` REQUIRED on authorize and token (MCP authorization servers). */
  resourceRequired: boolean;
  /**
   * Scopes that must be among the requested ones (invalid_scope otherwise); the provider's strategy asks
   * for exactly these by default.
   */
  requiredScopes: string[];
  /** A second scope parameter granted too (HubSpot `optional_scope`). */
  optionalScopeParam?: string;
  /** Overrides the provider's error shape for this flow's token endpoint. */
  errorShape?: ErrorShape;
  tokenResponse(input: TokenResponseInput): Record<string, unknown>;
  /** An MCP authorization server's discovery, registration, revocation and `iss` (src/mcp-server.ts). */
  authorizationServer?: AuthorizationServerDialect;
  /** RFC 7009 revocation endpoints of a flow that is not an MCP authorization server (form body, the flow's client auth). */
  revocationPaths?: string[];
}

/**
 * What an MCP authorization server publishes (RFC 8414 metadata, RFC 9728 protected-resource metadata)
 * and offers (RFC 7591 registration, RFC 7009 revocation, RFC 9207 `iss`). Paths are under the
 * provider's base; the issuer is the provider's base URL.
 */
export interface AuthorizationServerDialect {
  mark: Mark;
  registrationPath: string;
  revocationPath: string;
  /** The protected MCP server the tokens are for (`resource` in its metadata). */
  resourcePath: string;
  scopesSupported: string[];
  /** RFC 9207: `iss` on every authorization response, and `authorization_response_iss_parameter_supported`. */
  issParameter: boolean;
}

/** A protected-resource answer (identity or sample API). */
export interface ResourceAnswer {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
}

export type TokenProblem = 'missing' | 'invalid' | 'expired';

export interface BearerResourceContext {
  token: string;
  grant: Grant;
  user: SandboxUser;
  /** Seconds the access token has left. */
  expiresIn: number;
  /** This request counted against the route's `rateLimit` (per sandbox; cleared by reset). */
  rateLimit?: { limit: number; remaining: number; resetSeconds: number };
}

export interface IntrospectContext {
  token: string;
  grant: Grant;
  user: SandboxUser;
  tokenType: 'access' | 'refresh';
  /** Access tokens only. */
  expiresIn?: number;
}

/** A GET route that takes `Authorization: Bearer` (sample API, sandbox-only userinfo). */
export interface BearerResource {
  kind: 'bearer';
  path: string;
  endpoint: 'identity' | 'api';
  mark: Mark;
  /** A fixed-window request limit the provider reports (the sandbox never refuses over it). */
  rateLimit?: { limit: number; windowMs: number };
  /**
   * A rule on the request besides the token (a required API-version header, say), checked before the
   * token: the provider's answer to a request that breaks it, or undefined to go on.
   */
  checkRequest?(headers: IncomingHttpHeaders): ResourceAnswer | undefined;
  render(ctx: BearerResourceContext): ResourceAnswer;
  /** The provider's answer to a missing, unknown or expired token. */
  unauthorized(problem: TokenProblem): ResourceAnswer;
}

/** HubSpot v1 `GET .../access-tokens/:token`: the token is a path segment. */
export interface PathTokenResource {
  kind: 'path-token';
  path: string;
  endpoint: 'identity';
  mark: Mark;
  render(ctx: BearerResourceContext): ResourceAnswer;
  unauthorized(problem: TokenProblem): ResourceAnswer;
}

/** RFC 7662 token introspection: form body with client credentials and `token`. */
export interface IntrospectResource {
  kind: 'introspect';
  path: string;
  endpoint: 'identity';
  mark: Mark;
  /** `ctx` undefined: the token is unknown or expired (`{ active: false }`). */
  render(ctx: IntrospectContext | undefined): ResourceAnswer;
}

export type ResourceRoute = BearerResource | PathTokenResource | IntrospectResource;

/** Marketo's client-credentials token endpoint: parameters in the query string, GET or POST. */
export interface ClientCredentialsDialect {
  path: string;
  mark: Mark;
  render(input: { accessToken: string; expiresIn: number; user: SandboxUser }): Record<string, unknown>;
}

/**
 * A sandbox URL that a strategy option takes: `base` is the provider's base (`<sandbox>/<id>`),
 * `authorize`, `token` and `revocation` the first such path of the variant's flow, `resource` its MCP
 * resource, and a string starting with `/` that path under the base.
 */
export type SandboxURLRef = 'base' | 'authorize' | 'token' | 'revocation' | 'resource' | `/${string}`;

/**
 * One way to configure the provider's strategy package: its default, or an alternative selected by
 * strategy options (`{ authServer: 'mcp' }`, `{ region: 'eu' }`), and the URL options that point it at the
 * sandbox. `sandboxEndpoints()` (src/endpoints.ts) turns this into the options; no other file in the
 * repository writes a sandbox path.
 */
export interface StrategyVariant {
  /** The strategy options that select it, as the strategy takes them. */
  options: Record<string, string>;
  /** The flow it drives (default: that of the strategy's default, `main`). */
  flow?: FlowDialect['name'];
  /** Strategy option name -> the sandbox URL it takes; merged over the default's (`null`: none in this variant). */
  urls?: Record<string, SandboxURLRef | null>;
}

/** How the provider's strategy is pointed at the sandbox: its exact option names. */
export interface StrategyBinding {
  /** The npm package of the strategy these option names belong to. */
  packageName: string;
  /** Strategy option name -> the sandbox URL it takes, for the strategy's default configuration. */
  urls: Record<string, SandboxURLRef>;
  /** Alternatives the strategy offers (each one selectable alone or combined with others). */
  variants?: StrategyVariant[];
}

export interface ProviderDialect {
  /** The provider id: the sandbox path prefix, the strategy's name and its key in src/providers/index.ts. */
  id: ProviderId;
  displayName: string;
  defaultAccessTokenTtlSeconds: number;
  defaultUser: SandboxUser;
  /** Numeric user fields (HubSpot `user_id`/`hub_id`, Ontraport `account_id`) checked at start. */
  numericUserFields?: Array<'userId' | 'accountId'>;
  /** Error shape of the OAuth endpoints (and of faults, unknown routes and bad input). */
  errorShape: ErrorShape;
  flows: FlowDialect[];
  resources: ResourceRoute[];
  clientCredentials?: ClientCredentialsDialect;
  strategy: StrategyBinding;
}
