/**
 * Apps without sessions: `state: { cookie: { key } }` keeps each pending login in an encrypted cookie.
 * Plain Express 5 + passport, no express-session and no cookie-parser, against the sandbox over real HTTP.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import express, { NextFunction, Request, Response } from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import { startSandbox, type ProviderId } from '@passport-martech/sandbox';
import { CookieStateStore, MemoryStateClaims } from '@passport-martech/oauth2';
import { HubSpotStrategy } from '@passport-martech/hubspot';
import { CaseSettings, ProviderCase, providerCases } from './providers';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

const KEY = randomBytes(32);
const CALLBACK_ORIGIN = 'http://127.0.0.1:3999';
const cases = providerCases;
const hubspot = providerCases.find((c) => c.label === 'hubspot') as ProviderCase;

interface App {
  app: express.Express;
  verifiers: string[];
  users: unknown[];
}

function appFor(testCase: ProviderCase, sandbox: Sandbox, cookie: Record<string, unknown> = { key: KEY }): App {
  const verifiers: string[] = [];
  const users: unknown[] = [];
  const settings = {
    clientID: testCase.facts.client.clientId,
    clientSecret: testCase.facts.client.clientSecret,
    callbackURL: `${CALLBACK_ORIGIN}/auth/${testCase.id}/callback`,
    state: { cookie },
  } as CaseSettings;
  const verify = (_a: string, _r: string, profile: { id: string; provider: string }, done: (e: unknown, u?: unknown) => void) => {
    users.push(profile.id);
    done(null, { id: profile.id, provider: profile.provider });
  };
  const strategy = testCase.atSandbox(sandbox.url, settings, verify as never);
  // Records the PKCE verifier the store is given, to prove it never appears in the cookie.
  const store = (strategy as unknown as { _stateStore: CookieStateStore })._stateStore;
  expect(store).toBeInstanceOf(CookieStateStore);
  const original = store.store.bind(store);
  store.store = (req, verifier, appState, meta, cb) => {
    if (verifier) verifiers.push(verifier);
    original(req, verifier, appState, meta, cb);
  };
  const passport = new Passport();
  passport.use(strategy);
  const app = express();
  app.use(passport.initialize());
  app.get(`/auth/${testCase.id}`, passport.authenticate(testCase.id, { session: false }));
  app.get(`/auth/${testCase.id}/callback`, passport.authenticate(testCase.id, { session: false, failureRedirect: '/failed' }), (req, res) => {
    res.json({ user: req.user });
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ message: err.message }));
  return { app, verifiers, users };
}

/** The Set-Cookie lines of a response. */
function setCookies(response: request.Response): string[] {
  const header = response.headers['set-cookie'] as unknown;
  return Array.isArray(header) ? header : header ? [String(header)] : [];
}

const pair = (line: string) => line.split(';')[0];

function freePort(): Promise<number> {
  return new Promise((found) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => found(port));
    });
  });
}

async function begin(app: express.Express, id: string, cookies: string[] = []) {
  const start = await request(app).get(`/auth/${id}`).set('Cookie', cookies.join('; ')).expect(302);
  const set = setCookies(start).filter((line) => !/Max-Age=0/.test(line));
  expect(set).toHaveLength(1);
  return { authorizeURL: new URL(start.headers.location as string), cookie: pair(set[0]), line: set[0], start };
}

