/** CSRF synchronizer token and safe `returnTo` handling. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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
