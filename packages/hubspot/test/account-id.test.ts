/**
 * What a non-digit `accountId` passed per request really does, in the README's own route (the README
 * says so): passport's failure (400, or the failureRedirect with a message naming the option), never
 * the error handler, and no redirect to HubSpot.
 */
import express, { NextFunction, Request, Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { HubSpotStrategy } from '../src';

function app() {
  const passport = new Passport();
  passport.use(
    new HubSpotStrategy({ clientID: 'id', clientSecret: 'secret', callbackURL: 'http://127.0.0.1/cb' }, (_a, _r, profile, done) =>
      done(null, { id: profile.id }),
    ),
  );
  const errors: unknown[] = [];
  const server = express();
  server.use(session({ secret: 'test', resave: false, saveUninitialized: false }));
  server.use(passport.initialize());
  server.get('/auth/hubspot/account/:id', (req, res, next) => passport.authenticate('hubspot', { accountId: req.params.id })(req, res, next));
  server.get('/auth/hubspot/pinned/:id', (req, res, next) =>
    passport.authenticate('hubspot', { accountId: req.params.id, failureRedirect: '/login', failureMessage: true })(req, res, next),
  );
  server.get('/login', (req, res) => res.json((req.session as unknown as { messages?: string[] }).messages ?? []));
  server.use((err: Error, _req: Request, res: Response, next: NextFunction) => {
    void next;
    errors.push(err);
    res.status(500).send('handled');
  });
  return { server, errors };
}

test('a digit accountId pins the authorize URL', async () => {
  const { server } = app();
  const res = await request(server).get('/auth/hubspot/account/12345');
  expect(res.status).toBe(302);
  expect(new URL(res.headers.location as string).pathname).toBe('/oauth/12345/authorize');
});

test('a non-digit accountId: passport answers 400 and the error handler never runs', async () => {
  const { server, errors } = app();
  const res = await request(server).get('/auth/hubspot/account/abc');
  expect({ status: res.status, location: res.headers.location, errors }).toEqual({ status: 400, location: undefined, errors: [] });
});

test('with failureRedirect and failureMessage, the message names accountId', async () => {
  const { server, errors } = app();
  const agent = request.agent(server);
  const res = await agent.get('/auth/hubspot/pinned/12a');
  expect([res.status, res.headers.location]).toEqual([302, '/login']);
  expect((await agent.get('/login')).body).toEqual([expect.stringContaining('accountId')]);
  expect(errors).toEqual([]);
});
