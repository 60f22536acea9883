import { Profile, profileFromTokenResponse } from '@passport-martech/oauth2';

/**
 * The profile of a Marketo login. Marketo documents no identity endpoint (UNK); the token response's
 * `scope` is the API user's email (DOC for client credentials), so `id` is the first of `user_id`,
 * `account_id`, `id`, `sub`, `email`, then that email. Set `userProfileURL` to use an identity
 * endpoint instead.
 */
export interface MarketoProfile extends Profile {
  provider: 'marketo';
}

/** Parses a Marketo token response (tokens are never copied into the profile). */
export function parseMarketoTokenProfile(tokenResponse: Record<string, unknown>): MarketoProfile | undefined {
  return profileFromTokenResponse('marketo', tokenResponse, { scopeIsEmail: true }) as MarketoProfile | undefined;
}
