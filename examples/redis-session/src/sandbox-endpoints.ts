/**
 * Where a provider's endpoints live inside a `@passport-martech/sandbox` (demo mode).
 *
 * TODO(catalog): replace the body with `sandboxEndpoints(baseURL, id, variant)` from
 * `@passport-martech/sandbox` (derived from its dialect tables) once it lands; this file then goes.
 * Until then these are the sandbox's paths, re-typed.
 */
import type { ProviderId } from './catalog';

/** Strategy options (by their option names) that point a provider's strategy at the sandbox. */
export type SandboxEndpoints = Partial<Record<'authorizationURL' | 'tokenURL' | 'userProfileURL' | 'apiBaseURL' | 'instanceURL', string>>;

/** `variant`: the provider's options that choose between its flows (`authServer`, `apiVersion`). */
export function sandboxEndpointsFor(baseURL: string, id: ProviderId, variant: Readonly<Record<string, unknown>> = {}): SandboxEndpoints {
  const base = `${baseURL}/${id}`;
  const mcp = variant.authServer === 'mcp';
  switch (id) {
    case 'hubspot': {
      const version = typeof variant.apiVersion === 'string' ? variant.apiVersion : '2026-03';
      const token = { '2026-03': '/oauth/2026-03/token', v3: '/oauth/v3/token', v1: '/oauth/v1/token' }[version] ?? '/oauth/2026-03/token';
      const identity =
        { '2026-03': '/oauth/2026-03/token/introspect', v3: '/oauth/v3/token/introspect', v1: '/oauth/v1/access-tokens' }[version] ??
        '/oauth/2026-03/token/introspect';
      return { authorizationURL: `${base}/oauth/authorize`, tokenURL: `${base}${token}`, userProfileURL: `${base}${identity}`, apiBaseURL: base };
    }
    case 'marketo':
      return { instanceURL: base, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/rest` };
    case 'ontraport':
      return mcp
        ? { authorizationURL: `${base}/oauth/authorize`, tokenURL: `${base}/oauth/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/1` }
        : { authorizationURL: `${base}/oauth2/auth`, tokenURL: `${base}/oauth2/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/1` };
    case 'customerio':
      return mcp
        ? { authorizationURL: `${base}/oauth2/authorize`, tokenURL: `${base}/oauth2/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/v1` }
        : { authorizationURL: `${base}/oauth/authorize`, tokenURL: `${base}/v1/oauth/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/v1` };
    case 'boomtown':
      return { authorizationURL: `${base}/oauth/authorize`, tokenURL: `${base}/oauth/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/v1` };
  }
}
