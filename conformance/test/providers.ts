import type { ProviderStrategy } from '@passport-martech/oauth2';
import { BoomTownStrategy } from '@passport-martech/boomtown';
import { CustomerIoStrategy } from '@passport-martech/customerio';
import { HubSpotStrategy } from '@passport-martech/hubspot';
import { MarketoStrategy } from '@passport-martech/marketo';
import { OntraportStrategy } from '@passport-martech/ontraport';

/** Settings every case shares: the sandbox's default client for the provider, and the app's callback. */
export interface CaseSettings {
  clientID: string;
  clientSecret: string;
  callbackURL: string;
  timeout?: number;
}

type Verify = (...args: never[]) => unknown;

/** One provider configuration, as data: how to build it, and what its redirect and login must look like. */
export interface ProviderCase {
  /** Test label, e.g. `ontraport (mcp)`. */
  label: string;
  /** Strategy name and sandbox path prefix. */
  id: 'hubspot' | 'marketo' | 'ontraport' | 'customerio' | 'boomtown';
  /** With the provider's real default endpoints (no sandbox). `instanceURL` etc. where required. */
  withDefaults(settings: CaseSettings, verify: Verify): ProviderStrategy;
  /** Pointed at a sandbox: only URLs change. */
  atSandbox(sandboxURL: string, settings: CaseSettings, verify: Verify): ProviderStrategy;
  /** What the default redirect must be. */
  redirect: { origin: string; pathname: string; scope: string | null; pkce: boolean; extra?: Record<string, string> };
  /** The token request encoding the sandbox enforces. */
  encoding: 'form' | 'json';
  /** The profile a sandbox login must produce (partial match). */
  profile: Record<string, unknown>;
}

const sandboxPaths = (url: string, id: string, authorize: string, token: string) => ({
  authorizationURL: `${url}/${id}${authorize}`,
  tokenURL: `${url}/${id}${token}`,
});

export const providerCases: ProviderCase[] = [
  {
    label: 'hubspot',
    id: 'hubspot',
    withDefaults: (s, v) => new HubSpotStrategy(s, v as never),
    atSandbox: (url, s, v) =>
      new HubSpotStrategy(
        {
          ...s,
          ...sandboxPaths(url, 'hubspot', '/oauth/authorize', '/oauth/2026-03/token'),
          userProfileURL: `${url}/hubspot/oauth/2026-03/token/introspect`,
        },
        v as never,
      ),
    redirect: { origin: 'https://app.hubspot.com', pathname: '/oauth/authorize', scope: 'oauth', pkce: true },
    encoding: 'form',
    profile: { provider: 'hubspot', emails: [expectEmail()] },
  },
  {
    label: 'marketo',
    id: 'marketo',
    withDefaults: (s, v) => new MarketoStrategy({ ...s, instanceURL: 'https://app-ab12.marketo.com' }, v as never),
    atSandbox: (url, s, v) => new MarketoStrategy({ ...s, instanceURL: `${url}/marketo` }, v as never),
    redirect: { origin: 'https://app-ab12.marketo.com', pathname: '/oauth/authorize', scope: null, pkce: false },
    encoding: 'form',
    profile: { provider: 'marketo', emails: [expectEmail()] },
  },
  {
    label: 'ontraport',
    id: 'ontraport',
    withDefaults: (s, v) => new OntraportStrategy(s, v as never),
    atSandbox: (url, s, v) => new OntraportStrategy({ ...s, ...sandboxPaths(url, 'ontraport', '/oauth2/auth', '/oauth2/token') }, v as never),
    redirect: { origin: 'https://api.ontraport.com', pathname: '/oauth2/auth', scope: null, pkce: false },
    encoding: 'json',
    profile: { provider: 'ontraport' },
  },
  {
    label: 'ontraport (mcp)',
    id: 'ontraport',
    withDefaults: (s, v) => new OntraportStrategy({ ...s, authServer: 'mcp' }, v as never),
    atSandbox: (url, s, v) =>
      new OntraportStrategy({ ...s, authServer: 'mcp', ...sandboxPaths(url, 'ontraport', '/oauth/authorize', '/oauth/token') }, v as never),
    redirect: {
      origin: 'https://app.ontraport.com',
      pathname: '/oauth/authorize',
      scope: 'mcp:tools',
      pkce: true,
      extra: { resource: 'https://mcp.ontraport.com' },
    },
    encoding: 'form',
    profile: { provider: 'ontraport' },
  },
  {
    label: 'customerio',
    id: 'customerio',
    withDefaults: (s, v) => new CustomerIoStrategy(s, v as never),
    atSandbox: (url, s, v) =>
      new CustomerIoStrategy({ ...s, ...sandboxPaths(url, 'customerio', '/oauth/authorize', '/v1/oauth/token') }, v as never),
    redirect: { origin: 'https://fly.customer.io', pathname: '/oauth/authorize', scope: 'full_access', pkce: false },
    encoding: 'json',
    profile: { provider: 'customerio', emails: [expectEmail()] },
  },
  {
    label: 'customerio (mcp)',
    id: 'customerio',
    withDefaults: (s, v) => new CustomerIoStrategy({ ...s, authServer: 'mcp' }, v as never),
    atSandbox: (url, s, v) =>
      new CustomerIoStrategy({ ...s, authServer: 'mcp', ...sandboxPaths(url, 'customerio', '/oauth2/authorize', '/oauth2/token') }, v as never),
    redirect: {
      origin: 'https://mcp.customer.io',
      pathname: '/oauth2/authorize',
      scope: null,
      pkce: true,
      extra: { resource: 'https://mcp.customer.io/mcp' },
    },
    encoding: 'form',
    profile: { provider: 'customerio' },
  },
  {
    label: 'boomtown',
    id: 'boomtown',
    withDefaults: (s, v) => new BoomTownStrategy(s, v as never),
    atSandbox: (url, s, v) => new BoomTownStrategy({ ...s, ...sandboxPaths(url, 'boomtown', '/oauth/authorize', '/oauth/token') }, v as never),
    redirect: { origin: 'https://auth.boomtownroi.com', pathname: '/oauth/authorize', scope: 'offline_access', pkce: false },
    encoding: 'json',
    profile: { provider: 'boomtown', emails: [expectEmail()] },
  },
];

function expectEmail(): unknown {
  return expect.objectContaining({ value: expect.stringMatching(/^[^@\s]+@[^@\s]+$/) });
}
