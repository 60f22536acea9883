/** Pieces several provider tables share. */
import type { BearerResource, ResourceAnswer, TokenProblem } from '../dialect';

/** The path of the sandbox-only identity endpoint below, under a provider's base. */
export const SANDBOX_USERINFO_PATH = '/userinfo';

/**
 * SANDBOX-ONLY identity endpoint `GET /userinfo` (Bearer) -> `{ id, email, name }`. Marketo, Ontraport,
 * Customer.io and BoomTown document no identity endpoint (UNK in docs/providers.md); this exists so a strategy's
 * `userProfileURL` option can be exercised against the sandbox. Do not expect it at the real provider.
 */
export function sandboxUserinfo(unauthorized: (problem: TokenProblem) => ResourceAnswer): BearerResource {
  return {
    kind: 'bearer',
    path: SANDBOX_USERINFO_PATH,
    endpoint: 'identity',
    mark: 'UNK',
    render: ({ user }) => ({ body: { id: String(user.userId), email: user.email, name: user.name } }),
    unauthorized,
  };
}

const DESCRIPTIONS: Record<TokenProblem, string> = {
  missing: 'No access token was sent',
  invalid: 'The access token is invalid',
  expired: 'The access token expired',
};

/**
 * RFC 6750 section 3: a 401 names the problem in `WWW-Authenticate` — except when no token was sent at
 * all, where the header carries no error code (section 3.1).
 */
export function rfc6750Unauthorized(problem: TokenProblem): ResourceAnswer {
  const header =
    problem === 'missing'
      ? 'Bearer'
      : `Bearer error="invalid_token", error_description="${DESCRIPTIONS[problem]}"`;
  return {
    status: 401,
    headers: { 'WWW-Authenticate': header },
    body: { error: 'invalid_token', error_description: DESCRIPTIONS[problem] },
  };
}
