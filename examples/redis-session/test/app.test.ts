/**
 * The example app against a real redis-server (private port) and the sandbox (consent pages answered
 * like a person would): logins, sessions in Redis, linking, refresh, re-auth, CSRF, redirects, escaping.
 */
import type { Redis } from 'ioredis';
import request from 'supertest';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { catalogEntry, PROVIDER_IDS, type ProviderId } from '../src/catalog';
import { escapeHtml } from '../src/html';
import {
  appFor,
  consent,
  csrfFrom,
  demoEmail,
  inspector,
  link,
  login,
  sandboxFor,
  sandboxPost,
  startRedisServer,
  testConfig,
  type PrivateRedis,
  type TestApp,
} from './helpers';

const XSS_NAME = '<script>alert("pwned")</script> & Co';

/** The name of each provider's sandbox user (BoomTown's is the XSS probe). */
const USER_NAMES = Object.fromEntries(PROVIDER_IDS.map((id) => [id, id === 'boomtown' ? XSS_NAME : `${catalogEntry(id).name} Test Person`])) as Record<ProviderId, string>;

let redis: PrivateRedis;
let sandbox: RunningSandbox;
let app: TestApp;
let peek: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  sandbox = await sandboxFor({ autoApprove: false, users: Object.fromEntries(PROVIDER_IDS.map((id) => [id, { name: USER_NAMES[id] }])) });
  app = await appFor(testConfig(sandbox, redis.url));
  peek = inspector(redis.url);
});

afterAll(async () => {
  peek?.disconnect();
  await app?.close();
  await sandbox?.close();
  await redis?.stop();
});

beforeEach(async () => {
  // Each test starts with an empty Redis (no accounts, sessions or tokens) and fresh sandbox counters.
  await peek.flushall();
  sandbox.reset();
});

