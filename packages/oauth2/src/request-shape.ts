/**
 * Express's request and response objects in V8's dictionary mode, for the two requests of a login (the
 * strategy does it in `authenticate`) and, as the middleware `dictionaryMode`, for every request of an app
 * that wants the same for all of them.
 *
 * Express (4 and 5) gives every request and response the app's prototypes with `Object.setPrototypeOf`.
 * In V8 11.3 (Node 20) an object whose prototype is replaced after it has properties gets a hidden class
 * from which V8 records no transitions: each property added afterwards (by the router, express-session,
 * passport, the app: `req.session`, `req.user`, `res.end`, a few dozen per request) builds a new hidden
 * class, for every request, and the property accesses of all that code miss their inline caches and go
 * through V8's runtime. In dictionary mode the properties live in a hash table and the objects of every
 * request share one hidden class, so those caches hit. Measured (bench README, figures 3 and 4): a
 * signed-in request of the example 1.84 -> 1.20 million instructions; a login about 10% less CPU.
 *
 * V8 switches an object to dictionary mode when a property other than the last one added is deleted: two
 * symbols are added and both deleted, so the object keeps exactly the properties it had, in their order.
 * Only Node's own request and response objects whose prototype was replaced (Express's) are touched; a
 * plain `http` server's objects keep their stable hidden classes, and anything else (a proxy, a frozen
 * object, a test's stand-in request) is left alone.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { types } from 'node:util';

const FIRST = Symbol('passport-martech.dictionaryMode.1');
const SECOND = Symbol('passport-martech.dictionaryMode.2');

/** Whether `object` is an instance of `type` whose prototype Express replaced (and can take properties). */
function hasReplacedPrototype(object: unknown, type: typeof IncomingMessage | typeof ServerResponse): object is Record<symbol, unknown> {
  return (
    typeof object === 'object' &&
    object !== null &&
    !types.isProxy(object) &&
    object instanceof type &&
    Object.getPrototypeOf(object) !== type.prototype &&
    Object.isExtensible(object)
  );
}

function toDictionaryMode(object: Record<symbol, unknown>): void {
  object[FIRST] = undefined;
  object[SECOND] = undefined;
  delete object[FIRST];
  delete object[SECOND];
}

/** Puts an Express request and its response in dictionary mode; anything else is left as it is. */
export function useDictionaryMode(req: unknown, res: unknown): void {
  if (hasReplacedPrototype(req, IncomingMessage)) toDictionaryMode(req);
  if (hasReplacedPrototype(res, ServerResponse)) toDictionaryMode(res);
}

/** The same as an Express middleware, for every request of an app: mount it first (`app.use(dictionaryMode)`). */
export function dictionaryMode(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  useDictionaryMode(req, res);
  next();
}
