/**
 * The registry of dialect tables. Adding a provider to the sandbox is its table (one file here) and one
 * line below; the engine, the CLI, `sandboxEndpoints()` and the facts other packages test against all
 * iterate this.
 */
import type { ProviderDialect } from '../dialect';
import { boomtown } from './boomtown';
import { customerio } from './customerio';
import { hubspot } from './hubspot';
import { klaviyo } from './klaviyo';
import { marketo } from './marketo';
import { ontraport } from './ontraport';

export const PROVIDERS = {
  hubspot,
  marketo,
  ontraport,
  customerio,
  boomtown,
  klaviyo,
} as const satisfies Record<string, ProviderDialect>;

export type ProviderId = keyof typeof PROVIDERS;
/** The served provider ids, in registry order. */
export const PROVIDER_IDS = Object.keys(PROVIDERS) as ProviderId[];
