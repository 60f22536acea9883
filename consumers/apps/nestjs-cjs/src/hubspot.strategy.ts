import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { HubSpotProfile, HubSpotStrategy, HubSpotStrategyOptions, TokenParams } from '@passport-martech/hubspot';

const SANDBOX = `${process.env.SANDBOX_URL}/hubspot`;

/** HubSpot pointed at the sandbox, with no session: the pending login is kept in an encrypted cookie. */
export function hubspotOptions(path: string): HubSpotStrategyOptions {
  return {
    clientID: 'demo-hubspot-client',
    clientSecret: 'demo-hubspot-secret',
    callbackURL: `http://127.0.0.1:${process.env.PORT}${path}/callback`,
    authorizationURL: `${SANDBOX}/oauth/authorize`,
    tokenURL: `${SANDBOX}/oauth/2026-03/token`,
    userProfileURL: `${SANDBOX}/oauth/2026-03/token/introspect`,
    state: { cookie: { key: process.env.STATE_COOKIE_KEY } },
  };
}

export interface SignedIn {
  id: string;
  provider: string;
  email: string | undefined;
  args: string[];
}

/** The documented form: validate(accessToken, refreshToken, profile); Nest calls done itself. */
@Injectable()
export class HubSpotAuthStrategy extends PassportStrategy(HubSpotStrategy, 'hubspot') {
  constructor() {
    super(hubspotOptions('/auth/hubspot'));
  }

  async validate(accessToken: string, refreshToken: string | undefined, profile: HubSpotProfile): Promise<SignedIn> {
    return {
      id: profile.id,
      provider: profile.provider,
      email: profile.emails[0]?.value,
      args: [typeof accessToken, typeof refreshToken, profile.provider === 'hubspot' ? 'profile' : typeof profile],
    };
  }
}

/** With `params` (the token response and its TokenSet): PassportStrategy's third argument `true`. */
@Injectable()
export class HubSpotParamsStrategy extends PassportStrategy(HubSpotStrategy, 'hubspot-params', true) {
  constructor() {
    super(hubspotOptions('/auth/hubspot-params'));
  }

  async validate(accessToken: string, refreshToken: string | undefined, params: TokenParams, profile: HubSpotProfile): Promise<SignedIn> {
    return {
      id: profile.id,
      provider: profile.provider,
      email: profile.emails[0]?.value,
      args: [typeof accessToken, typeof refreshToken, params.tokenSet.accessToken === accessToken ? 'tokenSet' : 'no tokenSet', typeof profile.hubId],
    };
  }
}
