/** pino logger and request logging, with every credential redacted. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { isAuthorizationError, knownAuthorizationCode } from './callback-errors';
import type { LogLevel } from './config';

/**
 * Query parameters that carry credentials or one-time values, and the free text of an error callback
 * (anyone can write it into a link: callback-errors.ts). The callback's `error` is kept when it is a known
 * RFC 6749 code, else logged as "unknown".
 */
const SECRET_PARAMS = [
  'code',
  'state',
  'code_challenge',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'client_secret',
  'code_verifier',
  '_csrf',
  'error_description',
  'error_uri',
];

/** Keys whose value is a token (or a whole token set) wherever they appear in a log line. */
const TOKEN_KEYS = ['accessToken', 'refreshToken', 'access_token', 'refresh_token', 'token', 'tokenSet', 'clientSecret', 'client_secret'];

/** Headers that carry credentials: logged as `[Redacted]`. */
const SECRET_HEADERS = new Set(['cookie', 'authorization', 'proxy-authorization', 'set-cookie']);

const CENSOR = '[Redacted]';

/** Paths pino replaces with `[Redacted]` wherever they appear in a log line of the app's logger. */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  ...SECRET_PARAMS.map((p) => `req.query.${p}`),
  ...TOKEN_KEYS.flatMap((k) => [k, `*.${k}`]),
];

/**
 * The only fields of an error that are ever logged: name, code, message, status. Nothing else: ioredis puts
 * the failed command with its arguments on a reply error (`err.command.args`: a whole session with its PKCE
 * verifier, or a token record), and other libraries attach requests, responses or bodies.
 */
export function serializeError(err: unknown): Record<string, unknown> | unknown {
  if (err === null || typeof err !== 'object') return err;
  // An error callback's code and message come from the callback URL: a known code only, no text.
  if (isAuthorizationError(err)) return { name: err.name, code: knownAuthorizationCode(err.code) };
  const { name, code, message, status } = err as { name?: unknown; code?: unknown; message?: unknown; status?: unknown };
  const out: Record<string, unknown> = {};
  if (typeof name === 'string') out.name = name;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (typeof message === 'string') out.message = message;
  if (typeof status === 'number') out.status = status;
  return out;
}

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'passport-martech-example' },
      serializers: { err: serializeError, error: serializeError },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
    },
    destination,
  );
}

/** A URL with the values of credential-bearing query parameters replaced. */
export function redactUrl(url: string): string;
export function redactUrl(url: string | undefined): string | undefined;
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const name of [...params.keys()]) {
    const lower = name.toLowerCase();
    if (SECRET_PARAMS.includes(lower)) {
      params.set(name, '[Redacted]');
      changed = true;
    } else if (lower === 'error') {
      const known = knownAuthorizationCode(params.get(name));
      if (params.getAll(name).length !== 1 || known !== params.get(name)) {
        params.set(name, known);
        changed = true;
      }
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

/** A copy of `headers` with credentials masked, and code/state/tokens redacted in a Referer or Location. */
function maskHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  const masked: Record<string, unknown> = {};
  for (const name in headers) {
    const value = headers[name];
    if (SECRET_HEADERS.has(name)) masked[name] = CENSOR;
    else if ((name === 'referer' || name === 'location') && typeof value === 'string') masked[name] = redactUrl(value);
    else masked[name] = value;
  }
  return masked;
}

type LogMethod = (objOrMsg: unknown, ...rest: unknown[]) => void;

/** What `req.log` offers: pino's level methods, bound to the request (its line carries `req`). */
export interface RequestLog {
  fatal: LogMethod;
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
  trace: LogMethod;
  isLevelEnabled(level: string): boolean;
}

declare module 'http' {
  interface IncomingMessage {
    /** The request's logger (set by requestLogger): a line written with it carries the request. */
    log?: RequestLog;
    /** A number unique in this process, given to a request when a line about it is first written. */
    id?: number;
  }
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogRequest = IncomingMessage & { originalUrl?: string };

/** The level of a request's completion line: error for 5xx (and failures), warn for 4xx, else info. */
export function completionLevel(statusCode: number, err?: unknown): Level {
  if (err || statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'warn';
  return 'info';
}

/**
 * Request logging in pino-http's line format (`request completed` / `request errored`, with `req`, `res`
 * and `responseTime`; a line written with `req.log` carries `req`), with nothing done per request for a
 * line the level drops: pino-http made a child logger per request, serializing and redacting the request
 * whether or not a line was ever written, and at `warn` (where a 200 writes nothing) that was most of the
 * example's cost per request. Here a request costs one `close` listener and a small `req.log` object; the
 * request is serialized (and masked: the same fields as REDACT_PATHS) only for a line that is written.
 * Redaction paths name only top-level keys and `err`: a `*.` path would send every line, the request
 * included, through the redactor. Log other nested objects with the app's logger.
 */
export function requestLogger(logger: Logger): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const base = logger.child(
    {},
    {
      redact: { paths: [...TOKEN_KEYS, ...TOKEN_KEYS.map((k) => `err.${k}`)], censor: CENSOR },
      serializers: { req: serializeRequest, res: serializeResponse, err: serializeError },
    },
  );
  // Probes (every few seconds from a load balancer or orchestrator) would drown the requests of people.
  const PROBES = new Set(['/healthz', '/livez', '/readyz']);
  return (req, res, next) => {
    const startedAt = Date.now();
    req.log = new LazyRequestLog(base, req);
    // 'close' follows 'finish' on every response, and also ends one whose connection went away first.
    if (!PROBES.has(req.url ?? '')) res.on('close', () => logCompletion(base, req, res, startedAt));
    next();
  };
}

let lastRequestId = 0;

function requestId(req: IncomingMessage): number {
  // As pino-http: a positive 31-bit counter.
  return (req.id ??= lastRequestId = (lastRequestId + 1) & 0x7fffffff);
}

/** The URL without its code/state values, no parsed query, credentials masked. */
function serializeRequest(req: LogRequest) {
  return {
    id: requestId(req),
    method: req.method,
    url: redactUrl(req.originalUrl ?? req.url),
    headers: maskHeaders(req.headers),
    remoteAddress: req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

/** Set-Cookie masked; the redirect to a provider carries `state` (and PKCE challenge) in its Location. */
function serializeResponse(res: ServerResponse) {
  return { statusCode: res.statusCode, headers: maskHeaders(res.getHeaders()) };
}

function logCompletion(base: Logger, req: IncomingMessage, res: ServerResponse, startedAt: number): void {
  const level = completionLevel(res.statusCode);
  if (!base.isLevelEnabled(level)) return;
  const responseTime = Date.now() - startedAt;
  if (res.statusCode >= 500) {
    base[level]({ req, res, err: new Error(`failed with status code ${res.statusCode}`), responseTime }, 'request errored');
  } else {
    base[level]({ req, res, responseTime }, 'request completed');
  }
}

/** `req.log`: the child logger bound to the request is made the first time a line is actually written. */
class LazyRequestLog implements RequestLog {
  #child: Logger | undefined;
  readonly #base: Logger;
  readonly #req: IncomingMessage;

  constructor(base: Logger, req: IncomingMessage) {
    this.#base = base;
    this.#req = req;
  }

  isLevelEnabled(level: string): boolean {
    return this.#base.isLevelEnabled(level);
  }
  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }

  #write(level: Level, args: unknown[]): void {
    if (!this.#base.isLevelEnabled(level)) return;
    this.#child ??= this.#base.child({ req: this.#req });
    (this.#child[level] as (...a: unknown[]) => void)(...args);
  }
}
