/**
 * The cases every conformance test iterates: each provider of the example's catalog (how to build its
 * strategy) times each configuration its sandbox dialect offers (the default and every variant), with
 * what its redirect and login must look like read from the dialect's facts. No provider is named here:
 * a provider added to the catalog and the sandbox is in every suite that iterates `providerCases`.
 */
import { catalog, requiredExampleOptions, type CatalogEntry, type StrategySettings } from '@passport-martech/example-redis-session/catalog';
import type { ProviderStrategy } from '@passport-martech/oauth2';
import { sandboxEndpoints, sandboxFacts, type SandboxProviderFacts, type SandboxVariantFacts } from '@passport-martech/sandbox';

/** Settings every case shares: the sandbox's default client for the provider, and the app's callback. */
export interface CaseSettings {
  clientID: string;
  clientSecret: string;
  callbackURL: string;
  timeout?: number;
  state?: unknown;
}

type Verify = (...args: never[]) => unknown;

/** One provider configuration, as data: how to build it, and what its redirect and login must look like. */
export interface ProviderCase {
  /** Test label, e.g. `ontraport (mcp)`. */
  label: string;
  /** Strategy name and sandbox path prefix. */
  id: string;
  entry: CatalogEntry;
  facts: SandboxProviderFacts;
  flow: SandboxVariantFacts;
  /** With the provider's real default endpoints (no sandbox); the options a real deployment must set, from the catalog. */
  withDefaults(settings: CaseSettings, verify: Verify): ProviderStrategy;
  /** Pointed at a sandbox: only URLs change. */
  atSandbox(sandboxURL: string, settings: CaseSettings, verify: Verify): ProviderStrategy;
  /** What the default redirect must be: the dialect mirrors the real provider's authorize path and rules. */
  redirect: { pathname: string; scope: string | null; pkce: boolean; resource: boolean };
  /** The token request encoding the sandbox enforces. */
  encoding: 'form' | 'json';
  /** The profile a sandbox login must produce (partial match). */
  profile: Record<string, unknown>;
}

function caseOf(entry: CatalogEntry, facts: SandboxProviderFacts, flow: SandboxVariantFacts): ProviderCase {
  const build = (options: Record<string, unknown>, verify: Verify) => entry.createStrategy(options as unknown as StrategySettings, verify as never);
  return {
    label: flow.label,
    id: entry.id,
    entry,
    facts,
    flow,
    withDefaults: (s, v) => build({ ...requiredExampleOptions(entry), ...flow.variant, ...s }, v),
    atSandbox: (url, s, v) => build({ ...s, ...sandboxEndpoints(url, entry.id, flow.variant) }, v),
    redirect: {
      pathname: flow.authorizePath,
      scope: flow.defaultScope.length ? flow.defaultScope.join(' ') : null,
      pkce: flow.pkce.sentByDefault,
      resource: flow.resourceRequired,
    },
    encoding: flow.tokenEncoding,
    profile: {
      provider: entry.id,
      ...(flow.loginHasEmail ? { emails: [expect.objectContaining({ value: facts.defaultUser.email })] } : {}),
    },
  };
}

/** Every catalog provider, each configuration its dialect offers. */
export const providerCases: ProviderCase[] = catalog.flatMap((entry) => {
  const facts = sandboxFacts(entry.id);
  return facts.variants.map((flow) => caseOf(entry, facts, flow));
});

/** The cases whose flow is an MCP authorization server (discovery, registration, `iss`). */
export const mcpCases = providerCases.filter((c) => c.flow.authorizationServer !== undefined);
