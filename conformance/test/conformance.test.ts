/**
 * Every provider through the same flow and failure matrix against the sandbox (grant-style: providers
 * are data in ./providers.ts; only URLs differ between a real deployment and this suite).
 */
import express, { NextFunction, Request, Response } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { startSandbox } from '@passport-martech/sandbox';
import type { ProviderStrategy, TokenParams } from '@passport-martech/oauth2';
import { sandboxEndpoints, sandboxProviders, type ProviderId } from '@passport-martech/sandbox';
import { catalog } from '@passport-martech/example-redis-session/catalog';
import { CaseSettings, ProviderCase, providerCases } from './providers';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

const CALLBACK_ORIGIN = 'http://127.0.0.1:3999';
const TIMEOUT_MS = 800;

interface Captured {
  accessToken: string;
  refreshToken: string | undefined;
  params: TokenParams;
  profile: Record<string, unknown>;
}

interface Harness {
  agent: ReturnType<typeof request.agent>;
  captured: Captured[];
  strategy: ProviderStrategy;
}

function settingsFor(testCase: ProviderCase): CaseSettings {
  return {
    clientID: testCase.facts.client.clientId,
    clientSecret: testCase.facts.client.clientSecret,
    callbackURL: `${CALLBACK_ORIGIN}/auth/${testCase.id}/callback`,
    timeout: TIMEOUT_MS,
  };
}

