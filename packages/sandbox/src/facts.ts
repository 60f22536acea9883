/**
 * Each dialect's public facts, for suites that test strategies against the sandbox (conformance, the
 * example): what a login must look like, read from the dialect tables instead of written per provider.
 */
import { defaultClient } from './config';
import type { ClientAuthMethod, FlowDialect, Mark, PkceMethod, ProviderDialect, ResourceRoute } from './dialect';
import { dialectOf, resolveVariant, sandboxProviders, type SandboxVariant } from './endpoints';
import type { Grant } from './state';
import type { ProviderId, SandboxUser } from './types';

/** One configuration of a provider's strategy (its default or a variant) and the flow it drives. */
export interface SandboxVariantFacts {
  provider: ProviderId;
  /** `ontraport`, `ontraport (mcp)`, `customerio (eu)`: a test label. */
  label: string;
  /** The strategy options that select it; `{}` for the default. Pass to `sandboxEndpoints`. */
  variant: SandboxVariant;
  flow: FlowDialect['name'];
  /** Provenance of the flow. */
  mark: Mark;
  /** The path of the real provider's authorize endpoint (the sandbox mirrors it under `/<id>`). */
  authorizePath: string;
  /** The token request encoding the sandbox enforces. */
  tokenEncoding: FlowDialect['bodyEncoding'];
  clientAuth: ClientAuthMethod[];
  /** `sentByDefault`: the provider accepts PKCE (DOC/CODE) or requires it, so its strategy sends S256. */
  pkce: { required: boolean; methods: PkceMethod[]; mark: Mark; sentByDefault: boolean };
  /** The scopes the flow requires, which the strategy asks for by default (empty: no `scope` parameter). */
  defaultScope: string[];
  /** RFC 8707 `resource` required on authorize and token (MCP servers). */
  resourceRequired: boolean;
  /** The MCP authorization server's facts, when the flow has one. */
  authorizationServer?: { issParameter: boolean; resourcePath: string; scopesSupported: string[] };
  /**
   * A login (the token answer, or the identity endpoint `sandboxEndpoints` points the strategy at) hands
   * out the user's email, so the strategy's profile has it.
   */
  loginHasEmail: boolean;
}

export interface SandboxProviderFacts {
  id: ProviderId;
  displayName: string;
  /** The npm package of the provider's strategy. */
  strategyPackage: string;
  /** The sandbox's default client for the provider (demo credentials, not secrets). */
  client: { clientId: string; clientSecret: string };
  /** The demo user a login signs in as (before `users` overrides). */
  defaultUser: SandboxUser;
  /** Path (under `/<id>`) of the sample API endpoint, called with `Authorization: Bearer`. */
  apiPath: string;
  /** The default configuration first, then each variant alone. */
  variants: SandboxVariantFacts[];
}

const SAMPLE_TOKEN = 'sandbox-facts-sample-token';

/** Whether an answer the dialect renders for `user` carries the user's email. */
function carriesEmail(answer: unknown, user: SandboxUser): boolean {
  return JSON.stringify(answer).includes(JSON.stringify(user.email));
}

/** The identity resources a set of sandbox URL paths points at (the v1 path-token route by its prefix). */
function identityAt(dialect: ProviderDialect, paths: string[]): ResourceRoute[] {
  const prefix = (route: string) => route.replace(/\/:token$/, '');
  return dialect.resources.filter((r) => r.endpoint === 'identity' && paths.includes(prefix(r.path)));
}

function loginHasEmail(dialect: ProviderDialect, flow: FlowDialect, urlPaths: string[]): boolean {
  const user = dialect.defaultUser;
  const grant: Grant = { provider: dialect.id, flow: flow.name, clientId: 'facts', scopes: [], user };
  const ctx = { token: SAMPLE_TOKEN, grant, user, expiresIn: 60 };
  const tokenAnswer = flow.tokenResponse({ accessToken: SAMPLE_TOKEN, refreshToken: SAMPLE_TOKEN, expiresIn: 60, grant });
  if (carriesEmail(tokenAnswer, user)) return true;
  return identityAt(dialect, urlPaths).some((r) =>
    carriesEmail(r.kind === 'introspect' ? r.render({ ...ctx, tokenType: 'access' }) : r.render(ctx), user),
  );
}

function variantFacts(dialect: ProviderDialect, variant: SandboxVariant): SandboxVariantFacts {
  const { flow, urls } = resolveVariant(dialect, variant);
  const values = Object.values(variant);
  const urlPaths = Object.values(urls).filter((ref): ref is `/${string}` => ref !== null && ref.startsWith('/'));
  const as = flow.authorizationServer;
  return {
    provider: dialect.id,
    label: values.length ? `${dialect.id} (${values.join(', ')})` : dialect.id,
    variant: { ...variant },
    flow: flow.name,
    mark: flow.mark,
    authorizePath: flow.authorizePaths[0] as string,
    tokenEncoding: flow.bodyEncoding,
    clientAuth: [...flow.clientAuth],
    pkce: {
      required: flow.pkce.required,
      methods: [...flow.pkce.methods],
      mark: flow.pkce.mark,
      sentByDefault: flow.pkce.required || flow.pkce.mark === 'DOC' || flow.pkce.mark === 'CODE',
    },
    defaultScope: [...flow.requiredScopes],
    resourceRequired: flow.resourceRequired,
    ...(as ? { authorizationServer: { issParameter: as.issParameter, resourcePath: as.resourcePath, scopesSupported: [...as.scopesSupported] } } : {}),
    loginHasEmail: loginHasEmail(dialect, flow, urlPaths),
  };
}

/** A served provider's facts; a TypeError for an id the sandbox does not serve. */
export function sandboxFacts(providerId: string): SandboxProviderFacts {
  const dialect = dialectOf(providerId);
  const api = dialect.resources.find((r) => r.endpoint === 'api');
  if (!api) throw new TypeError(`@passport-martech/sandbox: ${dialect.id} has no sample API endpoint`);
  const { clientId, clientSecret } = defaultClient(dialect.id);
  return {
    id: dialect.id,
    displayName: dialect.displayName,
    strategyPackage: dialect.strategy.packageName,
    client: { clientId, clientSecret },
    defaultUser: { ...dialect.defaultUser },
    apiPath: api.path,
    variants: [{}, ...(dialect.strategy.variants ?? []).map((v) => v.options)].map((v) => variantFacts(dialect, v)),
  };
}

/** Every served provider's facts, in registry order. */
export function allSandboxFacts(): SandboxProviderFacts[] {
  return sandboxProviders().map(sandboxFacts);
}
