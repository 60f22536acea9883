/**
 * Customer.io. The 2024 guides' authorization-code flow (GUIDE: JSON token body, `full_access` scope,
 * errors in Customer.io's `meta` shape) and the real OAuth 2.1 server of its MCP server (CODE).
 */
import type { FlowDialect, ProviderDialect, TokenResponseInput } from '../dialect';
import { rfc6749Shape, type ErrorShape } from '../errors';
import { sandboxUserinfo } from './common';

/**
 * CODE: Customer.io errors are `{ meta: { error } }` or `{ meta: { errors: [...] } }`. Each OAuth error is
 * one `errors` entry starting with its RFC 6749 code and a colon, so a client can still find the code.
 */
const metaErrors: ErrorShape = ({ error, description }) => ({ meta: { errors: [`${error}: ${description}`] } });

/** GUIDE: RFC 6749 fields plus `user_id` (a string) and `email`. */
const tokenResponse = ({ accessToken, refreshToken, expiresIn, grant }: TokenResponseInput) => ({
  access_token: accessToken,
  refresh_token: refreshToken,
  token_type: 'Bearer',
  expires_in: expiresIn,
  scope: grant.scopes.join(' '),
  user_id: String(grant.user.userId),
  email: grant.user.email,
});

const unauthorized = () => ({ status: 401, body: { meta: { error: 'Unauthorized request' } } });

const guide: FlowDialect = {
  name: 'main',
  mark: 'GUIDE',
  authorizePaths: ['/oauth/authorize'],
  tokenPaths: ['/v1/oauth/token'],
  bodyEncoding: 'json',
  clientAuth: ['client_secret_post', 'client_secret_basic'],
  pkce: { required: false, methods: ['S256', 'plain'], mark: 'UNK' },
  resourceRequired: false,
  requiredScopes: ['full_access'],
  tokenResponse,
};

const mcp: FlowDialect = {
  name: 'mcp',
  mark: 'CODE',
  authorizePaths: ['/oauth2/authorize'],
  tokenPaths: ['/oauth2/token'],
  bodyEncoding: 'form',
  // CODE: client_secret_post or none; PKCE S256 or plain.
  clientAuth: ['client_secret_post', 'client_secret_basic', 'none'],
  pkce: { required: true, methods: ['S256', 'plain'], mark: 'CODE' },
  resourceRequired: true,
  requiredScopes: [],
  // UNK: a standard OAuth 2.1 authorization server, so RFC 6749 errors rather than the App API's `meta`.
  errorShape: rfc6749Shape,
  tokenResponse,
  // DOC: the server's published metadata (docs/providers.md): registration and revocation; it does not
  // announce `iss` on the redirect. The paths are CODE.
  authorizationServer: {
    mark: 'DOC',
    registrationPath: '/oauth2/register',
    revocationPath: '/oauth2/revoke',
    resourcePath: '/mcp',
    scopesSupported: ['configure', 'read', 'read:sensitive', 'write', 'write:live'],
    issParameter: false,
  },
};

export const customerio: ProviderDialect = {
  id: 'customerio',
  displayName: 'Customer.io',
  defaultAccessTokenTtlSeconds: 3600,
  defaultUser: { userId: 'cio-demo-user-1', email: 'demo+customerio@example.com', name: 'Demo User', accountId: '98765' },
  errorShape: metaErrors,
  flows: [guide, mcp],
  strategy: {
    packageName: '@passport-martech/customerio',
    urls: { authorizationURL: 'authorize', tokenURL: 'token', apiBaseURL: '/v1' },
    variants: [
      { options: { authServer: 'mcp' }, flow: 'mcp', urls: { resource: 'resource', revocationURL: 'revocation' } },
      // Only the real token and API hosts differ (api-eu.customer.io).
      { options: { region: 'eu' } },
    ],
  },
  resources: [
    {
      // CODE: App API, `Authorization: Bearer`.
      kind: 'bearer',
      path: '/v1/customers',
      endpoint: 'api',
      mark: 'CODE',
      render: () => ({
        body: {
          customers: [
            { id: 'ada-1', email: 'ada@example.com', attributes: { first_name: 'Ada' } },
            { id: 'grace-2', email: 'grace@example.com', attributes: { first_name: 'Grace' } },
          ],
        },
      }),
      unauthorized,
    },
    sandboxUserinfo(unauthorized),
  ],
};
