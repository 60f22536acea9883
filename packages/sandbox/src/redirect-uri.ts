/** Redirect URI registration and the error/success redirects of the authorize endpoint. */
import type { Response } from 'express';
import type { ResolvedClient } from './config';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Exact match against the client's registered URIs (RFC 6749 section 3.1.2.3); a client without a list
 * accepts any loopback `http` URI, any port (RFC 8252 section 7.3).
 */
export function redirectUriAllowed(client: ResolvedClient, uri: string): boolean {
  if (client.redirectUris) return client.redirectUris.includes(uri);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' || url.username || url.password || uri.includes('#')) return false;
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** 302 to the client with `params` added to the redirect URI's own query (RFC 6749 section 4.1.2). */
export function redirectToClient(res: Response, redirectUri: string, params: Record<string, string | undefined>): void {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  res.status(302).set({ Location: url.toString(), 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).end();
}
