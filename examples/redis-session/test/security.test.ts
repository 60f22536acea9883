/**
 * Security fixes, against a real redis-server and the sandbox: no Redis command arguments in the logs,
 * linking only through the CSRF-checked Link button, replacing an identity without losing the old one on
 * a conflict, no credentials in config errors, and the start-up warning about unencrypted tokens.
 */
import type { Redis } from 'ioredis';
import request from 'supertest';
import type { RunningSandbox } from '@passport-martech/sandbox';
import type { LinkedIdentity } from '../src/accounts';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { appFor, csrfFrom, inspector, link, login, sandboxFor, SECRET, startRedisServer, testConfig, type PrivateRedis, type TestApp } from './helpers';

let redis: PrivateRedis;
let sandbox: RunningSandbox;
let app: TestApp;
let peek: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  sandbox = await sandboxFor({ autoApprove: true });
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
  await peek.config('SET', 'maxmemory', '0');
  await peek.flushall();
  sandbox.reset();
  app.logs.length = 0;
});

async function accountId(agent: ReturnType<typeof request.agent>): Promise<string> {
  const page = await agent.get('/account');
  const id = /<dt>Account id<\/dt><dd>([^<]+)<\/dd>/.exec(page.text)?.[1];
  if (!id) throw new Error('no account id on the account page');
  return id;
}

describe('2.1: Redis reply errors never put command arguments (sessions, verifiers, tokens) in the logs', () => {
  afterEach(async () => {
    await peek.config('SET', 'maxmemory', '0');
  });

  test('OOM on a session write: 503 page, and the log has no session contents', async () => {
    const agent = request.agent(app.app);
    const { sid } = await login(agent, 'hubspot');
    const csrf = csrfFrom((await agent.get('/account')).text);
    expect((await agent.post('/link/marketo').type('form').send({ _csrf: csrf })).status).toBe(303);
    app.logs.length = 0;

    await peek.config('SET', 'maxmemory-policy', 'noeviction');
    await peek.config('SET', 'maxmemory', '1');
    // Starting the login writes the pending state (with the PKCE verifier) into the session: OOM.
    const linking = await agent.get('/auth/marketo?returnTo=%2Faccount');
    // A new visitor's login start writes a new session: OOM as well.
    const anonymous = await request(app.app).get('/auth/hubspot');
    await peek.config('SET', 'maxmemory', '0');

    for (const res of [linking, anonymous]) {
      expect(res.status).toBe(503);
      expect(res.text).toContain('Temporarily unavailable');
    }
    const log = app.logs.join('\n');
    expect(log).toMatch(/OOM/); // the failure itself is logged...
    // ... but nothing of what was being written.
    for (const secret of [sid, 'sess:', 'verifier', 'oauth2:', 'demo+hubspot@example.com', 'linkIntent', '"args"', '"command"', csrf]) {
      expect(log).not.toContain(secret);
    }
  });

  test('an error object logged by the app keeps only name, code, message and status', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
    const err = Object.assign(new Error('OOM command not allowed'), {
      name: 'ReplyError',
      code: 'OOM',
      status: 500,
      command: { name: 'set', args: ['sess:abc', '{"verifier":"secret-verifier","access_token":"secret-token"}'] },
      response: { body: 'secret-body' },
    });
    logger.error({ err }, 'failed');
    const line = JSON.parse(lines[0]) as { err: unknown };
    expect(line.err).toEqual({ name: 'ReplyError', code: 'OOM', message: 'OOM command not allowed', status: 500 });
    expect(lines[0]).not.toContain('secret');
  });
});

