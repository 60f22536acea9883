import { createHash } from 'node:crypto';

/**
 * A short, one-way fingerprint of a refresh token: records that must name a token (a failure note, a
 * retired store record) hold this, never the token.
 */
export function fingerprint(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('base64url').slice(0, 22);
}
