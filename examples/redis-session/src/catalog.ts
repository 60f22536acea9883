/**
 * The providers of the example, as data: the ONE list that the example (configuration, strategies,
 * pages, demo, tests), the conformance suite and the bench iterate. Adding a provider means adding a
 * record here (and its package to package.json); nothing else in the example names a provider. The
 * whole list of what adding a provider touches: docs/architecture.md ("Adding a provider").
 *
 * Published as `@passport-martech/example-redis-session/catalog`.
 */
import { Strategy as BoomTownStrategy, type BoomTownStrategyOptions } from '@passport-martech/boomtown';
import { Strategy as CustomerIoStrategy, type CustomerIoStrategyOptions } from '@passport-martech/customerio';
import { Strategy as HubSpotStrategy, type HubSpotStrategyOptions } from '@passport-martech/hubspot';
import { API_REVISION as KLAVIYO_API_REVISION, Strategy as KlaviyoStrategy, type KlaviyoStrategyOptions } from '@passport-martech/klaviyo';
import { Strategy as MarketoStrategy, type MarketoStrategyOptions } from '@passport-martech/marketo';
import type { AnyVerifyFunction, Profile, ProviderStrategy, StateClaimStore } from '@passport-martech/oauth2';
import { Strategy as OntraportStrategy, type OntraportStrategyOptions } from '@passport-martech/ontraport';

/**
 * The options a catalog entry builds its strategy from: what every strategy takes, plus the
 * provider-specific ones under their strategy option names (`instanceURL`, `region`, `authServer`, ...,
 * as `sandboxEndpoints()` and `CatalogEntry.variables` name them). Unset options are left out.
 */
export interface StrategySettings {
  clientID: string;
  /** Absent only for public clients of an MCP authorization server. */
  clientSecret?: string;
  callbackURL: string;
  scope?: string[];
  authorizationURL?: string;
  tokenURL?: string;
  userProfileURL?: string;
  /** Base of the provider's REST API (the strategies' one name for it). */
  apiBaseURL?: string;
  /** Milliseconds per request to the provider. */
  timeout?: number;
  passReqToCallback?: boolean;
  stateClaims?: StateClaimStore;
  [option: string]: unknown;
}

/** A verify callback of any of the four passport shapes (with or without req and params). */
export type CatalogVerify = AnyVerifyFunction<Profile>;

/** How a provider-specific environment variable is checked. */
export type VariableCheck =
  /** One of a fixed list; the first is the default and is always set. */
  | { kind: 'choice'; choices: readonly [string, ...string[]] }
  /** An absolute http(s) URL; a trailing slash is dropped. */
  | { kind: 'url' }
  /** Free text matching `pattern`; the error says the value "must be <mustBe>". */
  | { kind: 'pattern'; pattern: RegExp; mustBe: string };

/** A provider-specific environment variable: `<envPrefix>_<suffix>` sets the strategy option `option`. */
export interface ProviderVariable {
  suffix: string;
  option: string;
  description: string;
  check: VariableCheck;
  /** The value shown in .env.example and the generated listing (default: the choice's default). */
  example?: string;
  /**
   * Set when the provider cannot work without it: the hint after "is required when <X>_CLIENT_ID is set".
   * In demo mode the sandbox supplies the option instead.
   */
  requiredHint?: string;
}

/** A sample read-only API call, relative to the configured API base URL. */
export interface SampleApiCall {
  path: string;
  /** What the account page shows, e.g. `GET /crm/v3/objects/contacts`. */
  label: string;
  /** Headers the provider's API requires besides `Authorization` (an API version header, say). */
  headers?: Readonly<Record<string, string>>;
}

export interface CatalogEntry<Id extends string = string> {
  /** Strategy name, sandbox path prefix and URL segment (`/auth/<id>`). */
  id: Id;
  /** Display name. */
  name: string;
  /** Prefix of its environment variables: `<envPrefix>_CLIENT_ID`, `_CLIENT_SECRET`, `_SCOPE`, `_*_URL`. */
  envPrefix: string;
  /** Its own variables, beyond the ones every provider has (see `commonVariables`). */
  variables: readonly ProviderVariable[];
  /** Whether these provider options make a public client (no client secret). */
  isPublicClient?(options: Readonly<Record<string, unknown>>): boolean;
  /** The strategy, from settings (the example adds `passReqToCallback` and `stateClaims`). */
  createStrategy(settings: StrategySettings, verify: CatalogVerify): ProviderStrategy;
  /** A protected call the account page makes. How the provider says the token was rejected (a 401, or Marketo's 601/602 in a 200) is the strategy's own rule (`strategy.isTokenRejected`), which TokenManager.fetch applies. */
  sampleApiCall: SampleApiCall;
}

/** Keeps the literal id, so `ProviderId` below is a union. */
function provider<const Id extends string>(entry: CatalogEntry<Id>): CatalogEntry<Id> {
  return entry;
}

const AUTH_SERVER: ProviderVariable = {
  suffix: 'AUTH_SERVER',
  option: 'authServer',
  description: 'guide (default) or mcp: which authorization server (mcp: a public client, no secret needed).',
  check: { kind: 'choice', choices: ['guide', 'mcp'] },
};
const isMcp = (options: Readonly<Record<string, unknown>>) => options.authServer === 'mcp';

