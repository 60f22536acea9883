import type { Profile } from '@passport-martech/oauth2';

/** The profile of a BoomTown login, from the token response's identity fields (UNK: no identity endpoint). */
export interface BoomTownProfile extends Profile {
  provider: 'boomtown';
}