async function approve(authorizeURL: URL): Promise<URL> {
  const answer = await fetch(authorizeURL, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location') as string);
}

describe('apps without sessions: state in an encrypted cookie', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true });
  });
  afterAll(() => sandbox.close());
  beforeEach(() => sandbox.reset());

  describe.each(cases)('$label', (testCase) => {
    it('a complete login in plain Express, no express-session, no cookie-parser', async () => {
      const { app, verifiers } = appFor(testCase, sandbox);
      const { authorizeURL, cookie, line } = await begin(app, testCase.id);
      expect(line).toMatch(new RegExp(`^oauth2_state_${testCase.id}\\.[A-Za-z0-9_-]{22}=[A-Za-z0-9_-]+; `));
      expect(line).toContain(`Path=/auth/${testCase.id}`);
      expect(line).toContain('Max-Age=600');
      expect(line).toContain('HttpOnly');
      expect(line).toContain('SameSite=Lax');
      expect(line).not.toContain('Secure');
      expect(authorizeURL.searchParams.get('code_challenge_method')).toBe(testCase.redirect.pkce ? 'S256' : null);
      const back = await approve(authorizeURL);
      const done = await request(app).get(back.pathname + back.search).set('Cookie', cookie).expect(200);
      expect(done.body.user).toMatchObject({ provider: testCase.id, id: expect.any(String) });
      // The cookie is spent: cleared with the path it was set with.
      const cleared = setCookies(done);
      expect(cleared).toHaveLength(1);
      expect(cleared[0]).toMatch(new RegExp(`^${pair(line).split('=')[0]}=; Path=/auth/${testCase.id}; Max-Age=0;`));
      // Nothing readable in the cookie: not the state, the verifier, the client secret, nor JSON.
      const value = cookie.split('=')[1];
      const decoded = Buffer.from(value, 'base64url').toString('latin1');
      const secrets = [back.searchParams.get('state') as string, testCase.facts.client.clientSecret, '"s"', 'http'];
      if (testCase.redirect.pkce) secrets.push(verifiers[0]);
      for (const secret of secrets) {
        expect(secret).toBeTruthy();
        expect(value).not.toContain(secret);
        expect(decoded).not.toContain(secret);
      }
      expect(sandbox.stats()[testCase.id as ProviderId]).toMatchObject({ token: 1 });
    });
  });

  it('an error response (access_denied) spends the cookie and fails the login; without the cookie it is a state failure', async () => {
    const { app } = appFor(hubspot, sandbox);
    const { authorizeURL, cookie } = await begin(app, 'hubspot');
    const state = authorizeURL.searchParams.get('state') as string;
    const denied = await request(app).get(`/auth/hubspot/callback?error=access_denied&state=${state}`).set('Cookie', cookie).expect(302);
    expect(denied.headers.location).toBe('/failed');
    expect(setCookies(denied).join('\n')).toMatch(/Max-Age=0/);
    const other = await begin(app, 'hubspot');
    const forged = await request(app)
      .get(`/auth/hubspot/callback?error=server_error&state=${other.authorizeURL.searchParams.get('state')}`)
      .expect(302);
    // A state failure (failureRedirect), not the server_error it claims (which would reach the error handler).
    expect(forged.headers.location).toBe('/failed');
    expect(sandbox.stats().hubspot).toMatchObject({ token: 0 });
  });

  it('two tabs: two pending logins, one cookie each, finished in either order', async () => {
    const { app } = appFor(hubspot, sandbox);
    const first = await begin(app, 'hubspot');
    const second = await begin(app, 'hubspot', [first.cookie]);
    expect(second.cookie.split('=')[0]).not.toBe(first.cookie.split('=')[0]);
    const both = `${first.cookie}; ${second.cookie}`;
    const back2 = await approve(second.authorizeURL);
    const back1 = await approve(first.authorizeURL);
    await request(app).get(back2.pathname + back2.search).set('Cookie', both).expect(200);
    // The browser dropped the second cookie; the first still finishes.
    await request(app).get(back1.pathname + back1.search).set('Cookie', first.cookie).expect(200);
    expect(sandbox.stats().hubspot).toMatchObject({ token: 2 });
  });

  it('the pending logins are capped (default 5): the oldest cookie is cleared', async () => {
    const { app } = appFor(hubspot, sandbox);
    const cookies: string[] = [];
    for (let i = 0; i < 5; i++) {
      cookies.push((await begin(app, 'hubspot', cookies)).cookie);
      await new Promise((r) => setTimeout(r, 2));
    }
    const sixth = await begin(app, 'hubspot', cookies);
    const cleared = setCookies(sixth.start).filter((line) => /Max-Age=0/.test(line));
    expect(cleared.map((line) => line.split('=')[0])).toEqual([cookies[0].split('=')[0]]);
  });

  it('a replayed callback (same URL, same cookie) is a state failure; the code is not spent again', async () => {
    const { app } = appFor(hubspot, sandbox);
    const { authorizeURL, cookie } = await begin(app, 'hubspot');
    const back = await approve(authorizeURL);
    await request(app).get(back.pathname + back.search).set('Cookie', cookie).expect(200);
    const replay = await request(app).get(back.pathname + back.search).set('Cookie', cookie).expect(302);
    expect(replay.headers.location).toBe('/failed');
    expect(sandbox.stats().hubspot).toMatchObject({ token: 1 });
  });

  it('a callback without the cookie (another browser: login CSRF) fails before the token endpoint', async () => {
    const { app } = appFor(hubspot, sandbox);
    const { authorizeURL } = await begin(app, 'hubspot');
    const back = await approve(authorizeURL);
    const other = await begin(app, 'hubspot');
    const answer = await request(app).get(back.pathname + back.search).set('Cookie', other.cookie).expect(302);
    expect(answer.headers.location).toBe('/failed');
    expect(sandbox.stats().hubspot).toMatchObject({ token: 0 });
  });

  it.each([
    ['a flipped character', (v: string) => `${v.slice(0, 30)}${v[30] === 'A' ? 'B' : 'A'}${v.slice(31)}`],
    ['a truncated value', (v: string) => v.slice(0, -4)],
    ['another login’s cookie value under this name', (_v: string, other: string) => other],
  ])('a tampered cookie (%s) is a state failure', async (_label, tamper) => {
    const { app } = appFor(hubspot, sandbox);
    const { authorizeURL, cookie } = await begin(app, 'hubspot');
    const other = await begin(app, 'hubspot');
    const back = await approve(authorizeURL);
    const [name, value] = cookie.split('=');
    const answer = await request(app)
      .get(back.pathname + back.search)
      .set('Cookie', `${name}=${tamper(value, other.cookie.split('=')[1])}`)
      .expect(302);
    expect(answer.headers.location).toBe('/failed');
    expect(sandbox.stats().hubspot).toMatchObject({ token: 0 });
  });

  it('an expired cookie (older than 10 minutes) is a state failure', async () => {
    const { app } = appFor(hubspot, sandbox);
    const { authorizeURL, cookie } = await begin(app, 'hubspot');
    const back = await approve(authorizeURL);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now + 10 * 60 * 1000 + 1);
    try {
      const answer = await request(app).get(back.pathname + back.search).set('Cookie', cookie).expect(302);
      expect(answer.headers.location).toBe('/failed');
    } finally {
      clock.mockRestore();
    }
    expect(sandbox.stats().hubspot).toMatchObject({ token: 0 });
  });

  it('a cookie sealed with another key is a state failure; a rotated key list still reads it', async () => {
    const { app } = appFor(hubspot, sandbox);
    const { authorizeURL, cookie } = await begin(app, 'hubspot');
    const back = await approve(authorizeURL);
    const otherKey = appFor(hubspot, sandbox, { key: randomBytes(32).toString('hex') });
    const answer = await request(otherKey.app).get(back.pathname + back.search).set('Cookie', cookie).expect(302);
    expect(answer.headers.location).toBe('/failed');
    expect(sandbox.stats().hubspot).toMatchObject({ token: 0 });
    const rotated = appFor(hubspot, sandbox, { key: [randomBytes(32).toString('base64'), KEY] });
    await request(rotated.app).get(back.pathname + back.search).set('Cookie', cookie).expect(200);
  });

  it('one-time across processes with stateClaims; the store alone, driven by hand, is one-time too', async () => {
    const shared = new MemoryStateClaims();
    const store = new CookieStateStore({ key: KEY, callbackURL: 'https://app.example/auth/x/callback', localClaims: new MemoryStateClaims(), stateClaims: shared });
    const headers: string[] = [];
    const req = { url: '/auth/x', headers: {}, res: { append: (_f: string, v: string) => headers.push(v) } } as never;
    const state = await new Promise<string>((resolve, reject) => store.store(req, 'the-verifier', undefined, {}, (e, s) => (e ? reject(e) : resolve(s as string))));
    expect(headers[0]).toContain('; Secure');
    const cookie = pair(headers[0]);
    // A second process (its own local record) sharing the claims store.
    const other = new CookieStateStore({ key: KEY, callbackURL: 'https://app.example/auth/x/callback', localClaims: new MemoryStateClaims(), stateClaims: shared });
    const verify = (s: CookieStateStore) =>
      new Promise<unknown>((resolve) => s.verify({ url: '/auth/x/callback', headers: { cookie }, res: { append: () => undefined } } as never, state, {}, (_e, ok) => resolve(ok)));
    expect(await verify(store)).toBe('the-verifier');
    expect(await verify(other)).toBe(false);
  });

  it('option errors name the option; without a session and without the cookie option the error says what to do', () => {
    const base = { clientID: 'c', clientSecret: 's', callbackURL: '/cb' };
    const verify = () => undefined;
    expect(() => new HubSpotStrategy({ ...base, state: { cookie: { key: 'short' } } }, verify)).toThrow(/option "state.cookie.key" must be 32 bytes/);
    expect(() => new HubSpotStrategy({ ...base, state: { cookie: {} as never } }, verify)).toThrow(/option "state.cookie.key" is required/);
    expect(() => new HubSpotStrategy({ ...base, state: {} as never }, verify)).toThrow(/option "state" must be true, false or \{ cookie: \{ key \} \}/);
    expect(() => new HubSpotStrategy({ ...base, state: { cookie: { key: KEY } }, store: {} }, verify)).toThrow(/option "store"/);
    expect(() => new HubSpotStrategy({ ...base, state: false }, verify)).toThrow(/without a session, use state: \{ cookie: \{ key \} \}/);
  });

  it('without express-session and without the cookie option, the login error points to state: { cookie }', async () => {
    const passport = new Passport();
    passport.use(new HubSpotStrategy({ clientID: 'c', clientSecret: 's', callbackURL: '/auth/hubspot/callback' }, () => undefined));
    const app = express();
    app.use(passport.initialize());
    app.get('/auth/hubspot', passport.authenticate('hubspot', { session: false }));
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ message: err.message }));
    const answer = await request(app).get('/auth/hubspot').expect(500);
    expect(answer.body.message).toContain('state: { cookie: { key } }');
  });

  it('the README example (oauth2 README, session-less.js) runs and completes a login against the sandbox', async () => {
    const root = resolve(__dirname, '../..');
    const readme = readFileSync(join(root, 'packages/oauth2/README.md'), 'utf8');
    const code = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((b) => b.startsWith('// session-less.js'));
    expect(code).toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), 'session-less-'));
    const port = await freePort();
    writeFileSync(join(dir, 'session-less.js'), code as string);
    const child = spawn(process.execPath, [join(dir, 'session-less.js')], {
      env: { ...process.env, NODE_PATH: join(root, 'node_modules'), PORT: String(port), SANDBOX_URL: sandbox.url, STATE_COOKIE_KEY: randomBytes(32).toString('hex') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      child.stderr?.on('data', (chunk) => (stderr += chunk));
      await new Promise<void>((ready, fail) => {
        child.stdout?.on('data', (chunk) => String(chunk).includes('listening') && ready());
        child.on('exit', (status) => fail(new Error(`session-less.js exited (${status}): ${stderr}`)));
      });
      const app = `http://127.0.0.1:${port}`;
      const begin = await fetch(`${app}/auth/hubspot`, { redirect: 'manual' });
      expect(begin.status).toBe(302);
      const cookie = (begin.headers.get('set-cookie') ?? '').split(';')[0];
      expect(cookie).toMatch(/^oauth2_state_hubspot\./);
      const back = new URL((await fetch(begin.headers.get('location') as string, { redirect: 'manual' })).headers.get('location') as string);
      const done = await fetch(`${app}${back.pathname}${back.search}`, { headers: { cookie }, redirect: 'manual' });
      expect(done.status).toBe(200);
      expect(((await done.json()) as { user: unknown }).user).toMatchObject({ id: expect.any(String) });
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
