/** PKCE (RFC 7636). */
import { createHash } from 'node:crypto';
import type { Params } from './body';
import type { PkceMethod } from './dialect';
import { invalidGrant, invalidRequest } from './errors';
import { secretsEqual } from './client-auth';

/** RFC 7636 section 4.1/4.2: 43-128 unreserved characters (an S256 challenge is 43). */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export interface Challenge {
  codeChallenge: string;
  codeChallengeMethod: PkceMethod;
}

/** Reads the authorize request's challenge; throws invalid_request (redirected) on a bad one. */
export function readChallenge(params: Params, rule: { required: boolean; methods: PkceMethod[] }): Challenge | undefined {
  const codeChallenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (codeChallenge === undefined) {
    if (rule.required) throw invalidRequest('code_challenge is required (PKCE)');
    if (method !== undefined) throw invalidRequest('code_challenge_method without code_challenge');
    return undefined;
  }
  // RFC 7636 section 4.3: the method defaults to `plain`.
  const codeChallengeMethod = (method ?? 'plain') as PkceMethod;
  if (!rule.methods.includes(codeChallengeMethod)) {
    throw invalidRequest(`code_challenge_method must be ${rule.methods.join(' or ')}`);
  }
  if (!PKCE_VALUE.test(codeChallenge)) throw invalidRequest('code_challenge is malformed');
  return { codeChallenge, codeChallengeMethod };
}

/**
 * Checks `code_verifier` against the recorded challenge. A verifier without a recorded challenge is refused
 * too (OAuth 2.1 / RFC 9700 section 2.1.1: PKCE downgrade protection).
 */
export function verifyPkce(challenge: Partial<Challenge>, verifier: string | undefined): void {
  if (challenge.codeChallenge === undefined) {
    if (verifier !== undefined) throw invalidGrant('code_verifier sent but the authorization request had no code_challenge', 'code');
    return;
  }
  if (verifier === undefined) throw invalidGrant('code_verifier is required (PKCE)', 'code');
  if (!PKCE_VALUE.test(verifier)) throw invalidGrant('code_verifier is malformed', 'code');
  const computed =
    challenge.codeChallengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  if (!secretsEqual(computed, challenge.codeChallenge)) throw invalidGrant('code_verifier does not match the code_challenge', 'code');
}
