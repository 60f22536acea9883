/**
 * Requests to providers on node:http / node:https with a keep-alive agent. Node's built-in `fetch`
 * measured at 3-5x the CPU per token request here (0.26-0.39 ms against 0.05-0.13 ms), and an agent is
 * how apps reach providers through a corporate proxy (passport-oauth2's `_oauth2.setAgent`).
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { unwatch, watchDeadline } from './deadlines';

/**
 * Idle connections are closed after this long: below the usual server keep-alive timeouts (Node 5 s,
 * nginx 75 s, AWS ALB 60 s, Cloudflare 900 s), so a connection is not reused just as the server drops it.
 */
export const IDLE_SOCKET_MS = 4000;

/** The agents used when none is given: keep-alive, bounded idle time, shared by every strategy. */
export const defaultAgents = {
  http: new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  https: new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
};

export type ProviderAgent = HttpAgent | HttpsAgent;

export interface TransportRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** For the whole exchange, body included. */
  timeoutMs: number;
  maxBytes: number;
  agent?: ProviderAgent;
  /**
   * Keep the parsed URL for the next request to it (token and introspection URLs). Never for a URL that
   * carries a secret (an identity path that holds the access token): nothing secret is kept.
   */
  reuseTarget?: boolean;
}

export interface TransportResponse {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
}

/** The whole exchange took longer than `timeoutMs`. */
export class TransportTimeout extends Error {
  override readonly name = 'TimeoutError';
}

/** The answer was larger than `maxBytes` (declared or streamed). */
export class ResponseTooLarge extends Error {}

/**
 * Sends one request; no redirect is followed (a 3xx is returned as it is). A GET (idempotent: a profile
 * request) that failed before its answer began is sent once more, on a new connection when the failed
 * one was a reused keep-alive connection. A POST — a token request — is never sent twice here: an
 * authorization code works once, and a refresh token the provider may have rotated before the
 * connection broke must not be presented again behind the caller's back (a provider with reuse
 * detection revokes the whole grant). The race keep-alive is known for — a server closing an idle
 * connection just as it is reused — is kept away by closing idle connections first (IDLE_SOCKET_MS).
 */
export function send(request: TransportRequest): Promise<TransportResponse> {
  const deadline = Date.now() + request.timeoutMs;
  // A POST is never retried: its first attempt is the answer (no extra promise around it).
  if (request.method !== 'GET') return attempt(request, deadline);
  return attempt(request, deadline).catch((error: unknown) => {
    const failure = error as { answered?: boolean };
    const retryable = !failure.answered && !(error instanceof TransportTimeout) && !(error instanceof ResponseTooLarge);
    if (!retryable || Date.now() >= deadline) throw error;
    return attempt(request, deadline);
  });
}

interface Target {
  secure: boolean;
  hostname: string;
  port: string;
  path: string;
  auth: string | undefined;
}

/** Parsed request targets by URL: a strategy calls the same two or three URLs for its whole life. */
const targets = new Map<string, Target>();
const MAX_TARGETS = 256;

function targetOf(href: string, reuse: boolean): Target {
  let target = reuse ? targets.get(href) : undefined;
  if (target) return target;
  const url = new URL(href);
  target = {
    secure: url.protocol === 'https:',
    // node:http wants an IPv6 literal without its brackets (as urlToHttpOptions gives it).
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port,
    path: `${url.pathname}${url.search}`,
    auth: url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
  };
  if (!reuse) return target;
  if (targets.size >= MAX_TARGETS) targets.clear();
  targets.set(href, target);
  return target;
}

function attempt(request: TransportRequest, deadline: number): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const target = targetOf(request.url, request.reuseTarget === true);
    const secure = target.secure;
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(request.body));
    let req: ClientRequest;
    let answered = false;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      unwatch(watch);
      Object.assign(error, { answered });
      req?.destroy();
      reject(error);
    };
    const watch = watchDeadline(deadline, () => fail(new TransportTimeout(`no answer within the timeout`)));
    const options: RequestOptions = {
      protocol: secure ? 'https:' : 'http:',
      hostname: target.hostname,
      port: target.port,
      path: target.path,
      auth: target.auth,
      method: request.method,
      headers,
      agent: request.agent ?? (secure ? defaultAgents.https : defaultAgents.http),
    };
    try {
      req = (secure ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        answered = true;
        // Read from rawHeaders: res.headers would build an object of every header for one value.
        const declared = Number(rawHeader(res.rawHeaders, 'content-length'));
        if (Number.isFinite(declared) && declared > request.maxBytes) return fail(new ResponseTooLarge());
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > request.maxBytes) fail(new ResponseTooLarge());
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new Error('the connection closed before the answer was complete')));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          unwatch(watch);
          resolve({ status: res.statusCode ?? 0, headers: headerReader(res), text: Buffer.concat(chunks).toString('utf8') });
        });
      });
    } catch (error) {
      return fail(error as Error);
    }
    req.on('error', fail);
    req.end(request.body);
  });
}

/** Headers of which Node's `res.headers` keeps only the first copy (the rest are dropped, as here). */
const SINGLE_VALUED = new Set(['content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization', 'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag', 'last-modified', 'server', 'age', 'expires']);

/**
 * As `res.headers[name]` with repeated values joined by ", ", read from rawHeaders: `res.headers` would
 * build an object of every header for the one that is read (the content type).
 */
function headerReader(res: IncomingMessage): TransportResponse['headers'] {
  const raw = res.rawHeaders;
  return {
    get(name: string): string | null {
      const lowerName = name.toLowerCase();
      if (SINGLE_VALUED.has(lowerName)) return rawHeader(raw, lowerName) ?? null;
      let value: string | null = null;
      for (let i = 0; i < raw.length; i += 2) {
        const rawName = raw[i]!;
        if (rawName.length === lowerName.length && rawName.toLowerCase() === lowerName) value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
      }
      return value;
    },
  };
}

/** The first value of a header in `rawHeaders` ([name, value, name, value, ...]), or undefined. */
function rawHeader(raw: string[], lowerName: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return raw[i + 1];
  }
  return undefined;
}
