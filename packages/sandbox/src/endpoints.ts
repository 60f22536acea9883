/**
 * Where each provider lives in a sandbox, derived from the dialect tables: the strategy options that point
 * a provider's strategy at a sandbox (`sandboxEndpoints`), and the served ids. The dialect tables are the
 * one place sandbox paths are written; everything else (the example, conformance, the bench, test
 * fixtures) asks here.
 */
import type { FlowDialect, ProviderDialect, SandboxURLRef, StrategyVariant } from './dialect';
import { PROVIDER_IDS, PROVIDERS, type ProviderId } from './providers';
import { SANDBOX_USERINFO_PATH } from './providers/common';

/** Strategy options that select an alternative configuration, e.g. `{ authServer: 'mcp' }` or `{ region: 'eu' }`. */
export type SandboxVariant = Record<string, string>;

/** The provider ids the sandbox serves, in registry order. */
export function sandboxProviders(): ProviderId[] {
  return [...PROVIDER_IDS];
}

function fail(message: string): never {
  throw new TypeError(`@passport-martech/sandbox: ${message}`);
}

/** The dialect of a served provider; a TypeError naming the served ones otherwise. */
export function dialectOf(providerId: string): ProviderDialect {
  if (!Object.prototype.hasOwnProperty.call(PROVIDERS, providerId)) {
    fail(`unknown provider "${providerId}" (the sandbox serves ${PROVIDER_IDS.join(', ')})`);
  }
  return PROVIDERS[providerId as ProviderId];
}

/** Every variant a provider's strategy offers, as the options that select it (the default not included). */
export function sandboxVariants(providerId: string): SandboxVariant[] {
  return (dialectOf(providerId).strategy.variants ?? []).map((v) => ({ ...v.options }));
}

export interface ResolvedVariant {
  flow: FlowDialect;
  urls: Record<string, SandboxURLRef | null>;
  /** The declared variants `variant` selects (empty for the default). */
  selected: StrategyVariant[];
}

/**
 * The flow and URL options of a variant: the default's, with every declared variant whose options are all
 * in `variant` merged over them. An option value no declared variant knows is a TypeError.
 */
export function resolveVariant(dialect: ProviderDialect, variant: SandboxVariant = {}): ResolvedVariant {
  const declared = dialect.strategy.variants ?? [];
  const selected = declared.filter((v) => Object.entries(v.options).every(([k, value]) => variant[k] === value));
  for (const [key, value] of Object.entries(variant)) {
    if (!selected.some((v) => v.options[key] === value)) {
      const known = declared.map((v) => JSON.stringify(v.options)).join(', ') || 'none';
      fail(`${dialect.id} has no variant ${JSON.stringify({ [key]: value })} (known: ${known})`);
    }
  }
  const flowName = selected.reduce<FlowDialect['name']>((name, v) => v.flow ?? name, 'main');
  const flow = dialect.flows.find((f) => f.name === flowName) ?? fail(`${dialect.id} has no ${flowName} flow`);
  const urls = selected.reduce<Record<string, SandboxURLRef | null>>((all, v) => ({ ...all, ...v.urls }), { ...dialect.strategy.urls });
  return { flow, urls, selected };
}

function urlOf(ref: SandboxURLRef, base: string, flow: FlowDialect, dialect: ProviderDialect): string {
  if (ref === 'base') return base;
  if (ref === 'authorize') return `${base}${flow.authorizePaths[0]}`;
  if (ref === 'token') return `${base}${flow.tokenPaths[0]}`;
  if (ref === 'revocation') {
    const path = flow.revocationPaths?.[0] ?? flow.authorizationServer?.revocationPath ?? fail(`${dialect.id} ${flow.name} flow has no revocation endpoint`);
    return `${base}${path}`;
  }
  if (ref === 'resource') {
    const as = flow.authorizationServer ?? fail(`${dialect.id} ${flow.name} flow has no MCP resource`);
    return `${base}${as.resourcePath}`;
  }
  return `${base}${ref}`;
}

/**
 * The options that point `providerId`'s strategy at a sandbox running at `baseURL`, under the exact
 * option names that strategy takes (`authorizationURL`, `tokenURL`, `userProfileURL`, `apiBaseURL`,
 * `instanceURL`, `resource`, ...), plus the `variant` options themselves. Spread them into the strategy's
 * options: `new XStrategy({ clientID, clientSecret, callbackURL, ...sandboxEndpoints(url, 'x') }, verify)`.
 */
export function sandboxEndpoints(baseURL: string, providerId: string, variant: SandboxVariant = {}): Record<string, string> {
  const dialect = dialectOf(providerId);
  const { flow, urls } = resolveVariant(dialect, variant);
  const base = `${baseURL.replace(/\/+$/, '')}/${dialect.id}`;
  const options: Record<string, string> = { ...variant };
  for (const [option, ref] of Object.entries(urls)) if (ref !== null) options[option] = urlOf(ref, base, flow, dialect);
  return options;
}

/**
 * SANDBOX-ONLY: the `GET /userinfo` identity endpoint of a provider that documents none (see
 * src/providers/common.ts), for a strategy's `userProfileURL` option; undefined when the dialect has none.
 */
export function sandboxUserinfoURL(baseURL: string, providerId: string): string | undefined {
  const dialect = dialectOf(providerId);
  // That route only: a provider's real Bearer identity endpoint (an API call with its own rules) is not it.
  const userinfo = dialect.resources.find((r) => r.kind === 'bearer' && r.path === SANDBOX_USERINFO_PATH);
  return userinfo && `${baseURL.replace(/\/+$/, '')}/${dialect.id}${userinfo.path}`;
}
