import { Profile, profileFromTokenResponse } from '@passport-martech/oauth2';

/**
 * The profile of an Ontraport login: `id` is the token response's `account_id` (or `user_id`, `id`,
 * `sub`, `email`, whichever comes first). Ontraport documents no identity endpoint (UNK).
 */
export interface OntraportProfile extends Profile {
  provider: 'ontraport';
}

export function parseOntraportTokenProfile(tokenResponse: Record<string, unknown>): OntraportProfile | undefined {
  return profileFromTokenResponse('ontraport', tokenResponse) as OntraportProfile | undefined;
}
