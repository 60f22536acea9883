/**
 * Marketo (Adobe Marketo Engage). Two things: the 2024 guides' authorization-code flow (GUIDE — Marketo
 * itself documents none) and the real client-credentials token endpoint plus REST error style (DOC).
 */
import { randomBytes } from 'node:crypto';
import type { ProviderDialect, ResourceAnswer, TokenProblem } from '../dialect';
import { rfc6749Shape } from '../errors';
import { sandboxUserinfo } from './common';

/** DOC: REST `requestId` looks like `e42b#14272d07d78`. */
const requestId = () => `${randomBytes(2).toString('hex')}#${randomBytes(6).toString('hex').slice(0, 11)}`;

/** DOC: 600 empty token, 601 invalid token, 602 expired token. */
const TOKEN_ERRORS: Record<TokenProblem, { code: string; message: string }> = {
  missing: { code: '600', message: 'Access token not specified' },
  invalid: { code: '601', message: 'Access token invalid' },
  expired: { code: '602', message: 'Access token expired' },
};

/** DOC: REST errors come with HTTP 200 and `success: false`. */
function restUnauthorized(problem: TokenProblem): ResourceAnswer {
  return { status: 200, body: { requestId: requestId(), success: false, errors: [TOKEN_ERRORS[problem]] } };
}

export const marketo: ProviderDialect = {
  id: 'marketo',
  displayName: 'Marketo',
  // DOC: client-credentials tokens live 3600 s; the guide flow says the same.
  defaultAccessTokenTtlSeconds: 3600,
  defaultUser: {
    userId: 'demo-marketo-api-user',
    email: 'demo+marketo@example.com',
    name: 'Demo API User',
    accountId: '123-ABC-456',
  },
  // GUIDE: RFC 6749 error JSON on the guide flow; DOC: the identity endpoint answers the same way.
  errorShape: rfc6749Shape,
  flows: [
    {
      name: 'main',
      mark: 'GUIDE',
      authorizePaths: ['/oauth/authorize'],
      tokenPaths: ['/oauth/token'],
      bodyEncoding: 'form',
      clientAuth: ['client_secret_post'],
      pkce: { required: false, methods: ['S256', 'plain'], mark: 'UNK' },
      resourceRequired: false,
      requiredScopes: [],
      // GUIDE: Marketo puts the API user's email in `scope` (as its client-credentials answer does, DOC).
      tokenResponse: ({ accessToken, refreshToken, expiresIn, grant }) => ({
        access_token: accessToken,
        refresh_token: refreshToken,
        token_type: 'bearer',
        expires_in: expiresIn,
        scope: grant.user.email,
      }),
    },
  ],
  // The strategy takes one instance URL and appends the guide's paths to it.
  strategy: { packageName: '@passport-martech/marketo', urls: { instanceURL: 'base' } },
  // DOC: `GET|POST /identity/oauth/token?grant_type=client_credentials&client_id=..&client_secret=..`;
  // `expires_in` is the seconds LEFT, and the same token comes back until it expires; no refresh token.
  // Bad credentials: 401 `{ error: "invalid_client", error_description: "Bad client credentials" }`.
  clientCredentials: {
    path: '/identity/oauth/token',
    mark: 'DOC',
    render: ({ accessToken, expiresIn, user }) => ({
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: expiresIn,
      scope: user.email,
    }),
  },
  resources: [
    {
      kind: 'bearer',
      path: '/rest/v1/leads.json',
      endpoint: 'api',
      mark: 'DOC',
      render: () => ({
        body: {
          requestId: requestId(),
          success: true,
          result: [
            { id: 318581, updatedAt: '2024-05-01T10:00:00Z', lastName: 'Lovelace', email: 'ada@example.com', createdAt: '2024-05-01T10:00:00Z', firstName: 'Ada' },
            { id: 318592, updatedAt: '2024-05-01T10:00:00Z', lastName: 'Hopper', email: 'grace@example.com', createdAt: '2024-05-01T10:00:00Z', firstName: 'Grace' },
          ],
        },
      }),
      unauthorized: restUnauthorized,
    },
    // Sandbox-only: the REST error body, but with HTTP 401 so a generic profile loader sees a failure.
    sandboxUserinfo((problem) => ({ ...restUnauthorized(problem), status: 401 })),
  ],
};
