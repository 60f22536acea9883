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
  const shapes = loginLegShapes();
  app.get('/auth/:id', (req, res, next) => {
    shapes?.watch(req.params.id, req, res);
    passport.authenticate(req.params.id)(req, res, next);
  });
  if (shapes) app.get('/shapes', (req, res) => res.json(shapes.seen));
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

/**
 * With CHECK_DICTIONARY_MODE=1 (login-test.mjs sets it on Node 20): whether each strategy put the first
 * leg's Express request and response in V8's dictionary mode (@passport-martech/oauth2's request-shape.ts)
 * in this app's Express and passport, as installed. The objects are made fast first (V8 may have done it
 * already), so that the strategy is what is measured. Off, nothing is added to the app.
 */
function loginLegShapes() {
  if (process.env.CHECK_DICTIONARY_MODE !== '1') return undefined;
  const v8 = require('node:v8');
  v8.setFlagsFromString('--allow-natives-syntax');
  // V8 intrinsics can only be reached from code compiled with the flag on.
  const hasFastProperties = new Function('object', 'return %HasFastProperties(object)');
  const toFastProperties = new Function('object', '%ToFastProperties(object)');
  v8.setFlagsFromString('--no-allow-natives-syntax');
  const seen = {};
  return {
    seen,
    watch(id, req, res) {
      toFastProperties(req);
      toFastProperties(res);
      const before = [hasFastProperties(req), hasFastProperties(res)];
      res.once('finish', () => (seen[id] = { before, after: [hasFastProperties(req), hasFastProperties(res)] }));
    },
  };
}

module.exports = { serve };
