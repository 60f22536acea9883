/**
 * One callback delivered several times at once (a double click, a prefetch, a retried navigation) and
 * session regeneration while another tab's login is pending. Real HTTP: the app listens on 127.0.0.1
 * and the fake provider too.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { MemoryStateClaims, ProviderStrategyOptions, StateClaimStore, stateClaimKey } from '../src/provider-kit';
import { InFlightLogins } from '../src/state-claims';
import { ACCESS_TOKEN, AUTH_CODE, REFRESH_TOKEN, TestStrategy, bodyOf, fakeProviderForFile, sendJson } from './helpers';

const fake = fakeProviderForFile();

const tokenRequests = () => fake().requestsTo('/oauth/token');

/** A MemoryStore that answers a little later, as a networked store (Redis) would. */
class SlowStore extends session.MemoryStore {
  override get(sid: string, callback: (err: unknown, s?: session.SessionData | null) => void): void {
    setTimeout(() => super.get(sid, callback), 5);
  }
}

interface Running {
  server: Server;
  store: session.Store;
  errors: unknown[];
  verified: string[];
  close(): Promise<void>;
}

async function startApp(options: Partial<ProviderStrategyOptions> = {}, store: session.Store = new SlowStore()): Promise<Running> {
  const errors: unknown[] = [];
  const verified: string[] = [];
  const strategy = new TestStrategy(fake().url, options, (accessToken: string, _rt: string, profile: { id: string }, done: (e: unknown, u?: unknown) => void) => {
    verified.push(accessToken);
    done(null, { id: profile.id });
  });
  const passport = new Passport();
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));
  const app = express();
  app.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false, store }));
  app.use(passport.initialize());
  app.use(passport.session());
  app.get('/auth/test', passport.authenticate('test'));
  app.get('/auth/test/callback', passport.authenticate('test', { failureRedirect: '/failed' }), (req, res) => void res.json({ user: req.user }));
  app.get('/me', (req, res) => void res.json({ user: req.user ?? null }));
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err);
    res.status(500).json({ error: (err as { code?: string }).code ?? 'error' });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, store, errors, verified, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function cookieOf(res: request.Response): string {
  const header = res.headers['set-cookie'] as unknown as string[] | undefined;
  const cookie = header?.find((c) => c.startsWith('connect.sid='));
  if (!cookie) throw new Error('no session cookie');
  return cookie.split(';')[0] as string;
}

function sessionId(cookie: string): string {
  return decodeURIComponent(cookie.slice('connect.sid='.length)).replace(/^s:/, '').replace(/\.[^.]*$/, '');
}

async function startLogin(server: Server, cookie?: string): Promise<{ cookie: string; state: string }> {
  const req = request(server).get('/auth/test');
  const res = await (cookie ? req.set('Cookie', cookie) : req).expect(302);
  return { cookie: cookie ?? cookieOf(res), state: new URL(res.headers.location as string).searchParams.get('state') as string };
}

function storedSession(store: session.Store, sid: string): Promise<unknown> {
  return new Promise((resolve, reject) => store.get(sid, (err, data) => (err ? reject(err) : resolve(data ?? null))));
}

