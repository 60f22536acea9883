import { Profile, profileFromTokenResponse } from '@passport-martech/oauth2';

/** The profile of a BoomTown login, from the token response's identity fields (UNK: no identity endpoint). */
export interface BoomTownProfile extends Profile {
  provider: 'boomtown';
}

export function parseBoomTownTokenProfile(tokenResponse: Record<string, unknown>): BoomTownProfile | undefined {
  return profileFromTokenResponse('boomtown', tokenResponse) as BoomTownProfile | undefined;
}
