/**
 * HubSpot: the one provider whose authorization-code flow is fully documented (DOC throughout unless
 * marked). Sources: developers.hubspot.com OAuth docs, summarised in docs/providers.md.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FlowDialect, IntrospectContext, ProviderDialect, ResourceAnswer, TokenProblem } from '../dialect';
import type { ErrorInfo, ErrorShape } from '../errors';
import type { SandboxUser } from '../types';

/** Legacy `status` values. BAD_AUTH_CODE, BAD_REFRESH_TOKEN: DOC. The others: UNK (sensible names). */
function legacyStatus({ error, subject, status }: ErrorInfo): string {
  if (error === 'invalid_grant') {
    if (subject === 'refresh_token') return 'BAD_REFRESH_TOKEN';
    // CODE: seen in public integrations' error reports for a redirect_uri differing from the authorize one.
    if (subject === 'redirect_uri') return 'MISMATCH_REDIRECT_URI_AUTH_CODE';
    return 'BAD_AUTH_CODE';
  }
  if (error === 'invalid_client') return 'BAD_CLIENT_ID';
  if (error === 'unsupported_grant_type') return 'BAD_GRANT_TYPE';
  if (error === 'invalid_scope') return 'BAD_SCOPES';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 500) return 'error';
  return 'BAD_REQUEST';
}

/** DOC: RFC 6749 `error`/`error_description` plus the legacy `status`, `message`, `correlationId`. */
const errorShape: ErrorShape = (info) => ({
  status: legacyStatus(info),
  message: info.description,
  correlationId: randomUUID(),
  error: info.error,
  error_description: info.description,
});

/** DOC: the API's error envelope; `category` tells an expired token from an unknown one. */
function apiUnauthorized(problem: TokenProblem): ResourceAnswer {
  const expired = problem === 'expired';
  return {
    status: 401,
    body: {
      status: 'error',
      message: expired
        ? 'The OAuth token used to make this call expired.'
        : 'Authentication credentials not found or invalid.',
      correlationId: randomUUID(),
      category: expired ? 'EXPIRED_AUTHENTICATION' : 'INVALID_AUTHENTICATION',
    },
  };
}

/** A stable numeric app id per client (HubSpot app ids are numbers). */
function appId(clientId: string): number {
  return parseInt(createHash('sha256').update(clientId).digest('hex').slice(0, 7), 16);
}

const hubDomain = (user: SandboxUser) => `demo-${user.accountId}.sandbox.hubspot.example`;

/** The fields v1 access-tokens and introspection share (DOC). */
function tokenInfo({ grant, user, expiresIn, tokenType, token }: IntrospectContext) {
  return {
    user: user.email,
    hub_domain: hubDomain(user),
    scopes: grant.scopes,
    hub_id: Number(user.accountId),
    app_id: appId(grant.clientId),
    ...(expiresIn === undefined ? {} : { expires_in: expiresIn }),
    user_id: Number(user.userId),
    token_type: tokenType,
    // DOC (the v1 token-metadata reference): a signed form of the token, with `signature` and
    // `newSignature`. Token material: a client must not keep it in a profile.
    signed_access_token: {
      appId: appId(grant.clientId),
      hubId: Number(user.accountId),
      userId: Number(user.userId),
      scopes: grant.scopes.join(','),
      ...(expiresIn === undefined ? {} : { expiresAt: Date.now() + expiresIn * 1000 }),
      signature: signatureOf('v1', token),
      newSignature: signatureOf('v2', token),
    },
  };
}

/** A stand-in for HubSpot's token signatures: derived from the token, so it is as secret as the token. */
function signatureOf(version: string, token: string): string {
  return createHash('sha256').update(`${version}:${token}`).digest('base64');
}

