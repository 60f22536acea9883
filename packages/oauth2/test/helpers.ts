/**
 * Test helpers: a fake OAuth provider on a real loopback HTTP server that records every request, an
 * in-test provider strategy, an Express 5 app builder and a secret-leak checker for errors.
 */
import { once } from 'node:events';
import http, { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { inspect } from 'node:util';
import express, { ErrorRequestHandler, Express, NextFunction, Request, Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import { ProviderDefinition, ProviderStrategy, ProviderStrategyOptions } from '../src/provider-kit';

export interface RecordedRequest {
  method: string;
  /** Path with query string, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body. */
  body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => void;

export interface FakeServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  requests: RecordedRequest[];
  requestsTo(pathname: string): RecordedRequest[];
  /** Sets the handler for METHOD + pathname (query ignored); replaces an earlier one. */
  route(method: string, pathname: string, handler: Handler): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1, port 0. Unrouted requests get 404 JSON. Every request is recorded. */
export async function startFakeServer(): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const routes = new Map<string, Handler>();
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const pathname = new URL(recorded.path, 'http://x').pathname;
      const handler = routes.get(`${recorded.method} ${pathname}`);
      if (handler) handler(recorded, res, req);
      else sendJson(res, 404, { error: 'not_found' });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    requestsTo: (pathname) => requests.filter((r) => new URL(r.path, 'http://x').pathname === pathname),
    route: (method, pathname, handler) => void routes.set(`${method} ${pathname}`, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * One fake provider for a test file: started before its tests, closed after, its record cleared and its
 * default routes (serveProvider) restored before each test. Call at the top level of the file.
 */
export function fakeProviderForFile(): () => FakeServer {
  let server: FakeServer | undefined;
  beforeAll(async () => {
    server = await startFakeServer();
  });
  afterAll(() => server?.close());
  beforeEach(() => {
    (server as FakeServer).requests.length = 0;
    serveProvider(server as FakeServer);
  });
  return () => server as FakeServer;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The body of a recorded request, parsed by its Content-Type. */
export function bodyOf(req: RecordedRequest): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) return JSON.parse(req.body) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(req.body));
}

// ---------------------------------------------------------------------------------------------------
// Secret-leak checks

/**
 * Every textual view of an error, its cause chain (walked recursively) and its fields: message, stack,
 * String(), toString(), JSON.stringify, util.inspect with hidden properties, description, uri, details.
 */
export function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (value: unknown, depth: number) => {
    if (value === undefined || value === null || seen.has(value) || depth > 10) return;
    seen.add(value);
    texts.push(String(value));
    texts.push(inspect(value, { depth: 10, showHidden: true }));
    try {
      texts.push(JSON.stringify(value) ?? '');
    } catch {
      // circular: inspect covered it
    }
    if (typeof value === 'object') {
      const record = value as Record<string, unknown>;
      for (const key of ['message', 'stack', 'description', 'uri']) if (typeof record[key] === 'string') texts.push(record[key]);
      if (typeof (value as { toString?: unknown }).toString === 'function') texts.push((value as { toString(): string }).toString());
      if (record.details !== undefined) texts.push(JSON.stringify(record.details));
      walk(record.cause, depth + 1);
      walk(record.oauthError, depth + 1);
    }
  };
  walk(error, 0);
  return texts;
}

/** Asserts that no secret value appears in any view of the error (see errorTexts). */
export function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  const texts = errorTexts(error);
  expect(texts.length).toBeGreaterThan(0);
  for (const secret of secrets) {
    const leaks = texts.filter((text) => text.includes(secret));
    expect({ secret, leaks }).toEqual({ secret, leaks: [] });
  }
}

