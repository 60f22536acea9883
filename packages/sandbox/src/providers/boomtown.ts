/**
 * BoomTown (boomtownroi.com). GUIDE only: BoomTown publishes no developer documentation (partners get API
 * access through their account manager), so every endpoint here follows the 2024 guides and RFC 6749/6750.
 */
import type { ProviderDialect } from '../dialect';
import { rfc6749Shape } from '../errors';
import { rfc6750Unauthorized, sandboxUserinfo } from './common';

export const boomtown: ProviderDialect = {
  id: 'boomtown',
  displayName: 'BoomTown',
  defaultAccessTokenTtlSeconds: 3600,
  defaultUser: { userId: 'bt-demo-agent-1', email: 'demo+boomtown@example.com', name: 'Demo Agent', accountId: '4242' },
  errorShape: rfc6749Shape,
  flows: [
    {
      name: 'main',
      mark: 'GUIDE',
      authorizePaths: ['/oauth/authorize'],
      tokenPaths: ['/oauth/token'],
      bodyEncoding: 'json',
      clientAuth: ['client_secret_post', 'client_secret_basic'],
      pkce: { required: false, methods: ['S256', 'plain'], mark: 'UNK' },
      resourceRequired: false,
      // GUIDE: `offline_access` is what gets a refresh token.
      requiredScopes: ['offline_access'],
      tokenResponse: ({ accessToken, refreshToken, expiresIn, grant }) => ({
        access_token: accessToken,
        refresh_token: refreshToken,
        token_type: 'Bearer',
        expires_in: expiresIn,
        scope: grant.scopes.join(' '),
        user_id: String(grant.user.userId),
        email: grant.user.email,
      }),
    },
  ],
  strategy: {
    packageName: '@passport-martech/boomtown',
    urls: { authorizationURL: 'authorize', tokenURL: 'token', apiBaseURL: '/v1' },
  },
  resources: [
    {
      kind: 'bearer',
      path: '/v1/leads',
      endpoint: 'api',
      mark: 'GUIDE',
      render: () => ({
        body: {
          data: [
            { id: 'L-1001', firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', status: 'new' },
            { id: 'L-1002', firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.com', status: 'active' },
          ],
        },
      }),
      unauthorized: rfc6750Unauthorized,
    },
    sandboxUserinfo(rfc6750Unauthorized),
  ],
};