function harness(testCase: ProviderCase, sandbox: Sandbox): Harness {
  const captured: Captured[] = [];
  const verify = (accessToken: string, refreshToken: string | undefined, params: TokenParams, profile: Record<string, unknown>, done: (e: unknown, u?: unknown) => void) => {
    captured.push({ accessToken, refreshToken, params, profile });
    done(null, { id: profile.id, provider: profile.provider });
  };
  const strategy = testCase.atSandbox(sandbox.url, settingsFor(testCase), verify as never);
  const passport = new Passport();
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  const app = express();
  app.use(session({ secret: 'conformance-session-secret', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.use(passport.session());
  app.get(`/auth/${testCase.id}`, passport.authenticate(testCase.id));
  app.get(
    `/auth/${testCase.id}/callback`,
    passport.authenticate(testCase.id, { failureRedirect: '/failed', failureMessage: true }),
    (req, res) => void res.json({ user: req.user }),
  );
  app.get('/failed', (req, res) => void res.status(401).json({ failed: true, messages: (req.session as { messages?: string[] }).messages ?? [] }));
  app.use((err: Error & { code?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(502).json({ name: err.constructor.name, code: err.code, status: err.status, message: err.message });
  });
  return { agent: request.agent(app), captured, strategy };
}

/** Starts a login and returns the authorize URL the app redirected to. */
async function begin(h: Harness, testCase: ProviderCase): Promise<URL> {
  const start = await h.agent.get(`/auth/${testCase.id}`).expect(302);
  return new URL(start.headers.location as string);
}

/** The sandbox (auto-approving) sends the browser back; returns the callback path with its query. */
async function approve(authorizeURL: URL): Promise<URL> {
  const answer = await fetch(authorizeURL, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location') as string);
}

async function login(h: Harness, testCase: ProviderCase) {
  const back = await approve(await begin(h, testCase));
  const started = Date.now();
  const response = await h.agent.get(back.pathname + back.search);
  return { response, back, elapsed: Date.now() - started };
}

function assertNoSecrets(text: string, testCase: ProviderCase, back?: URL): void {
  expect(text).not.toContain(settingsFor(testCase).clientSecret);
  const code = back?.searchParams.get('code');
  const state = back?.searchParams.get('state');
  if (code) expect(text).not.toContain(code);
  if (state) expect(text).not.toContain(state);
}

test('the catalog and the sandbox serve the same providers, each with every dialect configuration', () => {
  expect(catalog.map((e) => e.id).sort()).toEqual(sandboxProviders().sort());
  expect(new Set(providerCases.map((c) => c.id))).toEqual(new Set(sandboxProviders()));
  expect(providerCases.length).toBeGreaterThan(sandboxProviders().length); // the variants are in
});

describe.each(providerCases)('$label', (testCase) => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true });
  });
  afterAll(() => sandbox.close());
  beforeEach(() => sandbox.reset());

  describe('1. the redirect', () => {
    it('with the real default endpoints', async () => {
      const strategy = testCase.withDefaults(settingsFor(testCase), (() => undefined) as never);
      const url = await new Promise<URL>((resolve, reject) => {
        const attempt = Object.create(strategy) as Record<string, unknown> & { authenticate: ProviderStrategy['authenticate'] };
        attempt.redirect = (location: string) => resolve(new URL(location));
        attempt.error = reject;
        attempt.fail = reject;
        attempt.authenticate({ query: {}, headers: {}, session: { save: (cb: () => void) => cb() } } as never, {});
      });
      // The real provider: an https origin that is not the loopback sandbox, at the path the dialect mirrors.
      expect(url.protocol).toBe('https:');
      expect(['127.0.0.1', 'localhost', '[::1]']).not.toContain(url.hostname);
      expect(url.pathname).toBe(testCase.redirect.pathname);
      expect(url.searchParams.get('client_id')).toBe(testCase.facts.client.clientId);
      expect(url.searchParams.get('redirect_uri')).toBe(settingsFor(testCase).callbackURL);
      expect(url.searchParams.get('response_type')).toBe('code');
      expect(url.searchParams.get('scope')).toBe(testCase.redirect.scope);
      expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(url.searchParams.get('code_challenge_method')).toBe(testCase.redirect.pkce ? 'S256' : null);
      expect(url.searchParams.has('code_challenge')).toBe(testCase.redirect.pkce);
      // RFC 8707: an MCP server requires the resource indicator, the https URL of the MCP server.
      if (testCase.redirect.resource) expect(new URL(url.searchParams.get('resource') as string).protocol).toBe('https:');
      else expect(url.searchParams.has('resource')).toBe(false);
    });

    it('at the sandbox: only the URL base differs', async () => {
      const h = harness(testCase, sandbox);
      const url = await begin(h, testCase);
      expect(url.origin).toBe(sandbox.url);
      expect(url.pathname.startsWith(`/${testCase.id}/`)).toBe(true);
      expect(url.searchParams.get('scope')).toBe(testCase.redirect.scope);
    });
  });

  describe('2. a complete login', () => {
    it('exchanges the code in the provider encoding and hands verify the tokens, TokenSet and profile', async () => {
      const h = harness(testCase, sandbox);
      const before = Date.now();
      const { response } = await login(h, testCase);
      expect(response.status).toBe(200);
      expect(h.captured).toHaveLength(1);
      const [{ accessToken, refreshToken, params, profile }] = h.captured as [Captured];
      expect(accessToken).toEqual(expect.any(String));
      expect(refreshToken).toEqual(expect.any(String));
      expect(params).not.toHaveProperty('refresh_token');
      expect(params.tokenSet).toMatchObject({ accessToken, refreshToken });
      expect(params.tokenSet.expiresAt).toBeGreaterThanOrEqual(before + 1000 * ((params.expires_in as number) - 5));
      expect(params.tokenSet.raw.refresh_token).toBe(refreshToken);
      expect(profile).toMatchObject({ ...testCase.profile, id: expect.stringMatching(/.+/), photos: [] });
      expect(Array.isArray(profile.emails)).toBe(true);
      expect(JSON.stringify(profile)).not.toContain(accessToken);
      expect(response.body.user).toEqual({ id: profile.id, provider: testCase.id });
      expect(sandbox.stats()[testCase.id as ProviderId]).toMatchObject({ token: 1 });
    });

    it('the refresh grant works through the strategy token client in the same dialect', async () => {
      const h = harness(testCase, sandbox);
      await login(h, testCase);
      const first = h.captured[0] as Captured;
      const refreshed = await h.strategy.refreshTokenClient.refresh(first.refreshToken as string);
      expect(refreshed.accessToken).not.toBe(first.accessToken);
      expect(sandbox.stats()[testCase.id as ProviderId]).toMatchObject({ refresh: 1 });
    });

    it('revokes the refresh token where the provider documents revocation (a refresh then fails), else refuses with a typed error', async () => {
      const h = harness(testCase, sandbox);
      await login(h, testCase);
      const { refreshToken } = h.captured[0] as Captured;
      // The sandbox mirrors the provider: a revocation endpoint at the sandbox iff the real strategy has one.
      const atSandbox = sandboxEndpoints(sandbox.url, testCase.id, testCase.flow.variant).revocationURL;
      const real = testCase.withDefaults(settingsFor(testCase), (() => undefined) as never).provider.revocationURL;
      expect(real === undefined).toBe(atSandbox === undefined);
      if (atSandbox === undefined) {
        await expect(h.strategy.revoke(refreshToken as string)).rejects.toMatchObject({ code: 'OAUTH_REVOCATION_UNSUPPORTED', provider: testCase.id });
        return;
      }
      expect(new URL(real as string).protocol).toBe('https:');
      await h.strategy.revoke(refreshToken as string);
      await expect(h.strategy.refreshTokenClient.refresh(refreshToken as string)).rejects.toMatchObject({ code: 'invalid_grant' });
    });
  });

  describe('3. the failure matrix', () => {
    const tokenFaults = [
      { fault: 'http500', status: 500, code: 'server_error' },
      { fault: 'http503', status: 503, code: 'temporarily_unavailable' },
      { fault: 'html', status: 200, code: 'OAUTH_UNEXPECTED_RESPONSE' },
      { fault: 'redirect', status: 302, code: 'OAUTH_UNEXPECTED_REDIRECT' },
      { fault: 'empty', status: 200, code: 'OAUTH_UNEXPECTED_RESPONSE' },
      { fault: 'invalid_grant', status: 400, code: 'invalid_grant' },
      { fault: 'drop', status: undefined, code: 'OAUTH_NETWORK' },
    ] as const;

    it.each(tokenFaults)('token endpoint fault $fault -> $code', async ({ fault, status, code }) => {
      const h = harness(testCase, sandbox);
      await sandbox.addFault({ provider: testCase.id as ProviderId, endpoint: 'token', fault });
      const { response, back, elapsed } = await login(h, testCase);
      expect(response.status).toBe(502);
      expect(response.body.status).toBe(status);
      expect(response.body.code).toBe(code);
      expect(['OAuthTokenError', 'OAuthRequestError']).toContain(response.body.name);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
      expect(h.captured).toHaveLength(0);
      assertNoSecrets(JSON.stringify(response.body), testCase, back);
    });

    it('a token endpoint slower than timeout -> OAUTH_TIMEOUT within timeout + 1 s', async () => {
      const h = harness(testCase, sandbox);
      await sandbox.addFault({ provider: testCase.id as ProviderId, endpoint: 'token', fault: 'delay', delayMs: TIMEOUT_MS + 1500 });
      const { response, back, elapsed } = await login(h, testCase);
      expect(response.body).toMatchObject({ name: 'OAuthRequestError', code: 'OAUTH_TIMEOUT' });
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
      assertNoSecrets(JSON.stringify(response.body), testCase, back);
    });

    it('a denial on the consent page -> the failure redirect, no token request', async () => {
      const manual = await startSandbox({ autoApprove: false });
      try {
        const h = harness(testCase, manual);
        const authorize = await begin(h, testCase);
        const page = await fetch(authorize);
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toContain('Approve');
        const denied = await submitConsent(html, authorize, 'Deny');
        expect(denied.searchParams.get('error')).toBe('access_denied');
        const response = await h.agent.get(denied.pathname + denied.search);
        expect(response.status).toBe(302);
        expect(response.headers.location).toBe('/failed');
        expect(manual.stats()[testCase.id as ProviderId]).toMatchObject({ token: 0 });
      } finally {
        await manual.close();
      }
    });

    it('a forged state -> failure (403-style), the code is not spent', async () => {
      const h = harness(testCase, sandbox);
      const back = await approve(await begin(h, testCase));
      back.searchParams.set('state', 'forged-state-value-0123456789');
      const response = await h.agent.get(back.pathname + back.search);
      expect(response.headers.location).toBe('/failed');
      expect(sandbox.stats()[testCase.id as ProviderId]).toMatchObject({ token: 0 });
      const failed = await h.agent.get('/failed');
      expect(failed.body.messages.join(' ')).toMatch(/state/i);
      assertNoSecrets(JSON.stringify(failed.body), testCase, back);
    });

    it('a replayed state -> failure, the token endpoint is called once only', async () => {
      const h = harness(testCase, sandbox);
      const back = await approve(await begin(h, testCase));
      expect((await h.agent.get(back.pathname + back.search)).status).toBe(200);
      const replay = await h.agent.get(back.pathname + back.search);
      expect(replay.headers.location).toBe('/failed');
      expect(sandbox.stats()[testCase.id as ProviderId]).toMatchObject({ token: 1 });
    });

    it('the same callback 5 times at once with one cookie -> one token request, every copy signed in as the same user or a clean state failure, the tokens still valid', async () => {
      const h = harness(testCase, sandbox);
      const back = await approve(await begin(h, testCase));
      const copies = await Promise.all(Array.from({ length: 5 }, () => h.agent.get(back.pathname + back.search)));
      expect(sandbox.stats()[testCase.id as ProviderId]).toMatchObject({ token: 1 });
      expect(h.captured).toHaveLength(1);
      const user = (h.captured[0] as Captured).profile.id;
      // Copies in flight with the first wait for it and end signed in as the same user; a copy that arrives
      // after the first finished finds its session regenerated: a plain state failure.
      const outcomes = copies.map((r) => (r.status === 200 ? `user ${r.body.user?.id}` : `${r.status} ${r.headers.location}`));
      expect(outcomes.filter((o) => o !== '302 /failed')).toEqual(expect.arrayContaining([`user ${user}`]));
      expect(new Set(outcomes.filter((o) => o !== '302 /failed'))).toEqual(new Set([`user ${user}`]));
      // The sandbox revokes every token of a code that is exchanged twice: this call fails if it was.
      const sampleURL = `${sandbox.url}/${testCase.id}${testCase.facts.apiPath}`;
      const api = await apiGet(h.strategy, sampleURL, (h.captured[0] as Captured).accessToken, testCase.entry.sampleApiCall.headers);
      expect(api.status).toBe(200);
    });

    it('a callback without a login in progress (no session) -> failure', async () => {
      const h = harness(testCase, sandbox);
      const other = harness(testCase, sandbox);
      const back = await approve(await begin(other, testCase));
      const response = await h.agent.get(back.pathname + back.search);
      expect(response.headers.location).toBe('/failed');
      expect(sandbox.stats()[testCase.id as ProviderId]).toMatchObject({ token: 0 });
    });
  });
});