/** Awaits a promise that must reject, and returns its reason. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, it resolved');
}

// ---------------------------------------------------------------------------------------------------
// The in-test provider

export const CLIENT_ID = 'client-id-123';
export const CLIENT_SECRET = 's3cr3t-client-secret-XYZ';
export const CALLBACK_URL = 'http://app.test/auth/test/callback';
export const ACCESS_TOKEN = 'at-ACCESS-TOKEN-777888';
export const REFRESH_TOKEN = 'rt-REFRESH-TOKEN-999000';
export const AUTH_CODE = 'code-ABC123456';

export function testDefinition(base: string, overrides: Partial<ProviderDefinition> = {}): ProviderDefinition {
  return {
    name: 'test',
    packageName: '@passport-martech/test',
    authorizationURL: `${base}/oauth/authorize`,
    tokenURL: `${base}/oauth/token`,
    userProfileURL: `${base}/userinfo`,
    bodyEncoding: 'form',
    clientAuthentication: 'client_secret_post',
    scopeSeparator: ',',
    defaultScope: ['contacts', 'email'],
    pkce: true,
    ...overrides,
  };
}

export type Verify = ConstructorParameters<typeof ProviderStrategy>[2];

/** A tiny provider strategy: its defaults are data, pointing at the fake provider at `base`. */
export class TestStrategy extends ProviderStrategy {
  constructor(base: string, options: Partial<ProviderStrategyOptions>, verify: Verify, overrides: Partial<ProviderDefinition> = {}) {
    super(
      testDefinition(base, overrides),
      { clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, callbackURL: CALLBACK_URL, ...options } as ProviderStrategyOptions,
      verify,
    );
  }
}

export interface TokenResponseOptions {
  status?: number;
  body?: Record<string, unknown>;
}

/** Routes the fake provider's token endpoint (default success) and userinfo endpoint. */
export function serveProvider(provider: FakeServer, token: TokenResponseOptions = {}, userinfo: Record<string, unknown> = USERINFO): void {
  provider.route('POST', '/oauth/token', (_req, res) =>
    sendJson(res, token.status ?? 200, token.body ?? { access_token: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN, token_type: 'bearer', expires_in: 3600, scope: 'contacts email' }),
  );
  provider.route('GET', '/userinfo', (_req, res) => sendJson(res, 200, userinfo));
}

export const USERINFO = { id: 4242, email: 'user@example.com', name: 'Test User' };

// ---------------------------------------------------------------------------------------------------
// The Express app

export interface AppOptions {
  /** Install express-session (MemoryStore). Default true. */
  session?: boolean;
  /** Options for the start route `/auth/test`. */
  startOptions?: Record<string, unknown>;
  /** Options for the standard callback route `/auth/test/callback` (failureRedirect `/failed` by default). */
  callbackOptions?: Record<string, unknown>;
}

export interface TestApp {
  app: Express;
  /** Errors that reached the error handler. */
  errors: unknown[];
}

/**
 * Routes:
 * - GET /auth/test            starts a login
 * - GET /auth/test/callback   standard passport callback: failureRedirect /failed, success -> JSON { user }
 * - GET /auth/test/plain      passport.authenticate('test') without options: a failure answers its status
 * - GET /auth/test/report     custom callback: JSON { outcome, user, info, status }
 * - GET /failed               JSON { failed: true, messages }
 * Errors: recorded, then answered 500 JSON { error: <code or name> } (never a stack trace).
 */
export function buildApp(strategy: ProviderStrategy, options: AppOptions = {}): TestApp {
  const errors: unknown[] = [];
  const passport = new Passport();
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user, done) => done(null, user as Express.User));
  const app = express();
  if (options.session !== false) {
    app.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false }));
  }
  app.use(passport.initialize());
  app.get('/auth/test', passport.authenticate('test', { ...options.startOptions }));
  app.get(
    '/auth/test/callback',
    passport.authenticate('test', { failureRedirect: '/failed', failureMessage: true, ...options.callbackOptions }),
    (req: Request, res: Response) => {
      res.json({ user: req.user });
    },
  );
  app.get('/auth/test/plain', passport.authenticate('test', { session: options.session !== false }), (req: Request, res: Response) => {
    res.json({ user: req.user });
  });
  app.get('/auth/test/report', (req: Request, res: Response, next: NextFunction) => {
    passport.authenticate('test', (err: unknown, user: unknown, info: unknown, status: unknown) => {
      if (err) return next(err);
      res.json({ outcome: user ? 'success' : 'fail', user, info: info ?? null, status: status ?? null });
    })(req, res, next);
  });
  app.get('/failed', (req: Request, res: Response) => {
    const messages = (req.session as unknown as { messages?: string[] } | undefined)?.messages ?? [];
    res.status(401).json({ failed: true, messages });
  });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    errors.push(err);
    const code = (err as { code?: unknown }).code ?? (err as { name?: unknown }).name;
    res.status(500).json({ error: code });
  };
  app.use(onError);
  return { app, errors };
}

/** Query parameters of a redirect's Location. */
export function locationParams(location: string | undefined): URLSearchParams {
  if (!location) throw new Error('no Location header');
  return new URL(location).searchParams;
}
