/**
 * A small in-process rate limit per client address (fixed one-minute windows), for `/auth/*`.
 *
 * Every login start writes a pending login (state, PKCE verifier) to Redis; the limit bounds how many one
 * address can make. It runs before the session middleware, so a refused request costs no Redis command.
 *
 * - The address is `req.ip`: with `TRUST_PROXY` unset it is the TCP peer (behind a proxy: the proxy, so
 *   every user shares one budget); with `TRUST_PROXY=<hops>` it is the address that many proxies in front
 *   saw. `TRUST_PROXY=true` believes any `X-Forwarded-For`, so a client reaching the app directly picks
 *   its own address: use a hop count, and only behind proxies that overwrite the header.
 * - IPv6 addresses count per /64 (one home or host usually has a whole /64).
 * - Its memory is bounded: at most `maxClients` addresses per window. When a window already holds that
 *   many, requests from further addresses are refused until it ends (a flood from many addresses is
 *   slowed down as a whole instead of growing the table, or Redis).
 * - Each instance counts on its own: N instances allow N times the limit.
 * - Fixed windows: up to twice the limit can pass around a window's end.
 */
import { isIPv6 } from 'node:net';
import type { Request, RequestHandler, Response } from 'express';

export interface RateLimitOptions {
  /** Requests per window per address; 0 turns the limit off. */
  limit: number;
  windowMs?: number;
  /** Addresses tracked per window at most (default 10 000). */
  maxClients?: number;
  /** Answers a refused request; `retryAfter` in seconds. */
  refuse(req: Request, res: Response, retryAfter: number): void;
}

export function rateLimit(options: RateLimitOptions): RequestHandler {
  const windowMs = options.windowMs ?? 60_000;
  const maxClients = options.maxClients ?? 10_000;
  let counts = new Map<string, number>();
  let windowStart = Date.now();
  return (req, res, next) => {
    if (options.limit <= 0) return next();
    const now = Date.now();
    if (now - windowStart >= windowMs) {
      counts = new Map();
      windowStart = now;
    }
    const key = clientKey(req.ip ?? req.socket.remoteAddress ?? '');
    const count = counts.get(key);
    if ((count === undefined && counts.size >= maxClients) || (count ?? 0) >= options.limit) {
      return options.refuse(req, res, Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000)));
    }
    counts.set(key, (count ?? 0) + 1);
    next();
  };
}

/** The address as counted: IPv4 (also IPv4-mapped IPv6) as is, other IPv6 by its /64 prefix. */
export function clientKey(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (!isIPv6(address)) return address;
  const [head, tail] = address.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