describe('2.2: linking needs the Link button (a CSRF-checked POST)', () => {
  test('a cross-site style GET /auth/:provider while signed in does not link', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'hubspot');
    const id = await accountId(agent);
    const res = await agent.get('/auth/marketo').set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(403);
    expect(res.text).toContain('Use the Link button');
    expect(sandbox.stats().marketo.token).toBe(0);
    const account = await app.accounts.get(id);
    expect(Object.keys(account?.identities ?? {})).toEqual(['hubspot']);
    expect(await peek.keys('app:{accounts}:identity:marketo:*')).toHaveLength(0);
  });

  test('POST /link/:provider without or with a wrong CSRF token is refused, and records no intent', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'hubspot');
    expect((await agent.post('/link/marketo').type('form').send({})).status).toBe(403);
    expect((await agent.post('/link/marketo').type('form').send({ _csrf: 'forged' })).status).toBe(403);
    expect((await agent.get('/auth/marketo')).status).toBe(403);
    // Signed out: nothing to link to.
    expect((await request(app.app).post('/link/marketo').type('form').send({ _csrf: 'x' })).status).toBe(303);
  });

  test('the Link button links; the intent is for that provider only and is used up', async () => {
    const agent = request.agent(app.app);
    await login(agent, 'hubspot');
    const id = await accountId(agent);
    const page = await agent.get('/account');
    expect(page.text).toContain('action="/link/marketo"');
    expect(page.text).not.toContain('href="/auth/marketo"');

    // An intent for Marketo does not let BoomTown link.
    expect((await agent.post('/link/marketo').type('form').send({ _csrf: csrfFrom(page.text) })).status).toBe(303);
    expect((await agent.get('/auth/boomtown')).status).toBe(403);

    const { callback } = await link(agent, 'marketo');
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/account');
    expect(await accountId(agent)).toBe(id);
    expect(Object.keys((await app.accounts.get(id))?.identities ?? {}).sort()).toEqual(['hubspot', 'marketo']);
    // Used up: a later GET cannot link again without the button.
    expect((await agent.get('/auth/boomtown')).status).toBe(403);
  });
});

describe('3.3: replacing a linked identity', () => {
  const oldIdentity: LinkedIdentity = { provider: 'hubspot', id: 'old-hubspot-user', emails: [], details: {}, raw: '{}', linkedAt: 1 };

  test('a conflict (the new identity belongs to another account) keeps the old identity linked', async () => {
    const a = request.agent(app.app);
    await login(a, 'marketo');
    const idA = await accountId(a);
    await app.accounts.link(idA, oldIdentity);

    const b = request.agent(app.app);
    await login(b, 'hubspot'); // the sandbox's HubSpot user
    await link(b, 'boomtown'); // account B: hubspot + boomtown

    const { callback } = await link(a, 'hubspot');
    expect(callback.status).toBe(409);
    expect((await app.accounts.get(idA))?.identities.hubspot?.id).toBe('old-hubspot-user');
    expect(await app.accounts.findByIdentity('hubspot', 'old-hubspot-user')).toBe(idA);
  });

  test('without a conflict the new identity replaces the old one', async () => {
    const a = request.agent(app.app);
    await login(a, 'marketo');
    const idA = await accountId(a);
    await app.accounts.link(idA, oldIdentity);
    const { callback } = await link(a, 'hubspot');
    expect(callback.status).toBe(303);
    expect((await app.accounts.get(idA))?.identities.hubspot?.id).not.toBe('old-hubspot-user');
    expect(await app.accounts.findByIdentity('hubspot', 'old-hubspot-user')).toBeUndefined();
  });
});

describe('2.4: config errors never show credentials inside URLs', () => {
  function message(env: Record<string, string>): string {
    try {
      loadConfig({ SESSION_SECRET: SECRET, ...env });
    } catch (err) {
      if (err instanceof ConfigError) return `${err.message}\n${err.problems.join('\n')}`;
      throw err;
    }
    throw new Error('expected a ConfigError');
  }

  test.each([
    ['REDIS_URL', 'http//:hunter2@redis:6379'],
    ['REDIS_URL', 'http://:hunter2@redis:6379'],
    ['REDIS_URL', 'redis//user:hun/ter2@redis:6379'],
    ['BASE_URL', 'https://admin:hunter2@app.example.com/path'],
    ['BASE_URL', 'ftp://admin:hunter2@app.example.com'],
  ])('%s=%s', (name, value) => {
    const text = message({ [name]: value });
    expect(text).toContain(name);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('ter2');
    expect(text).toContain('***@');
  });
});

describe('2.5: warning at start when tokens in Redis are not encrypted', () => {
  const warnings = (logs: string[]) => logs.filter((l) => l.includes('TOKEN_ENCRYPTION_KEY'));

  test('Redis without TOKEN_ENCRYPTION_KEY: one warning', async () => {
    const plain = await appFor(testConfig(undefined, redis.url));
    try {
      const found = warnings(plain.logs);
      expect(found).toHaveLength(1);
      expect(JSON.parse(found[0]) as { level: number }).toMatchObject({ level: 40 });
      expect(found[0]).toContain('unencrypted');
    } finally {
      await plain.close();
    }
  });

  test('with a key (or in demo mode): no warning', async () => {
    const keyed = await appFor(testConfig(undefined, redis.url, { TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) }));
    try {
      expect(warnings(keyed.logs)).toHaveLength(0);
      expect(warnings(app.logs)).toHaveLength(0);
    } finally {
      await keyed.close();
    }
  });
});
