/**
 * Logging out cannot be undone, and "Log out everywhere" ends every session of the account: against a real
 * redis-server, the sandbox (a `delay` fault makes an API call slow) and two app instances on one Redis.
 */
import request from 'supertest';
import { appFor, csrfFrom, login, testConfig, useStack, type TestApp } from './helpers';

/** Instances A and B: same SESSION_SECRET and TOKEN_ENCRYPTION_KEY, same Redis. */
const shared = { TOKEN_ENCRYPTION_KEY: 'b'.repeat(64) };
const stack = useStack({ env: shared });
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  a = stack.app;
  b = await appFor(testConfig(stack.sandbox, stack.redis.url, shared), { logLevel: 'silent' });
});

afterAll(() => b?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Signs in with HubSpot on `app`; returns the cookie header, the session id and the page's CSRF token. */
async function signedIn(app: TestApp): Promise<{ cookie: string; sid: string; csrf: string }> {
  const { cookie, sid } = await login(request.agent(app.app), 'hubspot');
  const page = await request(app.app).get('/account').set('Cookie', `sid=${cookie}`);
  expect(page.status).toBe(200);
  return { cookie: `sid=${cookie}`, sid, csrf: csrfFrom(page.text) };
}

/** Starts `run` with a `delay` fault on `endpoint`, resolves once the provider has been reached (so the request has read its session). */
async function slowRequest(provider: 'hubspot' | 'marketo', endpoint: 'api' | 'token', run: () => request.Test): Promise<() => Promise<request.Response>> {
  stack.sandbox.addFault({ provider, endpoint, fault: 'delay', delayMs: 1200, times: 1 });
  const before = stack.sandbox.stats()[provider][endpoint];
  const pending = run().then((res) => res);
  while (stack.sandbox.stats()[provider][endpoint] === before) await sleep(20);
  return () => pending;
}

describe('a logout cannot be undone by a request that was still running', () => {
  test.each([
    ['on the same instance', () => a],
    ['on another instance', () => b],
  ])('a slow API call %s that changes the session and ends after the logout does not bring the session back', async (_where, slowApp) => {
    const { cookie, sid, csrf } = await signedIn(a);
    // Another browser of the same account links Marketo: the slow call below brings this session's
    // account summary up to date, so it writes the session at its end.
    const other = await signedIn(a);
    const intent = await request(a.app).post('/link/marketo').set('Cookie', other.cookie).type('form').send({ _csrf: other.csrf });
    const start = await request(a.app).get(intent.headers.location).set('Cookie', other.cookie);
    const callbackURL = new URL((await fetch(start.headers.location, { redirect: 'manual' })).headers.get('location') as string);
    expect((await request(a.app).get(`${callbackURL.pathname}${callbackURL.search}`).set('Cookie', other.cookie)).status).toBe(303);

    const slow = await slowRequest('hubspot', 'api', () => request(slowApp().app).post('/account/hubspot/api').set('Cookie', cookie).type('form').send({ _csrf: csrf }));
    const logout = await request(a.app).post('/logout').set('Cookie', cookie).type('form').send({ _csrf: csrf });
    expect(logout.status).toBe(303);
    expect(await stack.peek.exists(`sess:${sid}`)).toBe(0);

    expect((await slow()).status).toBe(200); // the call itself finishes...
    // ... but its end-of-request session write does not recreate the session.
    expect(await stack.peek.exists(`sess:${sid}`)).toBe(0);
    for (const app of [a, b]) {
      const account = await request(app.app).get('/account').set('Cookie', cookie);
      expect(account.status).toBe(303);
      expect(account.headers.location).toBe('/');
    }
  });

  test('a slow link callback that fails after the logout does not bring the session back', async () => {
    // Marketo is linked, with BoomTown, to another account: linking it here is a conflict (409).
    const owner = request.agent(a.app);
    await login(owner, 'marketo');
    const ownerCsrf = csrfFrom((await owner.get('/account')).text);
    await owner.post('/link/boomtown').type('form').send({ _csrf: ownerCsrf }).redirects(0);
    const ownerStart = await owner.get('/auth/boomtown?returnTo=%2Faccount');
    const ownerCallback = new URL((await fetch(ownerStart.headers.location, { redirect: 'manual' })).headers.get('location') as string);
    expect((await owner.get(`${ownerCallback.pathname}${ownerCallback.search}`)).status).toBe(303);

    const { cookie, sid, csrf } = await signedIn(a);
    const intent = await request(a.app).post('/link/marketo').set('Cookie', cookie).type('form').send({ _csrf: csrf });
    const start = await request(a.app).get(intent.headers.location).set('Cookie', cookie);
    const callbackURL = new URL((await fetch(start.headers.location, { redirect: 'manual' })).headers.get('location') as string);
    const slow = await slowRequest('marketo', 'token', () => request(b.app).get(`${callbackURL.pathname}${callbackURL.search}`).set('Cookie', cookie));
    expect((await request(a.app).post('/logout').set('Cookie', cookie).type('form').send({ _csrf: csrf })).status).toBe(303);
    expect((await slow()).status).toBe(409);
    expect(await stack.peek.exists(`sess:${sid}`)).toBe(0);
    expect((await request(a.app).get('/account').set('Cookie', cookie)).status).toBe(303);
  });

  test('a new session is still written (a login works), and a signed-in session is still updated', async () => {
    const { cookie, sid, csrf } = await signedIn(a);
    expect(await stack.peek.exists(`sess:${sid}`)).toBe(1);
    // A change to an existing session (the Link button records an intent) is saved.
    const intent = await request(a.app).post('/link/marketo').set('Cookie', cookie).type('form').send({ _csrf: csrf });
    expect(intent.status).toBe(303);
    expect(await stack.peek.get(`sess:${sid}`)).toContain('linkIntent');
  });
});

describe('Log out everywhere', () => {
  test('ends every session of the account, on every instance; other accounts and the tokens stay', async () => {
    const first = await signedIn(a);
    const second = await signedIn(b); // the same HubSpot user: the same account, another browser
    const third = await signedIn(a);
    const other = await login(request.agent(a.app), 'marketo'); // another account

    const page = await request(b.app).get('/account').set('Cookie', second.cookie);
    expect(page.text).toContain('action="/logout/everywhere"');
    const res = await request(b.app).post('/logout/everywhere').set('Cookie', second.cookie).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    expect(String(res.headers['set-cookie'])).toMatch(/^sid=;/);

    for (const s of [first, second, third]) {
      expect(await stack.peek.exists(`sess:${s.sid}`)).toBe(0);
      for (const app of [a, b]) expect((await request(app.app).get('/account').set('Cookie', s.cookie)).status).toBe(303);
    }
    expect((await request(a.app).get('/account').set('Cookie', `sid=${other.cookie}`)).status).toBe(200);
    // Tokens belong to the account, not to a session: signing in again finds them.
    expect(await stack.peek.keys('tokens:hubspot:*')).toHaveLength(1);
    expect(await stack.peek.keys('app:sessions:*')).toHaveLength(1); // only the other account's index is left
  });

  test('needs the CSRF token (a POST from another site cannot sign you out everywhere)', async () => {
    const first = await signedIn(a);
    const second = await signedIn(a);
    for (const body of [{}, { _csrf: 'forged' }, { _csrf: first.csrf.slice(1) }]) {
      const res = await request(a.app).post('/logout/everywhere').set('Cookie', first.cookie).type('form').send(body);
      expect(res.status).toBe(403);
    }
    expect((await request(a.app).post('/logout/everywhere').type('form').send({ _csrf: first.csrf })).status).toBe(403);
    for (const s of [first, second]) expect(await stack.peek.exists(`sess:${s.sid}`)).toBe(1);
  });

  test('a slow request of another session of the account cannot bring that session back', async () => {
    const first = await signedIn(a);
    const second = await signedIn(b);
    const slow = await slowRequest('hubspot', 'api', () => request(b.app).post('/account/hubspot/api').set('Cookie', second.cookie).type('form').send({ _csrf: second.csrf }));
    expect((await request(a.app).post('/logout/everywhere').set('Cookie', first.cookie).type('form').send({ _csrf: first.csrf })).status).toBe(303);
    expect((await slow()).status).toBe(200);
    expect(await stack.peek.exists(`sess:${second.sid}`)).toBe(0);
    expect((await request(b.app).get('/account').set('Cookie', second.cookie)).status).toBe(303);
  });
});
