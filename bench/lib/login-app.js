'use strict';
/**
 * Figure 4's app, one per process: Express 5 + express-session (memory store) + passport, with
 * GET /auth/hubspot and its callback, and nothing else. STRATEGY=ours: @passport-martech/hubspot with
 * profileSource 'token'; STRATEGY=baseline: a plain passport-oauth2 Strategy (state + PKCE, as ours) on
 * the same sandbox endpoints. SANDBOX_URL: the sandbox. Sends { ready, url } over IPC.
 */
const http = require('node:http');
const express = require('express');
const session = require('express-session');
const { Passport } = require('passport');
const OAuth2Strategy = require('passport-oauth2').Strategy;
const { HubSpotStrategy } = require('@passport-martech/hubspot');
const { HUBSPOT, hubspotEndpoints } = require('./sandbox');
const { serveRequests } = require('./util');

function createLoginApp({ strategy: kind, sandboxUrl, baseUrl }) {
  const endpoints = hubspotEndpoints(sandboxUrl);
  const callbackURL = `${baseUrl}/auth/hubspot/callback`;
  const verify = (_accessToken, _refreshToken, profile, done) => done(null, { id: profile.id || 'hubspot-user' });
  const strategy =
    kind === 'ours'
      ? new HubSpotStrategy({ ...HUBSPOT, ...endpoints, callbackURL, profileSource: 'token' }, verify)
      : new OAuth2Strategy(
          { ...HUBSPOT, authorizationURL: endpoints.authorizationURL, tokenURL: endpoints.tokenURL, callbackURL, scope: 'oauth', state: true, pkce: true },
          verify,
        );
  const passport = new Passport();
  passport.use('hubspot', strategy);
  passport.serializeUser((user, done) => done(null, user.id));
  passport.deserializeUser((id, done) => done(null, { id }));

  const app = express();
  app.disable('x-powered-by');
  app.use(session({ name: 'sid', secret: 'bench-login-secret-0123456789abcdef', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/hubspot', passport.authenticate('hubspot'));
  app.get('/auth/hubspot/callback', passport.authenticate('hubspot', { failureRedirect: '/failed' }), (_req, res) => res.redirect('/done'));
  // The error handler answers 500 so that the load generator counts it.
  app.use((err, _req, res, _next) => res.status(500).type('text').send(String((err && err.code) || 'error')));
  return app;
}

async function main() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  server.on('request', createLoginApp({ strategy: process.env.STRATEGY, sandboxUrl: process.env.SANDBOX_URL, baseUrl }));
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  // The parent reads this process's CPU time around a measurement.
  serveRequests(() => ({ cpu: process.cpuUsage() }));
  process.send({ ready: true, url: baseUrl });
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { createLoginApp };