type NodeOAuthCallback = (err: { statusCode?: number } | null) => void;
interface NodeOAuth2 {
  get(url: string, accessToken: string, cb: NodeOAuthCallback): void;
  buildAuthHeader(accessToken: string): string;
  _request(method: 'GET', url: string, headers: Record<string, string>, body: string, accessToken: null, cb: NodeOAuthCallback): void;
}

/**
 * A GET through the strategy's node-oauth client, as third-party helpers make it: its get(), or, where
 * the provider's API requires more headers (the catalog's sample call names them), the request get()
 * makes (the token in the Authorization header) with those headers added.
 */
function apiGet(strategy: ProviderStrategy, url: string, accessToken: string, headers: Readonly<Record<string, string>> = {}): Promise<{ status: number }> {
  const oauth2 = (strategy as unknown as { _oauth2: NodeOAuth2 })._oauth2;
  return new Promise((resolve) => {
    const done: NodeOAuthCallback = (err) => resolve({ status: err ? (err.statusCode ?? 0) : 200 });
    if (Object.keys(headers).length === 0) return oauth2.get(url, accessToken, done);
    oauth2._request('GET', url, { ...headers, Authorization: oauth2.buildAuthHeader(accessToken) }, '', null, done);
  });
}

/** Submits the sandbox consent form with the named button, as a browser would; returns where it redirects. */
async function submitConsent(html: string, pageURL: URL, button: 'Approve' | 'Deny'): Promise<URL> {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error('no consent form');
  const body = new URLSearchParams();
  for (const input of (form[2] as string).matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) body.set(name, decodeEntities(value));
  }
  const pressed = [...(form[2] as string).matchAll(/<button([^>]*)>\s*([^<]*?)\s*<\/button>/gi)].find((b) => b[2] === button);
  if (!pressed) throw new Error(`no ${button} button`);
  const name = /name="([^"]*)"/.exec(pressed[1] as string)?.[1];
  const value = /value="([^"]*)"/.exec(pressed[1] as string)?.[1] ?? '';
  if (name) body.set(name, value);
  const action = new URL(decodeEntities(form[1] as string), pageURL);
  const answer = await fetch(action, { method: 'POST', body, redirect: 'manual' });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location') as string);
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}
