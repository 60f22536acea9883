import type { RunningSandbox } from '@passport-martech/sandbox';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { MemoryTokenStore, TokenManager, TokenRefresher, ensureAccessToken } from '../src';
import { expired, hubspotApiURL, hubspotStrategy, login, refreshCount, startProvider } from './helpers/provider';

let sandbox: RunningSandbox;
let manager: TokenManager;

beforeAll(async () => {
  sandbox = await startProvider();
  manager = new TokenManager({
    refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url)),
    store: new MemoryTokenStore(),
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
  });
});
afterAll(() => sandbox.close());
beforeEach(() => sandbox.clearFaults());

function app(options: Partial<Parameters<typeof ensureAccessToken>[2]> = {}) {
  const server = express();
  server.get('/contacts', ensureAccessToken(manager, 'hubspot', { userKey: (req) => req.get('x-user'), ...options }), async (req, res) => {
    const answer = await fetch(hubspotApiURL(sandbox.url), {
      headers: { Authorization: `Bearer ${req.accessTokens?.hubspot}` },
    });
    res.status(answer.status).json(await answer.json());
  });
  server.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: err.message });
  });
  return server;
}

test('puts a fresh token on req.accessTokens (refreshing an expired one)', async () => {
  const tokens = await login(sandbox.url);
  sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
  await manager.save('alice', 'hubspot', expired(tokens));
  const before = refreshCount(sandbox);
  const response = await request(app()).get('/contacts').set('x-user', 'alice').expect(200);
  expect(response.body.results).toHaveLength(2);
  expect(refreshCount(sandbox) - before).toBe(1);
  await request(app()).get('/contacts').set('x-user', 'alice').expect(200);
  expect(refreshCount(sandbox) - before).toBe(1);
});

test('no user, no tokens or a revoked grant: 401 with a link to /auth/<provider>', async () => {
  const noUser = await request(app()).get('/contacts').expect(401);
  expect(noUser.body).toEqual({ error: 'reauthentication_required', provider: 'hubspot', login: '/auth/hubspot' });
  expect(noUser.headers.link).toBe('</auth/hubspot>; rel="login"');

  await request(app()).get('/contacts').set('x-user', 'nobody').expect(401);

  const tokens = await login(sandbox.url);
  await manager.save('bob', 'hubspot', expired(tokens));
  sandbox.revoke({ provider: 'hubspot', refreshToken: tokens.refreshToken });
  const html = await request(app()).get('/contacts').set('x-user', 'bob').set('Accept', 'text/html').expect(401);
  expect(html.headers['content-type']).toMatch(/text\/html/);
  expect(html.text).toContain('<a href="/auth/hubspot">');
  await expect(manager.get('bob', 'hubspot')).resolves.toBeUndefined();
});

test('loginPath and onReauthenticate customise the answer', async () => {
  await request(app({ loginPath: '/connect/hubspot' }))
    .get('/contacts')
    .expect(401)
    .expect('Link', '</connect/hubspot>; rel="login"');
  const redirected = await request(app({ onReauthenticate: (_req, res) => res.redirect('/auth/hubspot') })).get('/contacts').expect(302);
  expect(redirected.headers.location).toBe('/auth/hubspot');
});

test('any other failure goes to the error handler', async () => {
  const tokens = await login(sandbox.url);
  await manager.save('carol', 'hubspot', expired(tokens));
  sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'http503' });
  const response = await request(app()).get('/contacts').set('x-user', 'carol').expect(500);
  expect(response.body.error).toMatch(/HTTP 503/);
  expect(response.body.error).not.toContain(tokens.refreshToken);
});

test('a throwing loginPath or onReauthenticate goes to next(err), never an unhandled rejection (review 3.1)', async () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    // 'nobody' has no tokens: the answer is decided after getAccessToken settles, inside its handlers.
    const badPath = await request(app({ loginPath: () => { throw new Error('loginPath bug'); } }))
      .get('/contacts')
      .set('x-user', 'nobody')
      .timeout(3000)
      .expect(500);
    expect(badPath.body.error).toBe('loginPath bug');
    const badHandler = await request(app({ onReauthenticate: () => { throw new Error('onReauthenticate bug'); } }))
      .get('/contacts')
      .set('x-user', 'nobody')
      .timeout(3000)
      .expect(500);
    expect(badHandler.body.error).toBe('onReauthenticate bug');
    // Without a user the answer is decided synchronously: the same error handler.
    await request(app({ loginPath: () => { throw new Error('loginPath bug'); } })).get('/contacts').timeout(3000).expect(500);
  } finally {
    process.off('unhandledRejection', record);
  }
  expect(unhandled).toEqual([]);
});

test('arguments are checked', () => {
  expect(() => ensureAccessToken(manager, 'hubspot', {} as never)).toThrow(TypeError);
  expect(() => ensureAccessToken(manager, '', { userKey: () => 'x' })).toThrow(TypeError);
});
