import type { Profile } from '@passport-martech/oauth2';

/** The profile of a Customer.io login, from the token response's identity fields (UNK: no identity endpoint). */
export interface CustomerIoProfile extends Profile {
  provider: 'customerio';
}
