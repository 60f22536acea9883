/**
 * MCP connections without hand setup (issue 16), against the sandbox over real HTTP: RFC 8414 discovery,
 * RFC 7591 registration shared by two app instances through one store, re-registration after the server
 * forgets the client, the RFC 9207 `iss` check, connection-only logins, and typed discovery failures.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import express, { NextFunction, Request, Response } from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import { sandboxEndpoints, startSandbox, type RunningSandbox } from '@passport-martech/sandbox';
import { MemoryClientStore, type ClientStore, type ProviderStrategy } from '@passport-martech/oauth2';
import { mcpCases } from './providers';

const KEY = randomBytes(32);
const CALLBACK = 'http://127.0.0.1:3999/auth/mcp/callback';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox({ autoApprove: true });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

/** Every catalog provider configuration whose sandbox dialect is an MCP authorization server. */
const PROVIDERS = mcpCases.map((c) => ({ id: c.id, label: c.label, case: c, sendsIss: c.flow.authorizationServer?.issParameter === true }));
type Provider = (typeof PROVIDERS)[number];
/** A registrable strategy (MCP), as these tests drive it. */
type McpStrategy = ProviderStrategy & { ready(): Promise<void> };

interface Outcome {
  status: number;
  location?: string;
  body: Record<string, unknown>;
}

/** One app instance: its own strategy and passport, cookie state (no session). */
function appInstance(provider: Provider, options: Record<string, unknown>) {
  const profiles: unknown[] = [];
  const refreshTokens: string[] = [];
  const resource = `${sb.url}/${provider.id}${provider.case.flow.authorizationServer?.resourcePath}`;
  const strategy = provider.case.entry.createStrategy(
    { ...provider.case.flow.variant, callbackURL: CALLBACK, state: { cookie: { key: KEY } }, resource, ...options } as never,
    ((_a: string, refreshToken: string, profile: unknown, done: (e: unknown, u?: unknown) => void) => {
      profiles.push(profile);
      refreshTokens.push(refreshToken);
      done(null, { connected: true });
    }) as never,
  ) as McpStrategy;
  const passport = new Passport();
  passport.use('mcp', strategy);
  const app = express();
  app.use(passport.initialize());
  app.get('/auth/mcp', passport.authenticate('mcp', { session: false }));
  app.get('/auth/mcp/callback', passport.authenticate('mcp', { session: false, failureRedirect: '/failed' }), (req, res) => {
    res.json({ user: req.user });
  });
  app.use((err: Error & { code?: string; cause?: { code?: string } }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ code: err.code, cause: err.cause?.code, message: err.message });
  });
  return { app, strategy, profiles, refreshTokens };
}

