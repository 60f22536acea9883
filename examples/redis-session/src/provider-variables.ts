/**
 * The names of each catalog provider's environment variables, and their one-line descriptions (for
 * ENV_VARS, the home page's "not configured" list and `--env` listing). Every provider has the common
 * ones (`<PREFIX>_CLIENT_ID`, ...); its catalog record adds its own.
 */
import { defaultApiBaseURL, requiredExampleOptions, type CatalogEntry } from './catalog';

/** The settings the common variables set, in the order they are read. */
export type CommonSetting = 'clientID' | 'clientSecret' | 'scope' | 'authorizationURL' | 'tokenURL' | 'userProfileURL' | 'revocationURL' | 'apiBaseURL';

/** A variable every provider has: `<envPrefix>_<suffix>`, read into the setting `setting`. */
export interface CommonVariable {
  suffix: string;
  setting: CommonSetting;
  describe(name: string): string;
  /** The value shown in the listing. */
  example?(entry: CatalogEntry): string;
}

export const COMMON_VARIABLES: readonly CommonVariable[] = [
  { suffix: 'CLIENT_ID', setting: 'clientID', describe: (name) => `${name} OAuth client id; setting it enables ${name}.` },
  { suffix: 'CLIENT_SECRET', setting: 'clientSecret', describe: (name) => `${name} OAuth client secret.` },
  { suffix: 'SCOPE', setting: 'scope', describe: (name) => `${name} scopes, space- or comma-separated (default: the strategy's).` },
  {
    suffix: 'API_BASE_URL',
    setting: 'apiBaseURL',
    describe: (name) => `${name} REST API base used by "Call the API".`,
    example: (entry) => defaultApiBaseURL(entry, requiredExampleOptions(entry)) ?? '',
  },
  { suffix: 'AUTHORIZATION_URL', setting: 'authorizationURL', describe: (name) => `Override the ${name} authorization endpoint.` },
  { suffix: 'TOKEN_URL', setting: 'tokenURL', describe: (name) => `Override the ${name} token endpoint.` },
  { suffix: 'USER_PROFILE_URL', setting: 'userProfileURL', describe: (name) => `${name} identity endpoint (default: the strategy's).` },
  {
    suffix: 'REVOCATION_URL',
    setting: 'revocationURL',
    describe: (name) => `${name} token revocation endpoint, used by Disconnect (default: the strategy's; none when TOKEN_URL is overridden).`,
  },
];

/** The variable that sets a common setting: `commonVariable(hubspot, 'clientID')` is `HUBSPOT_CLIENT_ID`. */
export function commonVariable(entry: Pick<CatalogEntry, 'envPrefix'>, setting: CommonSetting): string {
  const variable = COMMON_VARIABLES.find((v) => v.setting === setting) as CommonVariable;
  return envVariable(entry, variable.suffix);
}

/** `<envPrefix>_<suffix>`. */
export function envVariable(entry: Pick<CatalogEntry, 'envPrefix'>, suffix: string): string {
  return `${entry.envPrefix}_${suffix}`;
}

/** What switches a provider on, for the home page's "not configured" list. */
export function enablingVariables(entry: CatalogEntry): string[] {
  return [
    commonVariable(entry, 'clientID'),
    commonVariable(entry, 'clientSecret'),
    ...entry.variables.filter((v) => v.requiredHint !== undefined).map((v) => envVariable(entry, v.suffix)),
  ];
}

export interface VariableDoc {
  name: string;
  description: string;
  /** The value shown in the listing (a default or an example); absent = left empty. */
  example?: string;
}

/** Every variable of one provider, common ones first. */
export function providerVariables(entry: CatalogEntry): VariableDoc[] {
  return [
    ...COMMON_VARIABLES.map((v) => ({ name: envVariable(entry, v.suffix), description: v.describe(entry.name), example: v.example?.(entry) })),
    ...entry.variables.map((v) => ({
      name: envVariable(entry, v.suffix),
      description: v.description,
      example: v.example ?? (v.check.kind === 'choice' ? v.check.choices[0] : undefined),
    })),
  ];
}
