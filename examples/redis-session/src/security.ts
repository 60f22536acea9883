/** CSRF synchronizer token and safe `returnTo` handling. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request } from 'express';

declare module 'express-session' {
  interface SessionData {
    /** The session's CSRF token (synchronizer token pattern). */
    csrfToken?: string;
  }
}

/** The session's CSRF token, made on first use. Only call it for a request that has (or will save) a session. */
export function csrfToken(req: Request): string {
  if (!req.session.csrfToken) req.session.csrfToken = randomBytes(32).toString('base64url');
  return req.session.csrfToken;
}

/** True when the form's `_csrf` field matches the session's token (compared in constant time). */
export function validCsrf(req: Request): boolean {
  const expected = req.session?.csrfToken;
  const body = req.body as Record<string, unknown> | undefined;
  const given = body?._csrf;
  if (typeof expected !== 'string' || typeof given !== 'string' || given === '') return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

const ORIGIN = 'http://return-to.invalid';

/**
 * A `returnTo` that stays on this site: a path starting with a single `/`. Refuses (undefined)
 * protocol-relative `//host`, `/\host` (browsers read `\` as `/`), absolute URLs, control characters,
 * and anything that resolves to another origin.
 */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || value.length > 1000) return undefined;
  if (!value.startsWith('/') || value.startsWith('//')) return undefined;
  // Backslashes and control characters (tab, newline) are normalised away by browsers: refuse them.
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x5c /* \\ */) return undefined;
  }
  let url: URL;
  try {
    url = new URL(value, ORIGIN);
  } catch {
    return undefined;
  }
  if (url.origin !== ORIGIN) return undefined;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments can normalise `/.//evil.example` or `/a/..//evil.example` into `//evil.example`, which a
  // browser reads as another host: check the result as strictly as the input.
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('\\')) return undefined;
  return path;
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * The same headers as `middleware` (helmet, configured with fixed values), worked out once and then set
 * on each response with one loop: helmet runs a chain of thirteen middlewares per request to set values
 * that never change. Only a middleware that sets and removes headers at once, the same for any request,
 * can be replayed: anything else (a directive computed per request, a nonce) throws here, at startup.
 */
export function fixedHeaders(middleware: Middleware): Middleware {
  const set: [string, string | number | readonly string[]][] = [];
  const removed: string[] = [];
  let called = false;
  let failure: unknown;
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.push([name, value]);
      return recorder;
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  const probe = { method: 'GET', url: '/', headers: {} };
  middleware(probe as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    called = true;
    failure = err;
  });
  if (!called || failure) throw new Error('fixedHeaders: the middleware must set its headers and call next() at once, without an error');
  return (_req, res, next) => {
    for (let i = 0; i < set.length; i++) res.setHeader(set[i]![0], set[i]![1]);
    for (let i = 0; i < removed.length; i++) res.removeHeader(removed[i]!);
    next();
  };
}
