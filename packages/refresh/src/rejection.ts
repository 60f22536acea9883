import type { TokenRejectedCheck } from './manager-options';

/**
 * HTTP 401: the default rejection check of `TokenManager.fetch`. A provider whose API rejects a token
 * in another way supplies its own rule with its strategy (`isTokenRejected(response)`), which
 * TokenRefresher hands out as `rejectionCheck(name)`.
 */
export const unauthorizedStatus: TokenRejectedCheck = (response) => response.status === 401;
