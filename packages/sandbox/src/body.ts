/**
 * Request parameters, read strictly. The sandbox reads bodies itself (not express.json/urlencoded) so that
 * every malformed request — wrong content type, over-size, invalid JSON, non-UTF-8 bytes, repeated
 * parameters — becomes a SandboxError, which the provider router renders in the provider's error shape.
 */
import type { IncomingMessage } from 'node:http';
import { SandboxError, invalidRequest } from './errors';

/** Bodies above this are refused with 413. */
export const BODY_LIMIT_BYTES = 64 * 1024;
/** Past this we stop draining an over-size body and drop the connection. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/** Parameters by name; a name present once. Empty values count as absent (RFC 6749 section 3.1). */
export type Params = Map<string, string>;

export type BodyEncoding = 'form' | 'json';

const MEDIA_TYPES: Record<BodyEncoding, string> = {
  form: 'application/x-www-form-urlencoded',
  json: 'application/json',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the raw body, refusing more than BODY_LIMIT_BYTES with 413 once the body has been drained. */
export function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT_BYTES) chunks.push(chunk);
      // Draining (rather than answering at once) lets the client finish sending and read the 413.
      else if (size > DRAIN_LIMIT_BYTES) req.destroy();
    });
    req.on('end', () => {
      if (size > BODY_LIMIT_BYTES) {
        reject(new SandboxError(413, 'invalid_request', `request body larger than ${BODY_LIMIT_BYTES} bytes`));
      } else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
    // A client that gives up mid-body: nothing to answer, but the handler must not wait forever.
    req.on('close', () => {
      if (!req.complete) reject(new SandboxError(400, 'invalid_request', 'request body was not completed'));
    });
  });
}

function decodeUtf8(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidRequest('request body is not valid UTF-8');
  }
}

/** `application/x-www-form-urlencoded` decoding of one component; throws on bad escapes or non-UTF-8. */
function decodeFormComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw invalidRequest('malformed percent-encoding or non-UTF-8 bytes in a parameter');
  }
}

/**
 * Parses `a=1&b=2`. Repeated names (RFC 6749 section 3.1: parameters MUST NOT repeat) are collected, not
 * thrown, because the authorize endpoint must tell a repeated `redirect_uri` (error page) from a repeated
 * `state` (error redirect).
 */
export function parseUrlEncodedCollecting(text: string): { params: Params; repeated: string[] } {
  const params: Params = new Map();
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeFormComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeFormComponent(pair.slice(eq + 1));
    if (seen.has(name)) {
      repeated.push(name);
      params.delete(name);
      continue;
    }
    seen.add(name);
    if (value !== '') params.set(name, value);
  }
  return { params, repeated };
}

/** Parses `a=1&b=2`; a repeated name is an invalid_request. */
export function parseUrlEncoded(text: string): Params {
  const { params, repeated } = parseUrlEncodedCollecting(text);
  if (repeated.length) throw invalidRequest(`parameter "${printable(repeated[0])}" is repeated`);
  return params;
}

/** The raw query string of a request ('' when none). */
export function rawQuery(req: IncomingMessage): string {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/** The query string of a request, parsed as strictly as a form body. */
export function queryParams(req: IncomingMessage): Params {
  return parseUrlEncoded(rawQuery(req));
}

function parseJsonObject(text: string): Params {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest('request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest('request body must be a JSON object');
  }
  const params: Params = new Map();
  for (const [name, v] of Object.entries(value)) {
    if (v === null || v === '') continue;
    if (typeof v !== 'string') throw invalidRequest(`parameter "${printable(name)}" must be a string`);
    params.set(name, v);
  }
  return params;
}

/** The media type of a request, lower-cased, without parameters; '' when absent. */
function mediaType(req: IncomingMessage): { type: string; charset?: string } {
  const header = req.headers['content-type'];
  if (!header) return { type: '' };
  const [type, ...rest] = header.split(';');
  const charset = rest
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"|"$/g, '');
  return { type: type.trim().toLowerCase(), charset };
}

/**
 * Reads a body that must be in `encoding`; undefined when there is no body at all (no content type, no
 * bytes). A body in another encoding (or charset, or compressed) gets 415.
 */
async function readText(req: IncomingMessage, encoding: BodyEncoding): Promise<string | undefined> {
  const contentEncoding = req.headers['content-encoding'];
  if (contentEncoding && contentEncoding.toLowerCase() !== 'identity') {
    await readRawBody(req);
    throw new SandboxError(415, 'invalid_request', 'compressed request bodies are not accepted');
  }
  const raw = await readRawBody(req);
  const { type, charset } = mediaType(req);
  if (type === '' && raw.length === 0) return undefined;
  if (type !== MEDIA_TYPES[encoding]) {
    throw new SandboxError(415, 'invalid_request', `this endpoint takes an ${MEDIA_TYPES[encoding]} body`);
  }
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new SandboxError(415, 'invalid_request', 'only the UTF-8 charset is accepted');
  }
  return decodeUtf8(raw);
}

/** Body parameters in `encoding`; no body at all reads as no parameters (the handler names what is missing). */
export async function readParams(req: IncomingMessage, encoding: BodyEncoding): Promise<Params> {
  const text = await readText(req, encoding);
  if (text === undefined) return new Map();
  return encoding === 'json' ? parseJsonObject(text) : parseUrlEncoded(text);
}

/** Any JSON value (control routes); no body reads as `{}`. */
export async function readJsonValue(req: IncomingMessage): Promise<unknown> {
  const text = await readText(req, 'json');
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest('request body is not valid JSON');
  }
}

/** Keeps a name safe to put in an error message (it came from the request). */
function printable(name: string): string {
  const clean = name.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? `${clean.slice(0, 40)}...` : clean;
}