/** Starts a login; returns the sandbox authorize URL and the state cookie. */
async function start(app: express.Express) {
  const res = await request(app).get('/auth/mcp');
  if (res.status !== 302) return { res };
  const cookie = (res.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
  return { res, authorizeURL: new URL(res.headers.location), cookie };
}

/** The sandbox (autoApprove) answers the authorize request with a redirect to the callback. */
async function approve(authorizeURL: URL): Promise<URL> {
  const res = await request(authorizeURL.origin).get(`${authorizeURL.pathname}${authorizeURL.search}`);
  expect(res.status).toBe(302);
  return new URL(res.headers.location);
}

async function finish(app: express.Express, callback: URL, cookie: string, rewrite?: (u: URL) => void): Promise<Outcome> {
  rewrite?.(callback);
  const res = await request(app).get(`${callback.pathname}${callback.search}`).set('Cookie', cookie);
  return { status: res.status, location: res.headers.location, body: res.body };
}

async function login(app: express.Express, rewrite?: (u: URL) => void): Promise<Outcome> {
  const started = await start(app);
  if (!started.authorizeURL) return { status: started.res.status, body: started.res.body };
  return finish(app, await approve(started.authorizeURL), started.cookie, rewrite);
}

const registrations = async () => (await request(sb.url).get('/_sandbox/mcp/registrations')).body as Record<string, number>;
const tokenRequests = async (id: string) => ((await request(sb.url).get('/_sandbox/stats')).body as Record<string, { token: number }>)[id].token;

test('the catalog has MCP configurations to test', () => {
  expect(PROVIDERS.length).toBeGreaterThan(0);
});

describe.each(PROVIDERS)('$label', (provider) => {
  const issuer = () => `${sb.url}/${provider.id}`;

  test('discovery: the endpoints come from the metadata (no URL options), and the login completes', async () => {
    const { clientId, clientSecret } = provider.case.facts.client;
    const { app } = appInstance(provider, { issuer: issuer(), clientID: clientId, clientSecret });
    const started = await start(app);
    // The authorize endpoint the metadata names: the dialect's, under the issuer.
    expect(started.authorizeURL?.toString()).toContain(`${issuer()}${provider.case.flow.authorizePath}`);
    expect(started.authorizeURL?.searchParams.get('client_id')).toBe(clientId);
    const callback = await approve(started.authorizeURL as URL);
    expect(callback.searchParams.get('iss')).toBe(provider.sendsIss ? issuer() : null);
    const outcome = await finish(app, callback, started.cookie as string);
    expect(outcome).toMatchObject({ status: 200, body: { user: { connected: true } } });
    expect(await registrations()).toEqual({});
  });

  test('registration: two app instances sharing one store register once and both log in', async () => {
    const store = new MemoryClientStore();
    const a = appInstance(provider, { issuer: issuer(), registration: { store, clientName: 'Two instances' } });
    const b = appInstance(provider, { issuer: issuer(), registration: { store } });
    expect((await login(a.app)).status).toBe(200);
    expect((await login(b.app)).status).toBe(200);
    expect((await login(a.app)).status).toBe(200);
    expect(await registrations()).toEqual({ [provider.id]: 1 });
    expect(a.strategy.tokenClient.clientID).toMatch(/^mcp-client-/);
    expect(b.strategy.tokenClient.clientID).toBe(a.strategy.tokenClient.clientID);
  });

  test('registration: concurrent first logins in one process share one registration', async () => {
    const store = new MemoryClientStore();
    const a = appInstance(provider, { issuer: issuer(), registration: { store } });
    const b = appInstance(provider, { issuer: issuer(), registration: { store } });
    const outcomes = await Promise.all([login(a.app), login(b.app), login(a.app)]);
    expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200]);
    expect(await registrations()).toEqual({ [provider.id]: 1 });
  });

  test('re-registration: a client the server forgot (invalid_client) is replaced, and every instance picks up the new one', async () => {
    const store: ClientStore = new MemoryClientStore();
    const a = appInstance(provider, { issuer: issuer(), registration: { store } });
    const b = appInstance(provider, { issuer: issuer(), registration: { store } });
    expect((await login(a.app)).status).toBe(200);
    const first = a.strategy.tokenClient.clientID;
    // A login in flight when the server forgets its client: the code exchange is invalid_client.
    const started = await start(a.app);
    const callback = await approve(started.authorizeURL as URL);
    await request(sb.url).post('/_sandbox/mcp/forget-clients').send({ provider: provider.id }).expect(200, { forgotten: 1 });
    expect(await finish(a.app, callback, started.cookie as string)).toMatchObject({ status: 500, body: { code: 'invalid_client' } });
    // The next login registers a new client; the other instance uses it without registering again.
    expect((await login(a.app)).status).toBe(200);
    expect(a.strategy.tokenClient.clientID).not.toBe(first);
    expect((await login(b.app)).status).toBe(200);
    expect(b.strategy.tokenClient.clientID).toBe(a.strategy.tokenClient.clientID);
    expect(await registrations()).toEqual({ [provider.id]: 2 });
  });

  test('iss: a callback naming another authorization server fails as a state failure, before any token request', async () => {
    const { app } = appInstance(provider, { issuer: issuer(), registration: {} });
    expect((await login(app)).status).toBe(200);
    const before = await tokenRequests(provider.id);
    const mixedUp = await login(app, (u) => u.searchParams.set('iss', 'https://attacker.example/oauth'));
    expect(mixedUp).toMatchObject({ status: 302, location: '/failed' });
    expect(await tokenRequests(provider.id)).toBe(before);
  });

  test('connectionOnly: no profile is built; the verify callback gets undefined', async () => {
    const { app, profiles } = appInstance(provider, { issuer: issuer(), registration: {}, connectionOnly: true });
    expect((await login(app)).status).toBe(200);
    expect(profiles).toEqual([undefined]);
  });
});

describe('registered clients outside a login', () => {
  const provider = PROVIDERS[0] as Provider;
  test('strategy.ready() puts the stored client in place, so a fresh instance can refresh before any login', async () => {
    const store = new MemoryClientStore();
    const a = appInstance(provider, { issuer: `${sb.url}/${provider.id}`, registration: { store } });
    expect((await login(a.app)).status).toBe(200);
    // A worker process: same store, no login served yet.
    const worker = appInstance(provider, { issuer: `${sb.url}/${provider.id}`, registration: { store } }).strategy;
    expect(worker.tokenClient.clientID).toBe('');
    await worker.ready();
    expect(worker.tokenClient.clientID).toBe(a.strategy.tokenClient.clientID);
    const refreshed = await worker.refreshTokenClient.requestToken({ grant_type: 'refresh_token', refresh_token: a.refreshTokens[0] });
    expect(refreshed.accessToken).toEqual(expect.any(String));
    expect(await registrations()).toEqual({ [provider.id]: 1 });
  });

  test('option mistakes are TypeErrors naming the option', () => {
    const make = (options: Record<string, unknown>) => () => appInstance(provider, { issuer: `${sb.url}/${provider.id}`, ...options });
    expect(make({ clientID: 'c', registration: {} })).toThrow(/option "registration" cannot be combined with clientID/);
    expect(make({ registration: {}, callbackURL: '/cb' })).toThrow(/option "callbackURL" must be an absolute URL/);
    expect(make({ registration: {}, discovery: 'yes' })).toThrow(/option "discovery" must be true or false/);
    expect(make({ registration: {}, issuer: 'http://as.example' })).toThrow(/option "issuer" must be an https: URL/);
  });
});

