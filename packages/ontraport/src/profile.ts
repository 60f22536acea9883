import type { Profile } from '@passport-martech/oauth2';

/**
 * The profile of an Ontraport login: `id` is the first of the token response's `user_id`, `account_id`
 * (what the guides' server sends), `id`, `sub`, `email`. Ontraport documents no identity endpoint (UNK).
 */
export interface OntraportProfile extends Profile {
  provider: 'ontraport';
}
