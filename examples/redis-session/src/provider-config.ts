/**
 * Each catalog provider's settings from its environment variables (see provider-variables.ts for the
 * names). In demo mode (a sandbox URL) every provider is configured, with the sandbox's demo client and
 * endpoints; a variable that is set still wins.
 */
import { sandboxEndpoints, sandboxFacts, sandboxUserinfoURL, sandboxVariants } from '@passport-martech/sandbox';
import { catalog, defaultApiBaseURL, type CatalogEntry, type ProviderId, type ProviderVariable } from './catalog';
import { parseScope, type EnvReader } from './env';
import { commonVariable, envVariable } from './provider-variables';

/** What every provider takes; URLs override the package defaults ("only URLs change" for a sandbox). */
export interface ProviderSettings {
  clientID: string;
  /** Absent only for public clients of an MCP authorization server. */
  clientSecret?: string;
  scope?: string[];
  authorizationURL?: string;
  tokenURL?: string;
  userProfileURL?: string;
  revocationURL?: string;
  /** Base of the provider's REST API, used by "Call the API". */
  apiBaseURL: string;
  /** Milliseconds per request to the provider (token, profile, API call). */
  timeoutMs: number;
  /** The provider's own options, by strategy option name (`region`, `instanceURL`, `authServer`, ...). */
  [option: string]: unknown;
}

export type ProvidersConfig = Partial<Record<ProviderId, ProviderSettings>>;

/** Every configured provider (all of them in demo mode), in catalog order. */
export function readProviders(r: EnvReader, sandboxUrl: string | undefined, timeoutMs: number): ProvidersConfig {
  const providers: ProvidersConfig = {};
  for (const entry of catalog) {
    const settings = readProvider(r, entry, sandboxUrl, timeoutMs);
    if (settings) providers[entry.id] = settings;
  }
  return providers;
}

/**
 * The strategy options that point a provider at the sandbox (the sandbox derives them from its dialect
 * tables), for the variant these options choose (e.g. `authServer: 'mcp'`). A provider that documents no
 * identity endpoint gets the sandbox's own `/userinfo`.
 */
function sandboxSettings(sandboxUrl: string, id: ProviderId, options: Readonly<Record<string, unknown>>): Record<string, string> {
  const chosen = sandboxVariants(id).filter((variant) => Object.entries(variant).every(([key, value]) => options[key] === value));
  const endpoints = sandboxEndpoints(sandboxUrl, id, Object.assign({}, ...chosen));
  const userProfileURL = endpoints.userProfileURL ?? sandboxUserinfoURL(sandboxUrl, id);
  return userProfileURL ? { ...endpoints, userProfileURL } : endpoints;
}

function readVariable(r: EnvReader, name: string, variable: ProviderVariable): string | undefined {
  const { check } = variable;
  switch (check.kind) {
    case 'choice':
      return r.oneOf(name, check.choices, check.choices[0]);
    case 'url':
      return r.url(name);
    case 'pattern':
      return r.matching(name, check.pattern, check.mustBe);
  }
}

function readProvider(r: EnvReader, entry: CatalogEntry<ProviderId>, sandboxUrl: string | undefined, timeoutMs: number): ProviderSettings | undefined {
  const idVariable = commonVariable(entry, 'clientID');
  const secretVariable = commonVariable(entry, 'clientSecret');
  let clientID = r.get(idVariable);
  let clientSecret = r.get(secretVariable);
  if (clientID === undefined && sandboxUrl !== undefined) {
    // The sandbox's default client (demo credentials, not secrets).
    const { client } = sandboxFacts(entry.id);
    clientID = client.clientId;
    clientSecret ??= client.clientSecret;
  }
  if (clientID === undefined) {
    if (clientSecret !== undefined) r.problems.push(`${secretVariable} is set but ${idVariable} is not: set both to enable ${entry.name}`);
    return undefined;
  }

  // The provider's own variables come first (one of them may make a public client), but a missing secret
  // is listed before their problems: it is the first thing to fix.
  const beforeOptions = r.problems.length;
  const options: Record<string, unknown> = {};
  for (const variable of entry.variables) {
    const value = readVariable(r, envVariable(entry, variable.suffix), variable);
    if (value !== undefined) options[variable.option] = value;
  }
  if (clientSecret === undefined && !entry.isPublicClient?.(options)) {
    r.problems.splice(beforeOptions, 0, `${secretVariable} is required when ${idVariable} is set`);
  }

  const sandbox: Record<string, string | undefined> = sandboxUrl ? sandboxSettings(sandboxUrl, entry.id, options) : {};
  for (const variable of entry.variables) {
    const name = envVariable(entry, variable.suffix);
    options[variable.option] ??= sandbox[variable.option];
    if (variable.requiredHint !== undefined && options[variable.option] === undefined && r.get(name) === undefined) {
      r.problems.push(`${name} is required when ${idVariable} is set (${variable.requiredHint})`);
    }
  }
  const url = (setting: 'authorizationURL' | 'tokenURL' | 'userProfileURL' | 'revocationURL' | 'apiBaseURL') => r.url(commonVariable(entry, setting)) ?? sandbox[setting];
  return {
    // Whatever else the sandbox needs (an MCP `resource`), then the provider's own options.
    ...sandbox,
    ...options,
    clientID,
    clientSecret,
    timeoutMs,
    scope: parseScope(r.get(commonVariable(entry, 'scope'))),
    authorizationURL: url('authorizationURL'),
    tokenURL: url('tokenURL'),
    userProfileURL: url('userProfileURL'),
    revocationURL: url('revocationURL'),
    apiBaseURL: url('apiBaseURL') ?? defaultApiBaseURL(entry, options) ?? '',
  };
}