describe('the same callback delivered several times at once, one cookie', () => {
  it('spends the code once, and every copy ends signed in as the same user', async () => {
    // The token answer is slow, so every copy is inside the callback while the first exchanges the code.
    fake().route('POST', '/oauth/token', (_req, res) =>
      setTimeout(() => sendJson(res, 200, { access_token: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN, token_type: 'bearer', expires_in: 3600 }), 100),
    );
    const app = await startApp();
    try {
      const { cookie, state } = await startLogin(app.server);
      const copies = await Promise.all(
        Array.from({ length: 5 }, () => request(app.server).get('/auth/test/callback').query({ code: AUTH_CODE, state }).set('Cookie', cookie)),
      );
      expect(tokenRequests()).toHaveLength(1);
      expect(app.verified).toEqual([ACCESS_TOKEN]);
      expect(copies.map((r) => [r.status, r.body.user?.id])).toEqual(Array.from({ length: 5 }, () => [200, '4242']));
      // Each copy's own new session is signed in.
      for (const copy of copies) {
        const me = await request(app.server).get('/me').set('Cookie', cookieOf(copy)).expect(200);
        expect(me.body.user).toEqual({ id: '4242' });
      }
      expect(app.errors).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('when the first copy fails, the copies waiting for it are plain state failures (no second exchange)', async () => {
    fake().route('POST', '/oauth/token', (_req, res) => setTimeout(() => sendJson(res, 400, { error: 'invalid_grant' }), 100));
    const app = await startApp();
    try {
      const { cookie, state } = await startLogin(app.server);
      const copies = await Promise.all(
        Array.from({ length: 3 }, () => request(app.server).get('/auth/test/callback').query({ code: AUTH_CODE, state }).set('Cookie', cookie)),
      );
      expect(tokenRequests()).toHaveLength(1);
      expect(copies.map((r) => r.status).sort()).toEqual([302, 302, 500]);
      expect(copies.filter((r) => r.status === 302).map((r) => r.headers.location)).toEqual(['/failed', '/failed']);
    } finally {
      await app.close();
    }
  });

  it('a copy that arrives after the login finished is a plain state failure, the code still spent once', async () => {
    const app = await startApp();
    try {
      const { cookie, state } = await startLogin(app.server);
      await request(app.server).get('/auth/test/callback').query({ code: AUTH_CODE, state }).set('Cookie', cookie).expect(200);
      const late = await request(app.server).get('/auth/test/callback').query({ code: AUTH_CODE, state }).set('Cookie', cookie);
      expect(late.headers.location).toBe('/failed');
      expect(tokenRequests()).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('with a shared claim store that another process already claimed: a state failure, no token request', async () => {
    const keys: string[] = [];
    const stateClaims: StateClaimStore = {
      claim: async (key) => {
        keys.push(key);
        return false;
      },
    };
    const app = await startApp({ stateClaims });
    try {
      const { cookie, state } = await startLogin(app.server);
      const res = await request(app.server).get('/auth/test/callback').query({ code: AUTH_CODE, state }).set('Cookie', cookie);
      expect(res.headers.location).toBe('/failed');
      expect(tokenRequests()).toHaveLength(0);
      // The key is a digest of the state, never the state itself.
      expect(keys).toEqual([stateClaimKey('oauth2:test', state)]);
      expect(keys[0]).not.toContain(state);
    } finally {
      await app.close();
    }
  });

  it('parallel copies against a shared claim store that grants once: one token request', async () => {
    const shared = new MemoryStateClaims();
    const stateClaims: StateClaimStore = { claim: (key, ttl) => new Promise((resolve) => setTimeout(() => resolve(shared.claim(key, ttl)), 5)) };
    const app = await startApp({ stateClaims });
    try {
      const { cookie, state } = await startLogin(app.server);
      const copies = await Promise.all(
        Array.from({ length: 3 }, () => request(app.server).get('/auth/test/callback').query({ code: AUTH_CODE, state }).set('Cookie', cookie)),
      );
      expect(tokenRequests()).toHaveLength(1);
      expect(copies.every((r) => r.status === 200 || r.headers.location === '/failed')).toBe(true);
      expect(copies.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    } finally {
      await app.close();
    }
  });

  it('a claim store that fails is an error for the error handler, and the code is not spent', async () => {
    const app = await startApp({ stateClaims: { claim: () => Promise.reject(new Error('claim store down')) } });
    try {
      const { cookie, state } = await startLogin(app.server);
      const res = await request(app.server).get('/auth/test/callback').query({ code: AUTH_CODE, state }).set('Cookie', cookie);
      expect(res.status).toBe(500);
      expect((app.errors[0] as Error).message).toBe('claim store down');
      expect(tokenRequests()).toHaveLength(0);
    } finally {
      await app.close();
    }
  });

  it('stateClaims is refused with a custom store or with state off, and must have claim()', () => {
    const verify = () => undefined;
    const stateClaims = { claim: () => true };
    const store = { store: (_a: unknown, _b: unknown, _c: unknown, _d: unknown, cb: () => void) => cb(), verify: () => undefined };
    expect(() => new TestStrategy(fake().url, { stateClaims, store }, verify)).toThrow(/option "stateClaims" works with the built-in state store only/);
    expect(() => new TestStrategy(fake().url, { stateClaims, state: false, pkce: false }, verify)).toThrow(/option "stateClaims"/);
    expect(() => new TestStrategy(fake().url, { stateClaims: {} as StateClaimStore }, verify)).toThrow(/option "stateClaims" must be an object with a claim/);
  });
});

describe('MemoryStateClaims', () => {
  it('grants a key once until it expires, then again', async () => {
    const claims = new MemoryStateClaims();
    expect(claims.claim('a', 30)).toBe(true);
    expect(claims.claim('a', 30)).toBe(false);
    expect(claims.claim('b', 30)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(claims.claim('a', 30)).toBe(true);
  });

  it('sweeps expired keys as new ones arrive, so memory stays bounded', async () => {
    const claims = new MemoryStateClaims();
    for (let i = 0; i < 100; i++) claims.claim(`old-${i}`, 10);
    expect(claims.size).toBe(100);
    await new Promise((resolve) => setTimeout(resolve, 20));
    claims.claim('new', 10);
    expect(claims.size).toBe(1);
  });

  it('sweeps at most once a second, and an expired key that is still held is granted again', async () => {
    const claims = new MemoryStateClaims();
    claims.claim('first', 10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    claims.claim('second', 10); // sweeps 'first'
    expect(claims.size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    claims.claim('third', 10); // within a second of the last sweep: 'second' is expired but still held
    expect(claims.size).toBe(2);
    expect(claims.claim('second', 10)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    claims.claim('fourth', 10);
    expect(claims.size).toBe(1);
  });
});

describe('InFlightLogins', () => {
  afterEach(() => jest.useRealTimers());

  it('gives a waiting duplicate the outcome, and a late one the outcome for 5 s after it settled', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const logins = new InFlightLogins();
    const settle = logins.begin('k');
    const waiting = logins.waitFor('k');
    settle({ user: { id: 'u' }, info: { message: 'hi' } });
    await expect(waiting).resolves.toEqual({ user: { id: 'u' }, info: { message: 'hi' } });
    jest.setSystemTime(1_000_000 + 4_900);
    await expect(logins.waitFor('k')).resolves.toEqual({ user: { id: 'u' }, info: { message: 'hi' } });
    jest.setSystemTime(1_000_000 + 5_000);
    expect(logins.waitFor('k')).toBeUndefined();
  });

  it('drops settled logins after the grace period, by the shared timer when no other login comes', () => {
    jest.useFakeTimers({ now: 2_000_000 });
    const logins = new InFlightLogins();
    for (let i = 0; i < 2_000; i++) logins.begin(`early${i}`)({ user: { id: i } });
    jest.advanceTimersByTime(3_000);
    for (let i = 0; i < 1_000; i++) logins.begin(`late${i}`)({ user: { id: i } });
    expect(logins.size).toBe(3_000);
    jest.advanceTimersByTime(2_100);
    // The early ones are gone, the late ones kept.
    expect(logins.size).toBe(1_000);
    jest.advanceTimersByTime(5_100);
    expect(logins.size).toBe(0);
  });

  it('keeps a login in progress, and ends one that never settles after 10 minutes as not signed in', async () => {
    jest.useFakeTimers({ now: 3_000_000 });
    const logins = new InFlightLogins();
    logins.begin('stuck');
    const waiting = logins.waitFor('stuck');
    for (let i = 0; i < 10; i++) logins.begin(`done${i}`)({ user: { id: i } });
    jest.setSystemTime(3_000_000 + 6_000);
    logins.begin('later');
    expect(logins.size).toBe(2); // 'stuck' and 'later'; the settled ones are gone
    jest.setSystemTime(3_000_000 + 10 * 60_000);
    logins.begin('much-later');
    await expect(waiting).resolves.toEqual({});
    expect(logins.waitFor('stuck')).toBeUndefined();
    expect(logins.size).toBe(2); // 'later' and 'much-later'
  });

  it('ends the wait of duplicates of an abandoned login when a later duplicate finds it expired before any sweep', async () => {
    jest.useFakeTimers({ now: 4_000_000 });
    const logins = new InFlightLogins();
    logins.begin('stuck');
    const waiting = logins.waitFor('stuck');
    jest.setSystemTime(4_000_000 + 10 * 60_000);
    expect(logins.waitFor('stuck')).toBeUndefined();
    await expect(Promise.race([waiting, Promise.resolve('still waiting')])).resolves.toEqual({});
  });
});

describe('session regeneration at login while another tab has a login pending', () => {
  it('the session id changes, the old session is gone, and the other tab can still finish', async () => {
    const store = new session.MemoryStore();
    const app = await startApp({}, store);
    try {
      const tabA = await startLogin(app.server);
      const tabB = await startLogin(app.server, tabA.cookie);
      const oldId = sessionId(tabA.cookie);
      expect(await storedSession(store, oldId)).not.toBeNull();

      const done = await request(app.server).get('/auth/test/callback').query({ code: AUTH_CODE, state: tabA.state }).set('Cookie', tabA.cookie).expect(200);
      const newCookie = cookieOf(done);
      expect(sessionId(newCookie)).not.toBe(oldId);
      expect(await storedSession(store, oldId)).toBeNull();
      // The old cookie is signed out; the new one is signed in.
      expect((await request(app.server).get('/me').set('Cookie', tabA.cookie)).body.user).toBeNull();
      expect((await request(app.server).get('/me').set('Cookie', newCookie)).body.user).toEqual({ id: '4242' });

      // Tab B still has the old cookie in its URL's browser: the browser now sends the new one.
      await request(app.server).get('/auth/test/callback').query({ code: 'code-tab-b-000000', state: tabB.state }).set('Cookie', newCookie).expect(200);
      expect(tokenRequests().map((r) => bodyOf(r).code)).toEqual([AUTH_CODE, 'code-tab-b-000000']);
    } finally {
      await app.close();
    }
  });
});
