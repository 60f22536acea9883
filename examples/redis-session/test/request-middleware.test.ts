/** series() (middlewares mounted as one router layer) and dictionaryMode(), on a bare Express app. */
import { setFlagsFromString } from 'node:v8';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import request from 'supertest';
import { dictionaryMode } from '@passport-martech/oauth2';
import { series } from '../src/series';

function appWith(...handlers: RequestHandler[]) {
  const app = express();
  const ran: string[] = [];
  const step =
    (name: string): RequestHandler =>
    (_req, _res, next) => {
      ran.push(name);
      next();
    };
  app.use(series(step('first'), ...handlers, step('last')));
  app.get('/', (_req, res) => res.json({ ran }));
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    res.status(500).json({ ran, error: err instanceof Error ? err.message : String(err) });
  };
  app.use(onError);
  return app;
}

test('runs each middleware in order, then the next layer', async () => {
  const res = await request(appWith()).get('/').expect(200);
  expect(res.body).toEqual({ ran: ['first', 'last'] });
});

test('next(err), a throw and a rejected promise skip the rest and reach the error handler, as between layers', async () => {
  const failing: RequestHandler[] = [
    (_req, _res, next) => next(new Error('passed on')),
    () => {
      throw new Error('thrown');
    },
    async () => {
      await Promise.resolve();
      throw new Error('rejected');
    },
    (_req, _res, next) => setImmediate(() => next(new Error('later'))),
  ];
  for (const [handler, message] of [
    [failing[0], 'passed on'],
    [failing[1], 'thrown'],
    [failing[2], 'rejected'],
    [failing[3], 'later'],
  ] as const) {
    const res = await request(appWith(handler)).get('/').expect(500);
    expect(res.body).toEqual({ ran: ['first'], error: message });
  }
});

test("next('route') goes on to the following middleware, as it would to the following layer", async () => {
  const res = await request(appWith((_req, _res, next) => next('route'))).get('/').expect(200);
  expect(res.body).toEqual({ ran: ['first', 'last'] });
});

test('a middleware that answers ends the series', async () => {
  const res = await request(appWith((_req, res) => void res.status(503).json({ answered: true }))).get('/').expect(503);
  expect(res.body).toEqual({ answered: true });
});

test('dictionaryMode leaves the request and response with the properties they had, in dictionary mode', async () => {
  setFlagsFromString('--allow-natives-syntax');
  // V8 intrinsics can only be reached from code compiled with the flag on.
  const hasFastProperties = new Function('object', 'return %HasFastProperties(object)') as (object: object) => boolean;
  const toFastProperties = new Function('object', '%ToFastProperties(object)') as (object: object) => void;
  setFlagsFromString('--no-allow-natives-syntax');
  const seen: Record<string, unknown> = {};
  const app = express();
  app.use((req, res, next) => {
    // V8 may have put them in dictionary mode already (its heuristics depend on what the process ran
    // before: seen once in CI, after dozens of test files in the same worker); fast first, so that the
    // middleware is what is measured.
    toFastProperties(req);
    toFastProperties(res);
    seen.before = [Reflect.ownKeys(req).length, Reflect.ownKeys(res).length, hasFastProperties(req), hasFastProperties(res)];
    next();
  });
  app.use(dictionaryMode);
  app.get('/', (req, res) => {
    seen.after = [Reflect.ownKeys(req).length, Reflect.ownKeys(res).length, hasFastProperties(req), hasFastProperties(res)];
    res.json({ ok: true });
  });
  await request(app).get('/').expect(200, { ok: true });
  const [reqKeys, resKeys] = seen.before as number[];
  expect(seen.before).toEqual([reqKeys, resKeys, true, true]);
  // The route layer adds req.route and nothing else.
  expect(seen.after).toEqual([reqKeys + 1, resKeys, false, false]);
});
