/**
 * request-shape.ts: Express's request and response objects in V8's dictionary mode, with the properties
 * they had; everything else left alone. Real HTTP (supertest listens on 127.0.0.1).
 */
import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import express, { type Request, type Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { dictionaryMode, dictionaryModeForExpress } from '../src/request-shape';
import { TestStrategy } from './helpers';

setFlagsFromString('--allow-natives-syntax');
// V8 intrinsics can only be reached from code compiled with the flag on.
const hasFastProperties = new Function('object', 'return %HasFastProperties(object)') as (object: object) => boolean;
const toFastProperties = new Function('object', '%ToFastProperties(object)') as (object: object) => void;
setFlagsFromString('--no-allow-natives-syntax');

/**
 * Fast properties first, so that what follows is what is measured: V8 may have put a request in dictionary
 * mode already, depending on what the process ran before (seen once in CI, after dozens of test files in
 * the same worker).
 */
function fastFirst(...objects: object[]): void {
  for (const object of objects) toFastProperties(object);
}

/** Own keys with their values, in order (what an app or a library could observe). */
function ownEntries(object: object): [PropertyKey, unknown][] {
  return Reflect.ownKeys(object).map((key) => [key, Reflect.get(object, key)]);
}

/** What `inspect(req, res)` saw in a route of a bare Express app. */
async function inExpressRoute<T>(inspect: (req: Request, res: Response) => T): Promise<T> {
  let seen: T | undefined;
  const app = express();
  app.get('/', (req, res) => {
    seen = inspect(req, res);
    res.json({ ok: true });
  });
  await request(app).get('/').expect(200);
  return seen as T;
}

// V8's heuristics are what this module works with; the project's Node (DESIGN.md) is 20.
const onNode20 = process.versions.node.startsWith('20.') ? it : it.skip;

describe('dictionaryModeForExpress', () => {
  onNode20("puts an Express request and response in dictionary mode, keeping their properties and order", async () => {
    const seen = await inExpressRoute((req, res) => {
      fastFirst(req, res);
      const before = { req: ownEntries(req), res: ownEntries(res), fast: [hasFastProperties(req), hasFastProperties(res)] };
      dictionaryModeForExpress(req, res);
      return { before, after: { req: ownEntries(req), res: ownEntries(res), fast: [hasFastProperties(req), hasFastProperties(res)] } };
    });
    expect(seen.before.fast).toEqual([true, true]);
    expect(seen.after.fast).toEqual([false, false]);
    expect(seen.after.req).toEqual(seen.before.req);
    expect(seen.after.res).toEqual(seen.before.res);
  });

  it('keeps every property an Express request had, in order, on any Node', async () => {
    const seen = await inExpressRoute((req, res) => {
      const before = [ownEntries(req), ownEntries(res)];
      dictionaryModeForExpress(req, res);
      return { before, after: [ownEntries(req), ownEntries(res)] };
    });
    expect(seen.after).toEqual(seen.before);
  });

  onNode20("leaves a plain http server's request and response as they are, subclasses of Node's too", async () => {
    class Request extends IncomingMessage {}
    class Response extends ServerResponse {}
    for (const options of [{}, { IncomingMessage: Request, ServerResponse: Response }]) {
      let seen: boolean[] = [];
      const server = createServer(options, (req, res) => {
        fastFirst(req, res);
        dictionaryModeForExpress(req, res);
        seen = [hasFastProperties(req), hasFastProperties(res)];
        res.end('ok');
      });
      await request(server).get('/').expect(200);
      expect(seen).toEqual([true, true]);
    }
  });

  onNode20('as the middleware dictionaryMode: every request of the app, then the next middleware', async () => {
    const app = express();
    app.use((req, res, next) => (fastFirst(req, res), next()));
    app.use(dictionaryMode);
    app.get('/', (req, res) => res.json({ fast: [hasFastProperties(req), hasFastProperties(res)] }));
    await request(app).get('/').expect(200, { fast: [false, false] });
  });

  it('leaves alone what is not a Node request (a stand-in, a proxy, a frozen request), without throwing', async () => {
    const standIn = { query: { code: 'x' }, session: {} };
    dictionaryModeForExpress(standIn, undefined);
    expect(Reflect.ownKeys(standIn)).toEqual(['query', 'session']);
    if (process.versions.node.startsWith('20.')) expect(hasFastProperties(standIn)).toBe(true);

    const traps: string[] = [];
    await inExpressRoute((req, res) => {
      const proxy = new Proxy(req, {
        set: (target, key, value) => (traps.push(`set ${String(key)}`), Reflect.set(target, key, value)),
        deleteProperty: (target, key) => (traps.push(`delete ${String(key)}`), Reflect.deleteProperty(target, key)),
      });
      dictionaryModeForExpress(proxy, res);
      // A frozen object with Express's request prototype: it cannot take the two symbols.
      const frozen = Object.freeze(Object.create(Object.getPrototypeOf(req) as object) as object);
      expect(() => dictionaryModeForExpress(frozen, undefined)).not.toThrow();
      expect(Reflect.ownKeys(frozen)).toEqual([]);
    });
    expect(traps).toEqual([]);
  });
});

onNode20("a login's requests: the strategy puts them in dictionary mode in an Express app", async () => {
  const strategy = new TestStrategy('http://127.0.0.1:9', {}, () => undefined);
  const passport = new Passport();
  passport.use(strategy);
  const app = express();
  app.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false }));
  const seen: boolean[] = [];
  app.use((req, res, next) => {
    fastFirst(req, res);
    seen.push(hasFastProperties(req));
    res.on('finish', () => seen.push(hasFastProperties(req), hasFastProperties(res)));
    next();
  });
  app.get('/auth/test', passport.authenticate('test'));
  await request(app).get('/auth/test').expect(302);
  expect(seen).toEqual([true, false, false]);
});
