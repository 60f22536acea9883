/** Token-endpoint client authentication (RFC 6749 section 2.3). */
import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Params } from './body';
import type { ResolvedClient } from './config';
import type { ClientAuthMethod } from './dialect';
import { invalidClient, invalidRequest } from './errors';

/** Where clients are looked up: the configured ones, and those registered at run time. */
export type ClientLookup = Pick<Map<string, ResolvedClient>, 'get'>;

/** Compares secrets in constant time (hashing first makes the lengths equal). */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** RFC 6749 section 2.3.1: Basic credentials are each form-urlencoded before base64. */
function parseBasic(header: string): { id: string; secret: string } {
  const encoded = header.slice('basic '.length).trim();
  const bad = () => invalidClient('malformed HTTP Basic credentials', true);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw bad();
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    throw bad();
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) throw bad();
  try {
    const unescape = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unescape(decoded.slice(0, colon)), secret: unescape(decoded.slice(colon + 1)) };
  } catch {
    throw bad();
  }
}

function check(clients: ClientLookup, id: string, secret: string, basic: boolean): ResolvedClient {
  const client = clients.get(id);
  // One message for both cases would hide which is wrong; the sandbox is for debugging, so say which.
  if (!client) throw invalidClient('unknown client_id', basic);
  if (!secretsEqual(secret, client.clientSecret)) throw invalidClient('client authentication failed (wrong client_secret)', basic);
  return client;
}

/**
 * Authenticates the client with one of `methods`. Using two methods at once is an invalid_request
 * (RFC 6749 section 2.3: the client MUST NOT use more than one).
 */
export function authenticateClient(
  req: IncomingMessage,
  params: Params,
  methods: ClientAuthMethod[],
  clients: ClientLookup,
): ResolvedClient {
  const header = req.headers.authorization;
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  if (header && /^basic /i.test(header)) {
    if (!methods.includes('client_secret_basic')) {
      throw invalidClient('HTTP Basic client authentication is not accepted here; send client_id and client_secret in the body', true);
    }
    const basic = parseBasic(header);
    if (bodySecret !== undefined) throw invalidRequest('more than one client authentication method used');
    if (bodyId !== undefined && bodyId !== basic.id) throw invalidClient('client_id in the body differs from the Basic credentials', true);
    return check(clients, basic.id, basic.secret, true);
  }
  if (bodyId === undefined) throw invalidClient('client authentication required: client_id is missing');
  if (bodySecret !== undefined) {
    if (!methods.includes('client_secret_post')) throw invalidClient('client_secret in the body is not accepted here; use HTTP Basic');
    return check(clients, bodyId, bodySecret, false);
  }
  // A public client (`none`) identifies itself only; allowed where PKCE is required (MCP servers).
  if (!methods.includes('none')) throw invalidClient('client authentication required: client_secret is missing');
  const client = clients.get(bodyId);
  if (!client) throw invalidClient('unknown client_id');
  return client;
}
