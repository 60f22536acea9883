/**
 * Ontraport. The 2024 guides' authorization-code flow (GUIDE: JSON token body) and the real OAuth 2.1
 * server of Ontraport's MCP server (CODE: form body, PKCE S256, `resource`, scope `mcp:tools`).
 */
import type { BearerResourceContext, FlowDialect, ProviderDialect, ResourceAnswer, TokenResponseInput } from '../dialect';
import { rfc6749Shape } from '../errors';
import { sandboxUserinfo } from './common';

/** GUIDE: RFC 6749 fields plus `account_id` (a number). */
const guideTokenResponse = ({ accessToken, refreshToken, expiresIn, grant }: TokenResponseInput) => ({
  access_token: accessToken,
  refresh_token: refreshToken,
  token_type: 'Bearer',
  expires_in: expiresIn,
  account_id: Number(grant.user.accountId),
});

/** UNK: Ontraport's real answer to a bad token is not public; this keeps to its `{ code, ... }` envelope. */
function unauthorized(): ResourceAnswer {
  return { status: 401, body: { code: 1, message: 'Invalid token' } };
}

/**
 * CODE: 180 requests per minute, reported in X-Rate-Limit-* headers; here a fixed window per sandbox
 * (its state, cleared by reset()), never enforced.
 */
function rateLimitHeaders(rateLimit: BearerResourceContext['rateLimit']): Record<string, string> {
  if (!rateLimit) return {};
  return {
    'X-Rate-Limit-Limit': String(rateLimit.limit),
    'X-Rate-Limit-Remaining': String(rateLimit.remaining),
    'X-Rate-Limit-Reset': String(rateLimit.resetSeconds),
  };
}

const guide: FlowDialect = {
  name: 'main',
  mark: 'GUIDE',
  authorizePaths: ['/oauth2/auth'],
  tokenPaths: ['/oauth2/token'],
  bodyEncoding: 'json',
  clientAuth: ['client_secret_post', 'client_secret_basic'],
  pkce: { required: false, methods: ['S256', 'plain'], mark: 'UNK' },
  resourceRequired: false,
  requiredScopes: [],
  tokenResponse: guideTokenResponse,
};

const mcp: FlowDialect = {
  name: 'mcp',
  mark: 'CODE',
  authorizePaths: ['/oauth/authorize'],
  tokenPaths: ['/oauth/token'],
  bodyEncoding: 'form',
  // CODE: client_secret_post or none (public clients, safe because PKCE is required); Basic accepted too.
  clientAuth: ['client_secret_post', 'client_secret_basic', 'none'],
  pkce: { required: true, methods: ['S256'], mark: 'CODE' },
  resourceRequired: true,
  requiredScopes: ['mcp:tools'],
  tokenResponse: (input) => ({ ...guideTokenResponse(input), scope: input.grant.scopes.join(' ') }),
  // DOC: the server's published metadata (docs/providers.md): registration, revocation, and `iss` on the
  // redirect (authorization_response_iss_parameter_supported: true). The paths are CODE.
  authorizationServer: {
    mark: 'DOC',
    registrationPath: '/oauth/register',
    revocationPath: '/oauth/revoke',
    resourcePath: '/mcp',
    scopesSupported: ['mcp:tools'],
    issParameter: true,
  },
};

export const ontraport: ProviderDialect = {
  id: 'ontraport',
  displayName: 'Ontraport',
  defaultAccessTokenTtlSeconds: 3600,
  // The user id equals the account id: the guide's token response only carries account_id.
  defaultUser: { userId: 240155, email: 'demo+ontraport@example.com', name: 'Demo User', accountId: 240155 },
  numericUserFields: ['accountId'],
  errorShape: rfc6749Shape,
  flows: [guide, mcp],
  strategy: {
    packageName: '@passport-martech/ontraport',
    urls: { authorizationURL: 'authorize', tokenURL: 'token', apiBaseURL: '/1' },
    variants: [{ options: { authServer: 'mcp' }, flow: 'mcp', urls: { resource: 'resource', revocationURL: 'revocation' } }],
  },
  resources: [
    {
      // CODE: REST base `/1/`, envelope `{ code, data, account_id }` with code 0 on success.
      kind: 'bearer',
      path: '/1/Contacts',
      endpoint: 'api',
      mark: 'CODE',
      rateLimit: { limit: 180, windowMs: 60_000 },
      render: ({ user, rateLimit }) => ({
        headers: rateLimitHeaders(rateLimit),
        body: {
          code: 0,
          data: [
            { id: '1', firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.com' },
            { id: '2', firstname: 'Grace', lastname: 'Hopper', email: 'grace@example.com' },
          ],
          account_id: String(user.accountId),
        },
      }),
      unauthorized,
    },
    sandboxUserinfo(unauthorized),
  ],
};
