/**
 * Klaviyo. Documented by Klaviyo (docs/providers.md, "Klaviyo"): authorization code with PKCE S256
 * required, HTTP Basic client authentication, form bodies, refresh tokens, RFC 7009-style revocation,
 * and a JSON:API REST API that takes `Authorization: Bearer` and a required `revision` header. The real
 * hosts differ (consent on www.klaviyo.com, token, revoke and API on a.klaviyo.com); here every path sits
 * under the provider's one base.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { BearerResource, ProviderDialect, ResourceAnswer, TokenProblem } from '../dialect';
import { rfc6749Shape } from '../errors';
import type { SandboxUser } from '../types';

/** DOC: a revision is `YYYY-MM-DD`, optionally with a `.suffix`. */
const REVISION = /^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/;

/** DOC: JSON:API error objects (`id`, `status`, `code`, `title`, `detail`, `source`). */
function jsonApiError(status: number, code: string, title: string, detail: string): ResourceAnswer {
  return {
    status,
    headers: { 'Content-Type': 'application/vnd.api+json' },
    body: { errors: [{ id: randomUUID(), status, code, title, detail, source: { pointer: '/data/' } }] },
  };
}

const DETAILS: Record<TokenProblem, string> = {
  missing: 'Missing or invalid authorization scheme.',
  invalid: 'The access token is invalid.',
  expired: 'The access token has expired.',
};

/** DOC: a bad or expired Bearer token is a 401; UNK: the exact `code` and wording (`not_authenticated` as commonly seen). */
const unauthorized = (problem: TokenProblem) =>
  jsonApiError(401, 'not_authenticated', 'Authentication credentials were not provided.', DETAILS[problem]);

/** DOC: `revision` is required on every API call. UNK: the status and code of Klaviyo's answer without one. */
function checkRevision(headers: IncomingHttpHeaders): ResourceAnswer | undefined {
  const revision = headers.revision;
  if (typeof revision === 'string' && REVISION.test(revision.trim())) return undefined;
  return jsonApiError(400, 'invalid', 'Invalid input.', 'The revision header is missing or is not a valid revision (YYYY-MM-DD).');
}

/** DOC: the Accounts API's one account, as JSON:API (docs/providers.md lists every attribute). */
function account(user: SandboxUser, base: string) {
  const id = String(user.accountId);
  return {
    type: 'account',
    id,
    attributes: {
      test_account: true,
      contact_information: {
        default_sender_name: user.name,
        default_sender_email: user.email,
        website_url: 'https://example.com',
        // The sandbox's user is the connected account: its name is the organization's (the profile's displayName).
        organization_name: user.name,
        street_address: { address1: '1 Example St', address2: '', city: 'Boston', region: 'MA', country: 'US', zip: '02110' },
      },
      industry: 'Retail',
      timezone: 'America/New_York',
      preferred_currency: 'USD',
      public_api_key: id,
      locale: 'en-US',
    },
    links: { self: `${base}/accounts/${id}/` },
  };
}

function apiResource(path: string, endpoint: BearerResource['endpoint'], render: BearerResource['render']): BearerResource {
  return { kind: 'bearer', path, endpoint, mark: 'DOC', checkRequest: checkRevision, render, unauthorized };
}

export const klaviyo: ProviderDialect = {
  id: 'klaviyo',
  displayName: 'Klaviyo',
  // UNK: Klaviyo documents no access-token lifetime; clients read `expires_in`.
  defaultAccessTokenTtlSeconds: 3600,
  defaultUser: { userId: 'kl-demo-user-1', email: 'demo+klaviyo@example.com', name: 'Sandbox Store', accountId: 'AbC123' },
  // DOC: the OAuth endpoints answer RFC 6749 `{ error, error_description }`.
  errorShape: rfc6749Shape,
  flows: [
    {
      name: 'main',
      mark: 'DOC',
      authorizePaths: ['/oauth/authorize'],
      tokenPaths: ['/oauth/token'],
      revocationPaths: ['/oauth/revoke'],
      bodyEncoding: 'form', // DOC
      clientAuth: ['client_secret_basic'], // DOC: Authorization: Basic base64(client_id:client_secret)
      pkce: { required: true, methods: ['S256'], mark: 'DOC' }, // DOC: code_challenge_method=S256 is required
      resourceRequired: false,
      // DOC: the Accounts API's scope. Klaviyo takes any scope its app lists; the sandbox asks for this one
      // because the strategy's profile (the identity route below) needs it, and the strategy sends it.
      requiredScopes: ['accounts:read'],
      // CODE (Klaviyo's Node SDK): access_token, token_type, expires_in, refresh_token, scope. A refresh
      // returns a refresh_token too (CODE); whether the old one dies is UNK, so rotation follows the
      // sandbox's rotateRefreshTokens option like every provider.
      tokenResponse: ({ accessToken, refreshToken, expiresIn, grant }) => ({
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: expiresIn,
        refresh_token: refreshToken,
        scope: grant.scopes.join(' '),
      }),
    },
  ],
  strategy: {
    packageName: '@passport-martech/klaviyo',
    // The profile's Accounts call follows apiBaseURL (`/api/accounts` here).
    urls: { authorizationURL: 'authorize', tokenURL: 'token', revocationURL: 'revocation', apiBaseURL: '/api' },
  },
  resources: [
    // DOC: identity is the Accounts API (scope accounts:read); it answers the token's one account.
    apiResource('/api/accounts', 'identity', ({ user }) => ({
      headers: { 'Content-Type': 'application/vnd.api+json' },
      body: { data: [account(user, 'https://a.klaviyo.com/api')], links: { self: 'https://a.klaviyo.com/api/accounts/', next: null, prev: null } },
    })),
    // DOC: a sample API call (Get Profiles, scope profiles:read): JSON:API profiles.
    apiResource('/api/profiles', 'api', () => ({
      headers: { 'Content-Type': 'application/vnd.api+json' },
      body: {
        data: [
          { type: 'profile', id: '01HADA0000000000000000000A', attributes: { email: 'ada@example.com', first_name: 'Ada', last_name: 'Lovelace' } },
          { type: 'profile', id: '01HGRACE00000000000000000G', attributes: { email: 'grace@example.com', first_name: 'Grace', last_name: 'Hopper' } },
        ],
        links: { self: 'https://a.klaviyo.com/api/profiles/', next: null, prev: null },
      },
    })),
  ],
};
