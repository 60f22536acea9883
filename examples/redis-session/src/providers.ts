/**
 * The five strategies, built from configuration. Each gets `passReqToCallback: true` so the verify
 * callback sees `req.user` and can link a provider to the signed-in account.
 */
import { Strategy as BoomTownStrategy } from '@passport-martech/boomtown';
import { Strategy as CustomerIoStrategy } from '@passport-martech/customerio';
import { Strategy as HubSpotStrategy } from '@passport-martech/hubspot';
import { Strategy as MarketoStrategy, marketoTokenRejected } from '@passport-martech/marketo';
import type { Profile, ProviderStrategy, StateClaimStore, VerifyFunctionWithRequestAndParams } from '@passport-martech/oauth2';
import { Strategy as OntraportStrategy } from '@passport-martech/ontraport';
import type { TokenRejectedCheck } from '@passport-martech/refresh';
import type { ProviderId, ProviderSettings } from './config';

export type Verify = VerifyFunctionWithRequestAndParams<Profile>;

/** The sample API call per provider: a read-only list endpoint, relative to the configured API base. */
export const SAMPLE_API: Record<ProviderId, { path: string; label: string }> = {
  hubspot: { path: '/crm/v3/objects/contacts?limit=2', label: 'GET /crm/v3/objects/contacts' },
  marketo: { path: '/v1/leads.json?filterType=email&filterValues=ada@example.com', label: 'GET /rest/v1/leads.json' },
  ontraport: { path: '/Contacts?range=2', label: 'GET /1/Contacts' },
  customerio: { path: '/customers', label: 'GET /v1/customers' },
  boomtown: { path: '/leads', label: 'GET /v1/leads' },
};

export function sampleApiUrl(id: ProviderId, settings: ProviderSettings): string {
  return `${settings.apiBaseURL.replace(/\/+$/, '')}${SAMPLE_API[id].path}`;
}

/** How each provider says "this access token is no longer good" (Marketo: HTTP 200 with error 601/602). */
export const TOKEN_REJECTED: Partial<Record<ProviderId, TokenRejectedCheck>> = {
  marketo: marketoTokenRejected,
};

export function callbackPath(id: ProviderId): string {
  return `/auth/${id}/callback`;
}

/** A strategy for one provider. Only the options a person sets (or the sandbox needs) are passed. */
export function createStrategy(id: ProviderId, settings: ProviderSettings, baseUrl: string, verify: Verify, stateClaims?: StateClaimStore): ProviderStrategy {
  const common = {
    // Several instances: each used state is recorded in Redis too, so that two copies of one callback
    // reaching two instances at once exchange the code once (the in-process record covers one instance).
    ...(stateClaims ? { stateClaims } : {}),
    clientID: settings.clientID,
    clientSecret: settings.clientSecret,
    callbackURL: `${baseUrl}${callbackPath(id)}`,
    passReqToCallback: true as const,
    timeout: settings.timeoutMs,
    ...(settings.scope ? { scope: settings.scope } : {}),
    ...(settings.authorizationURL ? { authorizationURL: settings.authorizationURL } : {}),
    ...(settings.tokenURL ? { tokenURL: settings.tokenURL } : {}),
    ...(settings.userProfileURL ? { userProfileURL: settings.userProfileURL } : {}),
  };
  switch (id) {
    case 'hubspot':
      return new HubSpotStrategy(
        {
          ...common,
          region: settings.region as 'na1' | 'eu1' | undefined,
          apiVersion: settings.apiVersion,
          apiBaseURL: settings.apiBaseURL,
          ...(settings.accountId ? { accountId: settings.accountId } : {}),
        },
        verify,
      );
    case 'marketo':
      return new MarketoStrategy({ ...common, instanceURL: settings.instanceURL as string }, verify);
    case 'ontraport':
      return new OntraportStrategy({ ...common, authServer: settings.authServer, apiBaseURL: settings.apiBaseURL }, verify);
    case 'customerio':
      return new CustomerIoStrategy(
        { ...common, authServer: settings.authServer, region: settings.region as 'us' | 'eu' | undefined, apiBaseURL: settings.apiBaseURL },
        verify,
      );
    case 'boomtown':
      return new BoomTownStrategy({ ...common, apiBaseURL: settings.apiBaseURL }, verify);
  }
}
