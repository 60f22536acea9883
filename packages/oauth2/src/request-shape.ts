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
 * Only objects whose prototype is exactly the Express app's `request` or `response` are touched: a plain
 * `http` server's objects (and subclasses of them: serverless adapters, test injectors) keep their stable
 * hidden classes, and anything else (a proxy, a frozen object, a test's stand-in request) is left alone.
 * Measured on Node 20 (V8 11.3); on later versions the switch still leaves the objects as they were.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { types } from 'node:util';

const FIRST = Symbol('passport-martech.dictionaryMode.1');
const SECOND = Symbol('passport-martech.dictionaryMode.2');
const NEW_PROPERTY = { value: undefined, writable: true, enumerable: true, configurable: true };

/**
 * Whether `object`'s prototype is its Express app's `request` (or `response`) object, which Express
 * creates with the app as an own `app` property. Read without running anyone's code: no proxy trap, no
 * getter, and the prototype chain above is never consulted.
 */
function isExpressObject(object: unknown, kind: 'request' | 'response'): object is object {
  if (typeof object !== 'object' || object === null || types.isProxy(object)) return false;
  const prototype: unknown = Object.getPrototypeOf(object);
  if (typeof prototype !== 'object' || prototype === null || types.isProxy(prototype)) return false;
  const app: unknown = Object.getOwnPropertyDescriptor(prototype, 'app')?.value;
  if ((typeof app !== 'function' && typeof app !== 'object') || app === null || types.isProxy(app)) return false;
  return Object.getOwnPropertyDescriptor(app, kind)?.value === prototype && Object.isExtensible(object);
}

function toDictionaryMode(object: object): void {
  // defineProperty, not assignment: it never reaches a setter or proxy up the prototype chain.
  Reflect.defineProperty(object, FIRST, NEW_PROPERTY);
  Reflect.defineProperty(object, SECOND, NEW_PROPERTY);
  Reflect.deleteProperty(object, FIRST);
  Reflect.deleteProperty(object, SECOND);
}

/** Puts an Express request and its response in dictionary mode; anything else is left as it is. */
export function dictionaryModeForExpress(req: unknown, res: unknown): void {
  if (isExpressObject(req, 'request')) toDictionaryMode(req);
  if (isExpressObject(res, 'response')) toDictionaryMode(res);
}

/** The same as an Express middleware, for every request of an app: mount it first (`app.use(dictionaryMode)`). */
export function dictionaryMode(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  dictionaryModeForExpress(req, res);
  next();
}
