/** What every handler of one provider shares, and the request preamble (count, fault, latency). */
import type { Response } from 'express';
import type { Config, ProviderConfig } from './config';
import type { ErrorShape, ErrorSubject } from './errors';
import { applyFault } from './faults';
import type { SandboxState } from './state';
import { sleep } from './timers';
import type { SandboxEndpoint } from './types';

export interface ProviderRuntime {
  provider: ProviderConfig;
  config: Config;
  state: SandboxState;
}

/** The error shape in force for this response (a flow may override the provider's). */
export function errorShapeFor(rt: ProviderRuntime, res: Response): ErrorShape {
  return (res.locals.errorShape as ErrorShape | undefined) ?? rt.provider.dialect.errorShape;
}

export interface Preamble {
  /** Counted in stats as. */
  countAs: SandboxEndpoint;
  /** Faults registered for any of these endpoints apply. */
  faultsFor: SandboxEndpoint[];
  /** Add `latencyMs` (token, identity, client-credentials and API endpoints). */
  latency: boolean;
  /** Lets `invalid_grant` faults name what is invalid (HubSpot's legacy status). */
  subject?: ErrorSubject;
}

/** Counts the request, acts out a fault, waits the configured latency. True when already answered. */
export async function preamble(rt: ProviderRuntime, res: Response, p: Preamble): Promise<boolean> {
  const id = rt.provider.dialect.id;
  rt.state.count(id, p.countAs);
  const fault = rt.state.takeFault(id, p.faultsFor);
  if (fault && (await applyFault(res, fault, errorShapeFor(rt, res), p.subject))) return true;
  if (p.latency) await sleep(rt.config.latencyMs);
  return false;
}