const flow: FlowDialect = {
  name: 'main',
  mark: 'DOC',
  // DOC: `/oauth/{accountId}/authorize` pins the account the user installs into (becomes hub_id).
  authorizePaths: ['/oauth/authorize', '/oauth/:accountId/authorize'],
  // DOC: v1 is deprecated (off 2027-02-16) but still what the 2024 guides use; v3 and 2026-03 are current.
  tokenPaths: ['/oauth/v1/token', '/oauth/v3/token', '/oauth/2026-03/token'],
  // DOC: "Revoke an OAuth token" (2026-03): form body, client credentials, `token`, `token_type_hint`.
  revocationPaths: ['/oauth/2026-03/token/revoke'],
  bodyEncoding: 'form',
  // DOC: client_id and client_secret go in the form body; HubSpot documents no HTTP Basic.
  clientAuth: ['client_secret_post'],
  // DOC: `code_verifier` accepted on all three token endpoints.
  pkce: { required: false, methods: ['S256', 'plain'], mark: 'DOC' },
  resourceRequired: false,
  // DOC: `oauth` is always among an app's scopes.
  requiredScopes: ['oauth'],
  optionalScopeParam: 'optional_scope',
  // DOC (since 2025-08): hub_id, user_id, scopes (array) and token_use next to the RFC 6749 fields.
  tokenResponse: ({ accessToken, refreshToken, expiresIn, grant }) => ({
    access_token: accessToken,
    refresh_token: refreshToken,
    expires_in: expiresIn,
    token_type: 'bearer',
    hub_id: Number(grant.user.accountId),
    user_id: Number(grant.user.userId),
    scopes: grant.scopes,
    token_use: 'access_token',
  }),
};

export const hubspot: ProviderDialect = {
  id: 'hubspot',
  displayName: 'HubSpot',
  // DOC: 1800 s today; clients must read expires_in.
  defaultAccessTokenTtlSeconds: 1800,
  defaultUser: { userId: 7654321, email: 'demo+hubspot@example.com', name: 'Demo User', accountId: 2345678 },
  numericUserFields: ['userId', 'accountId'],
  errorShape,
  flows: [flow],
  strategy: {
    packageName: '@passport-martech/hubspot',
    urls: {
      authorizationURL: 'authorize',
      tokenURL: '/oauth/2026-03/token',
      userProfileURL: '/oauth/2026-03/token/introspect',
      revocationURL: 'revocation',
      apiBaseURL: 'base',
    },
    variants: [
      // Revocation is documented for the date-versioned API only (the strategy has no default on v3 and v1).
      { options: { apiVersion: 'v3' }, urls: { tokenURL: '/oauth/v3/token', userProfileURL: '/oauth/v3/token/introspect', revocationURL: null } },
      // The v1 identity call appends the token to this base as a path segment.
      { options: { apiVersion: 'v1' }, urls: { tokenURL: '/oauth/v1/token', userProfileURL: '/oauth/v1/access-tokens', revocationURL: null } },
      // Only the real authorization host differs (app-eu1.hubspot.com).
      { options: { region: 'eu1' } },
    ],
  },
  resources: [
    {
      // DOC: v1 identity, token as a path segment; goes away with v1. Error answers: UNK (API envelope).
      kind: 'path-token',
      path: '/oauth/v1/access-tokens/:token',
      endpoint: 'identity',
      mark: 'DOC',
      render: (ctx) => ({ body: { token: ctx.token, ...tokenInfo({ ...ctx, tokenType: 'access' }) } }),
      unauthorized: apiUnauthorized,
    },
    ...['/oauth/v3/token/introspect', '/oauth/2026-03/token/introspect'].map((path) => ({
      // DOC: RFC 7662 introspection; an unknown or expired token is `{ active: false }` with 200.
      kind: 'introspect' as const,
      path,
      endpoint: 'identity' as const,
      mark: 'DOC' as const,
      render: (ctx: IntrospectContext | undefined) =>
        ctx ? { body: { active: true, ...tokenInfo(ctx), client_id: ctx.grant.clientId } } : { body: { active: false } },
    })),
    {
      // DOC: CRM v3 objects API.
      kind: 'bearer',
      path: '/crm/v3/objects/contacts',
      endpoint: 'api',
      mark: 'DOC',
      render: () => ({
        body: {
          results: [
            contact('101', 'ada@example.com', 'Ada', 'Lovelace'),
            contact('102', 'grace@example.com', 'Grace', 'Hopper'),
          ],
        },
      }),
      unauthorized: apiUnauthorized,
    },
  ],
};

function contact(id: string, email: string, firstname: string, lastname: string) {
  const at = '2024-05-01T10:00:00.000Z';
  return {
    id,
    properties: { createdate: at, email, firstname, hs_object_id: id, lastmodifieddate: at, lastname },
    createdAt: at,
    updatedAt: at,
    archived: false,
  };
}
