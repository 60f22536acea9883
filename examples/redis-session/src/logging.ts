/** pino logger and request logging, with every credential redacted. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino, { type Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { LogLevel } from './config';

/** Query parameters that carry credentials or one-time values. */
const SECRET_PARAMS = ['code', 'state', 'code_challenge', 'access_token', 'refresh_token', 'id_token', 'token', 'client_secret', 'code_verifier', '_csrf'];

/** Paths pino replaces with `[Redacted]` wherever they appear in a log line. */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  ...SECRET_PARAMS.map((p) => `req.query.${p}`),
  ...['accessToken', 'refreshToken', 'access_token', 'refresh_token', 'token', 'tokenSet', 'clientSecret', 'client_secret'].flatMap((k) => [k, `*.${k}`]),
];

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { app: 'passport-martech-example' },
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
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
    if (SECRET_PARAMS.includes(name.toLowerCase())) {
      params.set(name, '[Redacted]');
      changed = true;
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

export function requestLogger(logger: Logger): HttpLogger<IncomingMessage, ServerResponse> {
  return pinoHttp({
    logger,
    serializers: {
      // Runs after pino's standard serializer: the URL loses its code/state, the query object goes.
      req(req: { url?: string; query?: unknown }) {
        req.url = redactUrl(req.url);
        delete req.query;
        return req;
      },
      // The redirect to a provider carries `state` (and PKCE challenge) in its Location.
      res(res: { headers?: Record<string, unknown> }) {
        const location = res.headers?.location;
        if (typeof location === 'string') res.headers = { ...res.headers, location: redactUrl(location) };
        return res;
      },
    },
    customLogLevel(_req, res, err) {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    autoLogging: { ignore: (req) => req.url === '/healthz' },
  });
}