const ANNOUNCES_ISS = PROVIDERS.filter((p) => p.sendsIss);

test('some MCP configuration announces iss (so the next block runs)', () => {
  expect(ANNOUNCES_ISS.length).toBeGreaterThan(0);
});

describe.each(ANNOUNCES_ISS)('$label iss (the server announces authorization_response_iss_parameter_supported)', (provider) => {
  test('the sandbox sending a wrong iss fails the login; without iss it fails too; the right iss passes', async () => {
    const { app } = appInstance(provider, { issuer: `${sb.url}/${provider.id}`, registration: {} });
    await request(sb.url).post('/_sandbox/mcp').send({ iss: 'wrong' }).expect(200);
    expect(await login(app)).toMatchObject({ status: 302, location: '/failed' });
    await request(sb.url).post('/_sandbox/mcp').send({ iss: 'omit' }).expect(200);
    expect(await login(app)).toMatchObject({ status: 302, location: '/failed' });
    expect(await tokenRequests(provider.id)).toBe(0);
    await request(sb.url).post('/_sandbox/mcp').send({ iss: 'issuer' }).expect(200);
    expect((await login(app)).status).toBe(200);
  });

  test('without discovery the built-in endpoints are used and iss is not checked (no metadata to check it against)', async () => {
    const { clientId, clientSecret } = provider.case.facts.client;
    const { authorizationURL, tokenURL } = sandboxEndpoints(sb.url, provider.id, provider.case.flow.variant);
    const { app } = appInstance(provider, { clientID: clientId, clientSecret, authorizationURL, tokenURL });
    await request(sb.url).post('/_sandbox/mcp').send({ iss: 'wrong' }).expect(200);
    expect((await login(app)).status).toBe(200);
  });
});

describe('discovery failures are typed errors (OAUTH_DISCOVERY_FAILED)', () => {
  let server: Server;
  let base: string;
  let flaky = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.endsWith('/slow')) return; // never answers
      if (req.url?.endsWith('/flaky') && flaky++ === 0) return void res.writeHead(503).end('busy');
      if (req.url?.endsWith('/html')) return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login</html>');
      const issuer = req.url?.endsWith('/impostor') ? 'https://attacker.example' : `${base}/${req.url?.split('/').pop()}`;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/a`, token_endpoint: `${issuer}/t` }));
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const attempt = (options: Record<string, unknown>) => request(appInstance(PROVIDERS[0] as Provider, { clientID: 'c', timeout: 300, ...options }).app).get('/auth/mcp');

  test('a server that does not answer: the cause is OAUTH_TIMEOUT', async () => {
    const res = await attempt({ metadataURL: `${base}/slow` });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'OAUTH_DISCOVERY_FAILED', cause: 'OAUTH_TIMEOUT' });
  });

  test('HTML instead of metadata: the cause is OAUTH_UNEXPECTED_RESPONSE', async () => {
    expect((await attempt({ metadataURL: `${base}/html` })).body).toMatchObject({ code: 'OAUTH_DISCOVERY_FAILED', cause: 'OAUTH_UNEXPECTED_RESPONSE' });
  });

  test('a document naming another issuer is refused (RFC 8414 section 3.3)', async () => {
    const res = await attempt({ issuer: `${base}/impostor` });
    expect(res.body.code).toBe('OAUTH_DISCOVERY_FAILED');
    expect(res.body.message).toMatch(/is not the expected/);
  });

  test('a failure is not cached: the next login reads the metadata again', async () => {
    const { app } = appInstance(PROVIDERS[0] as Provider, { clientID: 'c', timeout: 300, issuer: `${base}/flaky` });
    const first = await request(app).get('/auth/mcp');
    expect(first.body).toMatchObject({ code: 'OAUTH_DISCOVERY_FAILED', cause: 'OAUTH_HTTP_ERROR' });
    const second = await request(app).get('/auth/mcp');
    expect(second.status).toBe(302);
    expect(second.headers.location).toContain(`${base}/flaky/a`);
  });
});