describe('pages', () => {
  test('home lists a sign-in button per provider and needs no session', async () => {
    const res = await request(app.app).get('/');
    expect(res.status).toBe(200);
    for (const id of PROVIDER_IDS) expect(res.text).toContain(`href="/auth/${id}"`);
    expect(res.text).toContain('Sign in with HubSpot');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  test('/healthz reports Redis', async () => {
    const res = await request(app.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', redis: 'up' });
  });

  test('/account without a session redirects home', async () => {
    const res = await request(app.app).get('/account');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  test('an unknown provider is a 404 page, not a 500', async () => {
    for (const path of ['/auth/nope', '/auth/nope/callback?code=x&state=y', '/auth/__proto__', '/no/such/page']) {
      const res = await request(app.app).get(path);
      expect(res.status).toBe(404);
      expect(res.type).toBe('text/html');
      expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
    }
  });
});

describe.each(PROVIDER_IDS)('login with %s', (provider) => {
  test('consent, account page with the profile, session in Redis, logout removes it', async () => {
    const agent = request.agent(app.app);
    const { callback, sid } = await login(agent, provider);
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/account');
    expect(await peek.exists(`sess:${sid}`)).toBe(1);

    const account = await agent.get('/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain(demoEmail(provider));
    // The card shows the user's name whenever the provider's profile carries it (HubSpot's does not:
    // its card shows a fallback).
    const shown = /<dd class="profile-name">([^<]*)<\/dd>/.exec(account.text)?.[1];
    const raw = /<pre>([\s\S]*?)<\/pre>/.exec(account.text)?.[1] ?? '';
    if (shown !== escapeHtml(USER_NAMES[provider])) expect(raw).not.toContain(escapeHtml(JSON.stringify(USER_NAMES[provider]).slice(1, -1)));
    expect(account.text).toContain('Call the API');
    expect(account.text).toMatch(/<time data-expires-at="\d+"/);
    // Tokens are in Redis, encrypted (demo mode generates a key), never in the session.
    const tokenKeys = await peek.keys('tokens:*');
    expect(tokenKeys).toHaveLength(1);
    expect(await peek.get(tokenKeys[0])).toMatch(/^v1:/);
    expect(await peek.get(`sess:${sid}`)).not.toMatch(/access|refresh/i);

    const logout = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(account.text) });
    expect(logout.status).toBe(303);
    expect(logout.headers.location).toBe('/');
    expect(await peek.exists(`sess:${sid}`)).toBe(0);
    expect((await agent.get('/account')).status).toBe(303);
  });
});

describe('sessions', () => {
  test('the session is regenerated at login (no fixation) and saved before the redirect to the provider', async () => {
    const agent = request.agent(app.app);
    const start = await agent.get('/auth/hubspot');
    const before = decodeURIComponent(/sid=([^;]+)/.exec(String(start.headers['set-cookie']))?.[1] ?? '');
    const preSid = before.slice(2, before.lastIndexOf('.'));
    // Saved before the redirect: the pending login (state) is already in Redis.
    expect(await peek.get(`sess:${preSid}`)).toContain('oauth2:hubspot');
    const callbackURL = await consent(start.headers.location);
    const callback = await agent.get(`${callbackURL.pathname}${callbackURL.search}`);
    expect(callback.status).toBe(303);
    expect(await peek.exists(`sess:${preSid}`)).toBe(0);
    expect(await peek.keys('sess:*')).toHaveLength(1);
  });

  test('page views refresh the session TTL at most once per SESSION_TOUCH_SECONDS; the TTL is full after each refresh', async () => {
    const touchy = await appFor(testConfig(sandbox, redis.url, { SESSION_TTL_SECONDS: '60', SESSION_TOUCH_SECONDS: '1' }), { logLevel: 'silent' });
    try {
      const agent = request.agent(touchy.app);
      const { sid } = await login(agent, 'hubspot');
      const expires = async () => Number(/cmdstat_expire:calls=(\d+)/.exec(await peek.info('commandstats'))?.[1] ?? 0);
      const before = await expires();
      // The login saved the session (SET with its TTL): page views right after it need no EXPIRE.
      for (let i = 0; i < 3; i++) expect((await agent.get('/')).status).toBe(200);
      expect(await expires()).toBe(before);

      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await peek.pttl(`sess:${sid}`)).toBeLessThan(59_000);
      for (let i = 0; i < 3; i++) expect((await agent.get('/')).status).toBe(200);
      expect(await expires()).toBe(before + 1);
      expect(await peek.pttl(`sess:${sid}`)).toBeGreaterThan(59_000);
    } finally {
      await touchy.close();
    }
  });

  test('the session keeps a summary of the account (no raw profile), so a page needs no account read', async () => {
    const agent = request.agent(app.app);
    const { sid } = await login(agent, 'hubspot');
    const stored = JSON.parse((await peek.get(`sess:${sid}`)) as string) as { passport: { user: { id: string; identities: Record<string, object> } } };
    expect(Object.keys(stored.passport.user.identities)).toEqual(['hubspot']);
    expect(stored.passport.user.identities.hubspot).toMatchObject({ provider: 'hubspot', emails: ['demo+hubspot@example.com'] });
    expect(stored.passport.user.identities.hubspot).not.toHaveProperty('raw');
    const hgetall = async () => Number(/cmdstat_hgetall:calls=(\d+)/.exec(await peek.info('commandstats'))?.[1] ?? 0);
    const before = await hgetall();
    const home = await agent.get('/');
    expect(home.text).toContain('You are signed in as');
    expect(home.text).toContain('Linked to your account');
    expect(await hgetall()).toBe(before);
  });

  test('cookie flags: HttpOnly, SameSite=Lax, not Secure on http', async () => {
    const res = await request(app.app).get('/auth/hubspot');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
  });
});

describe('linking', () => {
  test('a signed-in user linking a second provider keeps one account with both', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'hubspot');
    const first = await agent.get('/account');
    const accountId = /<dt>Account id<\/dt><dd>([^<]+)<\/dd>/.exec(first.text)?.[1];
    expect(first.text).toContain('Link Marketo');

    const linked = await link(agent, 'marketo');
    expect(linked.callback.status).toBe(303);
    const after = await agent.get('/account');
    expect(after.text).toContain(`<dd>${accountId}</dd>`);
    expect(after.text).toContain('demo+hubspot@example.com');
    expect(after.text).toContain('demo+marketo@example.com');
    expect(after.text).toContain('id="provider-hubspot"');
    expect(after.text).toContain('id="provider-marketo"');
    expect(await peek.keys('app:{accounts}:account:*')).toHaveLength(1);
    expect(await peek.keys('tokens:*')).toHaveLength(2);

    // Signing in later with the linked provider alone finds the same account.
    const later = request.agent(app.app);
    await login(later, 'marketo');
    expect((await later.get('/account')).text).toContain(`<dd>${accountId}</dd>`);
  });

  test('disconnect removes one provider and its tokens; the last one cannot be removed', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'hubspot');
    await link(agent, 'boomtown');
    const page = await agent.get('/account');
    const res = await agent.post('/account/boomtown/disconnect').type('form').send({ _csrf: csrfFrom(page.text) });
    expect(res.status).toBe(303);
    const after = await agent.get('/account');
    expect(after.text).not.toContain('id="provider-boomtown"');
    expect(await peek.keys('tokens:*')).toHaveLength(1);
    const last = await agent.post('/account/hubspot/disconnect').type('form').send({ _csrf: csrfFrom(after.text) });
    expect(last.status).toBe(400);
    expect(last.text).toContain('only way to sign in');
  });

  test('disconnect revokes the grant at a provider that documents revocation, and says so in the log; elsewhere it only forgets the tokens', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'marketo');
    await link(agent, 'hubspot');
    const accountId = /<dt>Account id<\/dt><dd>([^<]+)<\/dd>/.exec((await agent.get('/account')).text)?.[1] as string;
    const stored = await app.tokens.get(accountId, 'hubspot');
    expect(stored?.refreshToken).toEqual(expect.any(String));
    const page = await agent.get('/account');
    expect((await agent.post('/account/hubspot/disconnect').type('form').send({ _csrf: csrfFrom(page.text) })).status).toBe(303);
    expect(sandbox.refreshTokenStatus('hubspot', stored?.refreshToken as string)).toMatchObject({ live: false, grantRevoked: true });
    await expect(app.tokens.get(accountId, 'hubspot')).resolves.toBeUndefined();
    expect(app.logs.some((line) => line.includes('grant revoked at the provider') && line.includes('"provider":"hubspot"'))).toBe(true);
    expect(app.logs.join('\n')).not.toContain(stored?.refreshToken as string);
  });

  test('an identity that is the only one of another account moves here (that account is absorbed)', async () => {
    const a = request.agent(app.app);
    await login(a, 'hubspot'); // account 1: hubspot only
    const b = request.agent(app.app);
    await login(b, 'marketo'); // account 2: marketo
    const { callback } = await link(b, 'hubspot');
    expect(callback.status).toBe(303);
    const page = await b.get('/account');
    expect(page.text).toContain('id="provider-hubspot"');
    expect(page.text).toContain('id="provider-marketo"');
    expect(await peek.keys('app:{accounts}:account:*')).toHaveLength(1);
    expect(await peek.keys('tokens:*')).toHaveLength(2);
    expect((await a.get('/account')).status).toBe(303); // account 1 no longer exists
    // ... and that session is signed out (its summary named account 1).
    expect((await a.get('/')).text).not.toContain('You are signed in');
  });

  test('another session of the same account sees a link made elsewhere on its account page, then everywhere', async () => {
    const first = request.agent(app.app);
    await login(first, 'hubspot');
    const second = request.agent(app.app);
    await login(second, 'hubspot'); // the same HubSpot user: the same account, another browser
    await link(first, 'marketo');
    // The other session's summary is from before the link: pages other than the account page show that.
    expect((await second.get('/')).text).toContain('Link Marketo');
    // The account page reads the account itself...
    expect((await second.get('/account')).text).toContain('id="provider-marketo"');
    // ... and brings that session's summary up to date for the other pages.
    expect((await second.get('/')).text).not.toContain('Sign in with Marketo');
    expect((await second.get('/')).text).not.toContain('Link Marketo');
  });

  test('an identity linked to another account with other providers is refused with 409', async () => {
    const a = request.agent(app.app);
    await login(a, 'hubspot');
    await link(a, 'marketo'); // account 1: hubspot + marketo
    const b = request.agent(app.app);
    await login(b, 'boomtown'); // account 2: boomtown
    const { callback } = await link(b, 'hubspot');
    expect(callback.status).toBe(409);
    expect(callback.text).toContain('already linked');
    expect((await a.get('/account')).text).toContain('id="provider-hubspot"');
    expect((await b.get('/account')).text).not.toContain('id="provider-hubspot"');
  });
});