const hubspot = provider({
  id: 'hubspot',
  name: 'HubSpot',
  envPrefix: 'HUBSPOT',
  variables: [
    { suffix: 'REGION', option: 'region', description: 'na1 (default) or eu1: the authorization host.', check: { kind: 'choice', choices: ['na1', 'eu1'] } },
    {
      suffix: 'ACCOUNT_ID',
      option: 'accountId',
      description: 'Pin the install to one HubSpot account (digits).',
      check: { kind: 'pattern', pattern: /^\d+$/, mustBe: 'a HubSpot account id (digits only)' },
    },
    {
      suffix: 'API_VERSION',
      option: 'apiVersion',
      description: '2026-03 (default), v3 or v1: token and identity endpoints.',
      check: { kind: 'choice', choices: ['2026-03', 'v3', 'v1'] },
    },
  ],
  createStrategy: (settings, verify) =>
    new HubSpotStrategy(settings as StrategySettings & HubSpotStrategyOptions, verify),
  sampleApiCall: { path: '/crm/v3/objects/contacts?limit=2', label: 'GET /crm/v3/objects/contacts' },
});

const marketo = provider({
  id: 'marketo',
  name: 'Marketo',
  envPrefix: 'MARKETO',
  variables: [
    {
      suffix: 'INSTANCE_URL',
      option: 'instanceURL',
      description: 'Required with MARKETO_CLIENT_ID: https://<instance>.marketo.com.',
      check: { kind: 'url' },
      example: 'https://app-ab12.marketo.com',
      requiredHint: 'your instance, e.g. https://app-ab12.marketo.com',
    },
  ],
  createStrategy: (settings, verify) => new MarketoStrategy(settings as StrategySettings & MarketoStrategyOptions, verify),
  sampleApiCall: { path: '/v1/leads.json?filterType=email&filterValues=ada@example.com', label: 'GET /rest/v1/leads.json' },
});

const ontraport = provider({
  id: 'ontraport',
  name: 'Ontraport',
  envPrefix: 'ONTRAPORT',
  variables: [AUTH_SERVER],
  isPublicClient: isMcp,
  createStrategy: (settings, verify) => new OntraportStrategy(settings as OntraportStrategyOptions, verify),
  sampleApiCall: { path: '/Contacts?range=2', label: 'GET /1/Contacts' },
});

const customerio = provider({
  id: 'customerio',
  name: 'Customer.io',
  envPrefix: 'CUSTOMERIO',
  variables: [AUTH_SERVER, { suffix: 'REGION', option: 'region', description: 'us (default) or eu.', check: { kind: 'choice', choices: ['us', 'eu'] } }],
  isPublicClient: isMcp,
  createStrategy: (settings, verify) => new CustomerIoStrategy(settings as CustomerIoStrategyOptions, verify),
  sampleApiCall: { path: '/customers', label: 'GET /v1/customers' },
});

const boomtown = provider({
  id: 'boomtown',
  name: 'BoomTown',
  envPrefix: 'BOOMTOWN',
  variables: [],
  createStrategy: (settings, verify) => new BoomTownStrategy(settings as BoomTownStrategyOptions, verify),
  sampleApiCall: { path: '/leads', label: 'GET /v1/leads' },
});

const klaviyo = provider({
  id: 'klaviyo',
  name: 'Klaviyo',
  envPrefix: 'KLAVIYO',
  variables: [],
  createStrategy: (settings, verify) => new KlaviyoStrategy(settings as StrategySettings & KlaviyoStrategyOptions, verify),
  // Klaviyo's API requires a revision header on every call (the strategy's default revision). The real
  // API also wants the profiles:read scope for this call: KLAVIYO_SCOPE="profiles:read" (accounts:read is added).
  sampleApiCall: { path: '/profiles', label: 'GET /api/profiles', headers: { revision: KLAVIYO_API_REVISION, Accept: 'application/vnd.api+json' } },
});

/** Every provider, in page order. */
export const catalog = [hubspot, marketo, ontraport, customerio, boomtown, klaviyo] as const;

export type ProviderId = (typeof catalog)[number]['id'];

export const PROVIDER_IDS: readonly ProviderId[] = catalog.map((entry) => entry.id);

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === 'string' && (PROVIDER_IDS as readonly string[]).includes(value);
}

/** The entry of a provider id. */
export function catalogEntry(id: ProviderId): CatalogEntry<ProviderId> {
  return catalog.find((entry) => entry.id === id) as CatalogEntry<ProviderId>;
}

/** The options that a strategy needs against the real provider beyond client and callback (e.g. Marketo's instance). */
/**
 * The REST API base a provider's strategy uses when none is configured, for these provider options
 * (Marketo's follows `instanceURL`, Customer.io's `region`): asked of the strategy package itself, which
 * owns the default, rather than written again here. Undefined when the options do not make a strategy.
 */
export function defaultApiBaseURL(entry: CatalogEntry, options: Readonly<Record<string, unknown>>): string | undefined {
  const placeholder = { clientID: 'api-base-probe', clientSecret: 'api-base-probe', callbackURL: 'http://localhost/callback' };
  try {
    return entry.createStrategy({ ...placeholder, ...options } as StrategySettings, () => undefined).apiBaseURL;
  } catch {
    return undefined;
  }
}

export function requiredExampleOptions(entry: CatalogEntry): Record<string, string> {
  return Object.fromEntries(entry.variables.filter((v) => v.requiredHint !== undefined && v.example).map((v) => [v.option, v.example as string]));
}
