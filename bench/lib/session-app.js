'use strict';
/**
 * Figure 3's apps, one per process, both answering GET /bench/me with a small JSON body for a signed-in
 * session (401 otherwise):
 *
 * - STACK=ours: the example server (examples/redis-session, createApp) as it is, configured as the demo
 *   configures it against the sandbox (LOG_LEVEL warn), with one JSON route added after its last route,
 *   so that its whole middleware stack (helmet, request logger, Redis fail-fast, express-session +
 *   connect-redis, passport session with deserializeUser, no-store) runs before it and its 404 and error
 *   handlers stay after it. The session comes from a real login (GET /auth/hubspot through the sandbox).
 * - STACK=baseline: the stack a Passport user already runs: Express 5 + express-session + connect-redis 8
 *   (RedisStore) + ioredis + passport.initialize() + passport.session(), with a deserializeUser that
 *   returns the session's user; GET /bench/login signs a user in with req.login (passport regenerates
 *   the session), as a strategy's callback would.
 *
 * env: REDIS_URL, SANDBOX_URL (ours). Sends { ready, url, loginPath } over IPC; answers { cmd: 'cpu' }.
 */
const http = require('node:http');
const { join } = require('node:path');
const { serveRequests } = require('./util');

const SESSION_SECRET = 'bench-session-secret-0123456789-abcdefghij';
const EXAMPLE_DIR = join(__dirname, '..', '..', 'examples', 'redis-session');

function meJson(user) {
  return { id: user.id, providers: Object.keys(user.identities || {}), name: user.name || null };
}

/** Puts `route` right after the app's last route layer (before its 404 and error handlers). */
function insertAfterLastRoute(app, path, handler) {
  app.get(path, handler);
  const stack = app.router.stack;
  const layer = stack.pop();
  let at = stack.length;
  for (let i = stack.length - 1; i >= 0; i--) {
    if (stack[i].route) {
      at = i + 1;
      break;
    }
  }
  stack.splice(at, 0, layer);
}

async function oursApp(baseUrl) {
  const example = require(EXAMPLE_DIR);
  const config = example.loadConfig({
    SANDBOX_URL: process.env.SANDBOX_URL,
    REDIS_URL: process.env.REDIS_URL,
    SESSION_SECRET,
    BASE_URL: baseUrl,
    PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const handle = example.createApp(config);
  await handle.ready(5000);
  insertAfterLastRoute(handle.app, '/bench/me', (req, res) => {
    if (!req.user) return res.status(401).json({ error: 'not signed in' });
    res.json(meJson(req.user));
  });
  return { app: handle.app, loginPath: '/auth/hubspot', close: () => handle.close() };
}

function baselineApp() {
  const express = require('express');
  const session = require('express-session');
  const { RedisStore } = require('connect-redis');
  const Redis = require('ioredis');
  const { Passport } = require('passport');
  const client = new Redis(process.env.REDIS_URL);
  const passport = new Passport();
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user, done) => done(null, user));
  const app = express();
  app.disable('x-powered-by');
  app.use(
    session({
      name: 'sid',
      secret: SESSION_SECRET,
      store: new RedisStore({ client, prefix: 'bare-sess:' }),
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: 86400 * 1000 },
    }),
  );
  app.use(passport.initialize());
  app.use(passport.session());
  app.get('/bench/login', (req, res, next) => {
    const user = { id: 'bench-user-1', identities: { hubspot: { id: '7654321' } }, name: 'Bench User' };
    req.login(user, (err) => (err ? next(err) : res.json({ ok: true })));
  });
  app.get('/bench/me', (req, res) => {
    if (!req.user) return res.status(401).json({ error: 'not signed in' });
    res.json(meJson(req.user));
  });
  return { app, loginPath: '/bench/login', close: () => client.quit() };
}

async function main() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const built = process.env.STACK === 'ours' ? await oursApp(url) : baselineApp();
  server.on('request', built.app);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    Promise.resolve(built.close()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  serveRequests(() => ({ cpu: process.cpuUsage() }));
  process.send({ ready: true, url, loginPath: built.loginPath });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