describe('Call the API through TokenManager', () => {
  test.each(PROVIDER_IDS)('%s: sample endpoint; after a forced expiry exactly one refresh', async (provider) => {
    const agent = request.agent(app.app);
    await login(agent, provider);
    const page = await agent.get('/account');
    const csrf = csrfFrom(page.text);

    const first = await agent.post(`/account/${provider}/api`).type('form').send({ _csrf: csrf });
    expect(first.status).toBe(200);
    expect(first.text).toContain('id="api-result"');
    expect(first.text).toMatch(/ada@example\.com/);
    expect(sandbox.stats()[provider].refresh).toBe(0);

    await sandboxPost(sandbox, '/_sandbox/expire', { provider });
    const second = await agent.post(`/account/${provider}/api`).type('form').send({ _csrf: csrf });
    expect(second.status).toBe(200);
    expect(second.text).toMatch(/ada@example\.com/);
    expect(sandbox.stats()[provider].refresh).toBe(1);
  });

  test('concurrent calls after an expiry still make one refresh', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'hubspot');
    const csrf = csrfFrom((await agent.get('/account')).text);
    await sandboxPost(sandbox, '/_sandbox/expire', { provider: 'hubspot' });
    const results = await Promise.all([1, 2, 3, 4].map(() => agent.post('/account/hubspot/api').type('form').send({ _csrf: csrf })));
    for (const r of results) expect(r.status).toBe(200);
    expect(sandbox.stats().hubspot.refresh).toBe(1);
  });

  test('invalid_grant (revoked refresh token) gives the reconnect page, and reconnecting works', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'customerio');
    const csrf = csrfFrom((await agent.get('/account')).text);
    await sandboxPost(sandbox, '/_sandbox/revoke', { provider: 'customerio' });
    await sandboxPost(sandbox, '/_sandbox/expire', { provider: 'customerio' });

    const res = await agent.post('/account/customerio/api').type('form').send({ _csrf: csrf });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Reconnect Customer.io');
    expect(res.text).toContain('action="/link/customerio"');
    // The tokens are gone: their record deleted, or retired (RedisTokenStore keeps only a fingerprint
    // of the dead refresh token, and it reads as absent).
    for (const key of await peek.keys('tokens:*')) expect(await peek.get(key)).toMatch(/^x1:[^:]+$/);
    const account = await agent.get('/account');
    expect(account.text).toContain('none stored: reconnect needed');
    expect(account.text).toContain('Reconnect Customer.io');

    const again = await link(agent, 'customerio');
    expect(again.callback.headers.location).toBe('/account');
    const ok = await agent.post('/account/customerio/api').type('form').send({ _csrf: csrfFrom((await agent.get('/account')).text) });
    expect(ok.status).toBe(200);
  });

  test('the API call needs the CSRF token', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'hubspot');
    const res = await agent.post('/account/hubspot/api').type('form').send({});
    expect(res.status).toBe(403);
    expect(sandbox.stats().hubspot.api).toBe(0);
  });
});

