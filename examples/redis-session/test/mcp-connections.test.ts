/**
 * The example links an Ontraport MCP connection for a signed-in account (issue 16): discovery, a client
 * registered once and shared through Redis by two app instances, the `iss` check, connection-only.
 */
import request from 'supertest';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { appFor, consent, csrfFrom, inspector, login, sandboxFor, sandboxPost, startRedisServer, testConfig, type Agent, type PrivateRedis, type TestApp } from './helpers';

let redis: PrivateRedis;
let sandbox: RunningSandbox;
let a: TestApp;
let b: TestApp;

beforeAll(async () => {
  redis = await startRedisServer();
  sandbox = await sandboxFor({ autoApprove: true });
  a = await appFor(testConfig(sandbox, redis.url), { logLevel: 'silent' });
  b = await appFor(testConfig(sandbox, redis.url), { logLevel: 'silent' });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await sandbox?.close();
  await redis?.stop();
});
// A sandbox reset forgets registered clients: the app's Redis (where it keeps its client) starts empty too.
beforeEach(async () => {
  sandbox.reset();
  const peek = inspector(redis.url);
  await peek.flushall();
  peek.disconnect();
});

/** Presses "Connect Ontraport MCP" on /connections and delivers the sandbox's answer; returns the callback response. */
async function connect(agent: Agent, rewrite?: (callback: URL) => void): Promise<request.Response> {
  const page = await agent.get('/connections');
  expect(page.status).toBe(200);
  const start = await agent.post('/connections/ontraport').type('form').send({ _csrf: csrfFrom(page.text) });
  expect(start.status).toBe(302);
  const authorize = new URL(start.headers.location);
  expect(authorize.searchParams.get('client_id')).toMatch(/^mcp-client-/);
  const callback = await consent(authorize.toString());
  rewrite?.(callback);
  return agent.get(`${callback.pathname}${callback.search}`);
}

test('a signed-in account connects Ontraport MCP; a second instance reuses the registered client', async () => {
  const onA = request.agent(a.app);
  await login(onA, 'hubspot');
  const account = await onA.get('/account');
  expect(account.text).toContain('href="/connections"');
  const done = await connect(onA);
  expect([done.status, done.headers.location]).toEqual([303, '/connections']);
  const page = await onA.get('/connections');
  expect(page.text).toContain('Connected. Scope: <code>mcp:tools</code>');
  // Still signed in as the same account: connection-only did not sign anyone else in.
  expect((await onA.get('/account')).text).toContain('demo+hubspot@example.com');

  const onB = request.agent(b.app);
  await login(onB, 'marketo');
  expect((await connect(onB)).status).toBe(303);
  expect(sandbox.state.mcp.registrations()).toEqual({ ontraport: 1 });
  const peek = inspector(redis.url);
  try {
    expect(await peek.keys('app:passport-martech:mcp-client:*')).toHaveLength(1);
  } finally {
    peek.disconnect();
  }
});

test('a callback naming another authorization server (iss) connects nothing and never reaches the token endpoint', async () => {
  const agent = request.agent(a.app);
  await login(agent, 'hubspot');
  await sandboxPost(sandbox, '/_sandbox/mcp', { iss: 'wrong' });
  const refused = await connect(agent);
  expect(refused.status).toBe(403);
  expect(refused.text).toContain('Not connected');
  expect(sandbox.stats().ontraport.token).toBe(0);
  expect((await agent.get('/connections')).text).toContain('Not connected.');
});

test('/connections needs a signed-in account, and the Connect form its CSRF token', async () => {
  expect((await request(a.app).get('/connections')).status).toBe(303);
  const agent = request.agent(a.app);
  await login(agent, 'hubspot');
  expect((await agent.post('/connections/ontraport').type('form').send({ _csrf: 'forged' })).status).toBe(403);
});
