// ESM (compiled by the nodenext and bundler consumers): the default import is the class (no TS2351), refresh's is the ready instance.
import HubSpotStrategy, { HubSpotStrategy as Named, type HubSpotProfile } from '@passport-martech/hubspot';
import MarketoStrategy from '@passport-martech/marketo';
import OntraportStrategy from '@passport-martech/ontraport';
import CustomerIoStrategy from '@passport-martech/customerio';
import BoomTownStrategy from '@passport-martech/boomtown';
import refresh, { TokenRefresher, TokenManager, MemoryTokenStore } from '@passport-martech/refresh';

const hubspot = new HubSpotStrategy(
  { clientID: 'id', clientSecret: 'secret', callbackURL: 'http://localhost:3000/auth/hubspot/callback' },
  (accessToken: string, refreshToken: string | undefined, profile: HubSpotProfile, done: (err: unknown, user?: Express.User) => void) =>
    done(null, { id: profile.id }),
);
const named: Named = hubspot;
const refresher = new TokenRefresher().use(named);
refresh.use(hubspot);
new TokenManager({ refresher, store: new MemoryTokenStore() });
export const classes = [MarketoStrategy, OntraportStrategy, CustomerIoStrategy, BoomTownStrategy];