describe('logout and CSRF', () => {
  test('POST /logout without or with a wrong token is refused; the session survives', async () => {
    const agent = request.agent(app.app);
    const { sid } = await login(agent, 'hubspot');
    for (const body of [{}, { _csrf: 'forged' }, { _csrf: '' }]) {
      const res = await agent.post('/logout').type('form').send(body);
      expect(res.status).toBe(403);
    }
    expect(await peek.exists(`sess:${sid}`)).toBe(1);
    expect((await agent.get('/account')).status).toBe(200);
  });

  test('GET /logout is refused (405) and offers the button', async () => {
    const agent = request.agent(app.app);
    const { sid } = await login(agent, 'hubspot');
    const res = await agent.get('/logout');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.text).toContain('method="post" action="/logout"');
    expect(await peek.exists(`sess:${sid}`)).toBe(1);
  });

  test('a CSRF token from another session does not work', async () => {
    const a = request.agent(app.app);
    await login(a, 'hubspot');
    const tokenA = csrfFrom((await a.get('/account')).text);
    const b = request.agent(app.app);
    const { sid } = await login(b, 'marketo');
    expect((await b.post('/logout').type('form').send({ _csrf: tokenA })).status).toBe(403);
    expect(await peek.exists(`sess:${sid}`)).toBe(1);
  });
});

describe('returnTo', () => {
  test.each(['//evil.example', 'https://evil.example', '/\\evil.example', '\\\\evil.example', 'http:evil.example', '/\n/evil.example', ' //evil.example', '/\t/evil.example', 'javascript:alert(1)', '/.//evil.example', '/a/..//evil.example', '/%2e//evil.example'])(
    'refuses %j',
    async (returnTo) => {
      const res = await request(app.app).get(`/auth/hubspot?returnTo=${encodeURIComponent(returnTo)}`);
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.text).toContain('Unsafe return address');
    },
  );

  test('a local path is honoured after login', async () => {
    const agent = request.agent(app.app);
    const { callback } = await login(agent, 'hubspot', { returnTo: '/account?tab=profile' });
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/account?tab=profile');
  });
});

describe('escaping', () => {
  test('a profile name with <script> is shown as text', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'boomtown');
    const res = await agent.get('/account');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; Co');
    // Only the page's own script tag.
    expect(res.text.match(/<script/g)).toHaveLength(1);
  });
});

