// CommonJS under nodenext: named imports, and the default import (the ready instance).
import { HubSpotStrategy } from '@passport-martech/hubspot';
import refresh, { TokenRefresher } from '@passport-martech/refresh';

const hubspot = new HubSpotStrategy(
  { clientID: 'id', clientSecret: 'secret', callbackURL: 'http://localhost:3000/auth/hubspot/callback' },
  (accessToken, refreshToken, profile, done) => done(null, { id: profile.id }),
);
refresh.use(hubspot);
new TokenRefresher().use('hubspot', hubspot);
