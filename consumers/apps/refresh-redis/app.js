// A HubSpot login whose verify saves the token set through TokenManager into RedisTokenStore (with a
// RedisLock); /token hands out an access token, refreshing it (skew of a year: every call refreshes).
const express = require('express');
const session = require('express-session');
const passport = require('passport');
const Redis = require('ioredis');
const { HubSpotStrategy } = require('@passport-martech/hubspot');
const refresh = require('@passport-martech/refresh');
const { TokenRefresher, TokenManager, RedisTokenStore, RedisLock } = refresh;
const { sandboxOptions } = require('./providers.cjs');

const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
const appURL = `http://127.0.0.1:${process.env.PORT}`;
const verify = (accessToken, refreshToken, params, profile, done) => {
  const user = { provider: profile.provider, id: profile.id };
  manager.save(user.id, 'hubspot', params.tokenSet).then(() => done(null, user), done);
};
const hubspot = new HubSpotStrategy(sandboxOptions('hubspot', process.env.SANDBOX_URL, appURL), verify);
passport.use(hubspot);
refresh.use(hubspot); // the default instance, as with passport-oauth2-refresh
const manager = new TokenManager({
  refresher: new TokenRefresher().use(hubspot),
  store: new RedisTokenStore({ client: redis, encryptionKey: 'a'.repeat(64) }),
  lock: new RedisLock({ client: redis }),
  skewSeconds: 365 * 24 * 3600,
});
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user, done) => done(null, user));

const app = express();
app.use(session({ secret: 'consumer-matrix', resave: false, saveUninitialized: false }));
app.use(passport.session());
app.get('/auth/:id', passport.authenticate('hubspot'));
app.get('/auth/:id/callback', passport.authenticate('hubspot', { successRedirect: '/', failureRedirect: '/failed' }));
app.get('/me', (req, res) => res.json({ user: req.user ?? null }));
app.get('/token', async (req, res, next) => {
  try {
    const sets = await Promise.all([1, 2, 3, 4, 5].map(() => manager.getTokenSet(req.user.id, 'hubspot')));
    refresh.requestNewAccessToken('hubspot', sets[0].refreshToken, (err, accessToken) => {
      if (err) return next(err);
      const distinct = new Set(sets.map((s) => s.accessToken)).size;
      res.json({ distinct, viaDefault: typeof accessToken === 'string' && accessToken.length > 0 });
    });
  } catch (e) {
    next(e);
  }
});
app.use((err, req, res, next) => {
  void next;
  console.error(err);
  res.status(500).json({ error: String(err && err.message) });
});
app.listen(Number(process.env.PORT), '127.0.0.1', () =>
  console.log(`listening ${appURL} (ioredis ${require('ioredis/package.json').version})`),
);