describe('failures are pages with the right status', () => {
  test('consent denied: 403, not signed in', async () => {
    const agent = request.agent(app.app);
    const { callback } = await login(agent, 'marketo', { decision: 'deny' });
    expect(callback.status).toBe(403);
    expect(callback.text).toContain('Sign-in cancelled');
    expect((await agent.get('/account')).status).toBe(303);
  });

  test('state mismatch: 400 and the code is never spent', async () => {
    const agent = request.agent(app.app);
    const start = await agent.get('/auth/hubspot');
    const callbackURL = await consent(start.headers.location);
    callbackURL.searchParams.set('state', 'forged-state');
    const res = await agent.get(`${callbackURL.pathname}${callbackURL.search}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('could not be verified');
    expect(sandbox.stats().hubspot.token).toBe(0);
  });

  test('a replayed callback is refused', async () => {
    const agent = request.agent(app.app);
    const start = await agent.get('/auth/ontraport');
    const callbackURL = await consent(start.headers.location);
    const path = `${callbackURL.pathname}${callbackURL.search}`;
    expect((await agent.get(path)).status).toBe(303);
    expect((await agent.get(path)).status).toBe(400);
  });

  test('provider token endpoint down: 502 page without internals', async () => {
    sandbox.addFault({ provider: 'hubspot', endpoint: 'token', fault: 'http500' });
    const agent = request.agent(app.app);
    const { callback } = await login(agent, 'hubspot');
    expect(callback.status).toBe(502);
    expect(callback.text).toContain('HubSpot is having trouble');
    expect(callback.text).not.toMatch(/OAuthTokenError|stack|\.js:\d+/);
  });

  test('provider answering HTML: 502', async () => {
    sandbox.addFault({ provider: 'boomtown', endpoint: 'token', fault: 'html' });
    const { callback } = await login(request.agent(app.app), 'boomtown');
    expect(callback.status).toBe(502);
  });
});

describe('logging', () => {
  test('no cookie, code, state, CSRF token or provider token reaches the logs', async () => {
    app.logs.length = 0;
    const agent = request.agent(app.app);
    const start = await agent.get('/auth/hubspot');
    const callbackURL = await consent(start.headers.location);
    const code = callbackURL.searchParams.get('code') as string;
    const state = callbackURL.searchParams.get('state') as string;
    const callback = await agent.get(`${callbackURL.pathname}${callbackURL.search}`);
    const cookie = /sid=([^;]+)/.exec(String(callback.headers['set-cookie']))?.[1] as string;
    const page = await agent.get('/account');
    const csrf = csrfFrom(page.text);
    await agent.post('/account/hubspot/api').type('form').send({ _csrf: csrf });
    await sandboxPost(sandbox, '/_sandbox/expire', { provider: 'hubspot' });
    await agent.post('/account/hubspot/api').type('form').send({ _csrf: csrf }).set('Authorization', 'Bearer not-logged');

    const logs = app.logs.join('\n');
    expect(app.logs.length).toBeGreaterThan(4);
    expect(logs).toContain('/auth/hubspot/callback?');
    expect(logs).toContain('access token refreshed');
    for (const secret of [code, state, cookie, decodeURIComponent(cookie), csrf, 'not-logged']) {
      expect(logs).not.toContain(secret);
    }
    for (const key of await peek.keys('tokens:*')) {
      const tokens = await app.tokens.store.get(key.slice('tokens:'.length));
      expect(logs).not.toContain(tokens?.accessToken);
      expect(logs).not.toContain(tokens?.refreshToken);
    }

    // The request lines: masked, not dropped.
    type Line = { msg?: string; req?: { method: string; url: string; headers: Record<string, string> }; res?: { statusCode: number; headers: Record<string, string> } };
    const lines = app.logs.map((l) => JSON.parse(l) as Line).filter((l) => l.msg === 'request completed');
    const accountLine = lines.find((l) => l.req?.url === '/account');
    expect(accountLine?.req).toMatchObject({ method: 'GET', headers: { cookie: '[Redacted]' } });
    expect(accountLine?.res?.statusCode).toBe(200);
    const redirect = lines.find((l) => l.req?.url === '/auth/hubspot');
    expect(redirect?.res?.headers['set-cookie']).toBe('[Redacted]');
    expect(redirect?.res?.headers.location).toContain('state=%5BRedacted%5D');
    const apiLine = lines.find((l) => l.req?.headers.authorization !== undefined);
    expect(apiLine?.req?.headers.authorization).toBe('[Redacted]');
  });
});
