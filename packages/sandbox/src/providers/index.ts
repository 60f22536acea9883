/** The five dialect tables, by provider id. */
import type { ProviderDialect } from '../dialect';
import type { ProviderId } from '../types';
import { boomtown } from './boomtown';
import { customerio } from './customerio';
import { hubspot } from './hubspot';
import { marketo } from './marketo';
import { ontraport } from './ontraport';

export const PROVIDERS: Record<ProviderId, ProviderDialect> = { hubspot, marketo, ontraport, customerio, boomtown };
