// No @types installed by hand: the packages bring what their declarations name.
import { HubSpotStrategy } from '@passport-martech/hubspot';
import { TokenRefresher } from '@passport-martech/refresh';

const hubspot = new HubSpotStrategy(
  { clientID: 'id', clientSecret: 'secret', callbackURL: 'http://localhost:3000/auth/hubspot/callback' },
  (accessToken, refreshToken, profile, done) => done(null, { id: profile.id }),
);
new TokenRefresher().use(hubspot);
