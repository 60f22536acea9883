/** pino logger and request logging, with every credential redacted. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
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

/**
 * pino-http binds the request to a child logger on every request, and pino serializes (and redacts) a
 * child's bindings when the child is made, whether or not a line is ever written: with the redaction
 * paths above that was most of the logger's cost per request, even at `warn`, where a 200 writes nothing.
 * So the request logger masks in its own serializers instead (the same fields as REDACT_PATHS), and its
 * redaction paths name only top-level keys and `err`: a `*.` path would send every binding, the request
 * included, through the redactor. Log other nested objects with the app's logger.
 */
export function requestLogger(logger: Logger): HttpLogger<IncomingMessage, ServerResponse> {
  return pinoHttp({
    logger,
    redact: { paths: [...TOKEN_KEYS, ...TOKEN_KEYS.map((k) => `err.${k}`)], censor: CENSOR },
    // Our serializers get the request and response themselves (pino's standard ones would build an object
    // first, only for it to be copied here).
    wrapSerializers: false,
    serializers: {
      // The URL without its code/state values, no parsed query, credentials masked.
      req: (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.originalUrl ?? req.url),
        headers: maskHeaders(req.headers),
        remoteAddress: req.socket?.remoteAddress,
        remotePort: req.socket?.remotePort,
      }),
      // Set-Cookie masked; the redirect to a provider carries `state` (and PKCE challenge) in its Location.
      res: (res: ServerResponse) => ({ statusCode: res.statusCode, headers: maskHeaders(res.getHeaders()) }),
      err: serializeError,
    },
    customLogLevel(_req, res, err) {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    autoLogging: { ignore: (req) => req.url === '/healthz' },
  });
}
