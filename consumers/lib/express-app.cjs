// The app every Express consumer serves: a session, passport, one route pair per strategy, and /me.
// `strategies` maps a provider id to its Strategy class, however the app imported it.
const { PROVIDERS, sandboxOptions } = require('./providers.cjs');

function serve({ express, session, passport, strategies }) {
  const appURL = `http://127.0.0.1:${process.env.PORT}`;
  for (const id of PROVIDERS) {
    const Strategy = strategies[id];
    if (typeof Strategy !== 'function') throw new TypeError(`${id}: the imported strategy is ${typeof Strategy}, not a class`);
    const verify = (accessToken, refreshToken, profile, done) => done(null, { provider: profile.provider, id: profile.id });
    passport.use(new Strategy(sandboxOptions(id, process.env.SANDBOX_URL, appURL), verify));
  }
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user, done) => done(null, user));

  const app = express();
  app.use(session({ secret: 'consumer-matrix', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.use(passport.session());
  app.get('/auth/:id', (req, res, next) => passport.authenticate(req.params.id)(req, res, next));
  app.get('/auth/:id/callback', (req, res, next) =>
    passport.authenticate(req.params.id, { successRedirect: '/', failureRedirect: '/failed' })(req, res, next),
  );
  app.get('/me', (req, res) => res.json({ user: req.user ?? null }));
  app.use((err, req, res, next) => {
    void next;
    console.error(err);
    res.status(500).json({ error: String(err && err.message) });
  });
  return app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`listening ${appURL}`));
}

module.exports = { serve };
