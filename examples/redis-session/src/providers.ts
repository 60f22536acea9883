/**
 * The configured providers' strategies, built by their catalog records. Each gets
 * `passReqToCallback: true` so the verify callback sees `req.user` and can link a provider to the
 * signed-in account.
 */
import type { Profile, ProviderStrategy, StateClaimStore, VerifyFunctionWithRequestAndParams } from '@passport-martech/oauth2';
import { catalogEntry, type ProviderId, type StrategySettings } from './catalog';
import type { ProviderSettings } from './provider-config';

export type Verify = VerifyFunctionWithRequestAndParams<Profile>;

/** The sample API call's URL: its path under the configured API base. */
export function sampleApiUrl(id: ProviderId, settings: ProviderSettings): string {
  return `${settings.apiBaseURL.replace(/\/+$/, '')}${catalogEntry(id).sampleApiCall.path}`;
}

export function callbackPath(id: ProviderId): string {
  return `/auth/${id}/callback`;
}

/** A strategy for one provider. Only the options a person sets (or the sandbox needs) are passed. */
export function createStrategy(id: ProviderId, settings: ProviderSettings, baseUrl: string, verify: Verify, stateClaims?: StateClaimStore): ProviderStrategy {
  const { timeoutMs, ...options } = settings;
  const strategySettings: StrategySettings = {
    ...withoutUndefined(options),
    // Several instances: each used state is recorded in Redis too, so that two copies of one callback
    // reaching two instances at once exchange the code once (the in-process record covers one instance).
    ...(stateClaims ? { stateClaims } : {}),
    clientID: settings.clientID,
    callbackURL: `${baseUrl}${callbackPath(id)}`,
    passReqToCallback: true,
    timeout: timeoutMs,
  };
  return catalogEntry(id).createStrategy(strategySettings, verify);
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
