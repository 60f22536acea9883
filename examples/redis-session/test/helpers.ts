/** Test helpers: a private redis-server, the sandbox, app instances, and a login that clicks through. */
import { Redis } from 'ioredis';
import request from 'supertest';
import { sandboxFacts, startSandbox, type RunningSandbox, type SandboxOptions } from '@passport-martech/sandbox';
import { createApp, type AppHandle } from '../src/app';
import type { ProviderId } from '../src/catalog';
import { loadConfig, type AppConfig } from '../src/config';
import { createLogger } from '../src/logging';
import { startRedisServer, type PrivateRedis } from '../src/redis-server';

export { startRedisServer, type PrivateRedis };

export type Agent = ReturnType<typeof request.agent>;

export const SECRET = 'test-session-secret-0123456789-abcdefghij';
export const BASE_URL = 'http://localhost:3999';

/** The email of the sandbox's default user of a provider. */
export function demoEmail(provider: ProviderId): string {
  return sandboxFacts(provider).defaultUser.email;
}

export async function sandboxFor(options: SandboxOptions = {}): Promise<RunningSandbox> {
  return startSandbox({ port: 0, host: '127.0.0.1', ...options });
}

/**
 * Config as the demo builds it (SANDBOX_URL = demo mode), plus any env overrides. The /auth/* rate limit
 * is off (the suites sign in many times a minute from 127.0.0.1); rate-limit tests set it, or pass
 * `AUTH_RATE_LIMIT: undefined` for the default.
 */
export function testConfig(sandbox: RunningSandbox | undefined, redisUrl: string, env: Record<string, string | undefined> = {}): AppConfig {
  return loadConfig({
    ...(sandbox ? { SANDBOX_URL: sandbox.url } : {}),
    REDIS_URL: redisUrl,
    SESSION_SECRET: SECRET,
    BASE_URL,
    LOG_LEVEL: 'silent',
    AUTH_RATE_LIMIT: '0',
    ...env,
  });
}

export interface TestApp extends AppHandle {
  /** Every log line written, parsed. */
  logs: string[];
}

export async function appFor(config: AppConfig, options: { logLevel?: 'info' | 'debug' | 'silent' } = {}): Promise<TestApp> {
  const logs: string[] = [];
  const logger = createLogger(options.logLevel ?? 'info', { write: (line: string) => void logs.push(line) });
  const handle = createApp(config, { logger });
  await handle.ready(5000);
  return Object.assign(handle, { logs });
}

/** The `_csrf` value in a page. */
export function csrfFrom(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token in the page');
  return match[1];
}

export interface LoginResult {
  /** The app's answer to the callback. */
  callback: request.Response;
  /** The `sid` cookie value (signed, URL-encoded) set at login. */
  cookie: string;
  /** The session id (the Redis key is `sess:<sid>`). */
  sid: string;
}

/** Answers the sandbox's consent page (or follows its auto-approve redirect); resolves the callback URL. */
export async function consent(authorizeURL: string, decision: 'approve' | 'deny' = 'approve'): Promise<URL> {
  const page = await fetch(authorizeURL, { redirect: 'manual' });
  if (page.status === 302) return new URL(page.headers.get('location') as string);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`sandbox authorize answered ${page.status}: ${html.slice(0, 300)}`);
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const transaction = /name="transaction_id" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !transaction) throw new Error('no consent form on the sandbox page');
  const answer = await fetch(new URL(action.replace(/&amp;/g, '&'), authorizeURL), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ transaction_id: transaction, decision }).toString(),
    redirect: 'manual',
  });
  if (answer.status !== 302) throw new Error(`sandbox decision answered ${answer.status}`);
  return new URL(answer.headers.get('location') as string);
}

/** Starts a login at the app, approves at the sandbox, and delivers the callback to the app. */
export async function login(agent: Agent, provider: ProviderId, options: { returnTo?: string; decision?: 'approve' | 'deny' } = {}): Promise<LoginResult> {
  const query = options.returnTo === undefined ? '' : `?returnTo=${encodeURIComponent(options.returnTo)}`;
  const start = await agent.get(`/auth/${provider}${query}`);
  return finishLogin(agent, provider, start, options.decision);
}

/** Signed in: presses "Link <provider>" (POST /link/:provider with the CSRF token), approves, delivers the callback. */
export async function link(agent: Agent, provider: ProviderId, options: { decision?: 'approve' | 'deny' } = {}): Promise<LoginResult> {
  const page = await agent.get('/account');
  if (page.status !== 200) throw new Error(`/account answered ${page.status}`);
  const intent = await agent.post(`/link/${provider}`).type('form').send({ _csrf: csrfFrom(page.text) });
  if (intent.status !== 303) throw new Error(`/link/${provider} answered ${intent.status}: ${intent.text.slice(0, 300)}`);
  const start = await agent.get(intent.headers.location);
  return finishLogin(agent, provider, start, options.decision);
}

async function finishLogin(agent: Agent, provider: ProviderId, start: request.Response, decision?: 'approve' | 'deny'): Promise<LoginResult> {
  if (start.status !== 302) throw new Error(`/auth/${provider} answered ${start.status}: ${start.text.slice(0, 300)}`);
  const callbackURL = await consent(start.headers.location, decision);
  const callback = await agent.get(`${callbackURL.pathname}${callbackURL.search}`);
  const setCookie = ([] as string[]).concat(callback.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((c) => /^sid=([^;]*)/.exec(c)?.[1]).find((v) => v !== undefined && v !== '') ?? '';
  const decoded = decodeURIComponent(cookie);
  const sid = decoded.startsWith('s:') ? decoded.slice(2, decoded.lastIndexOf('.')) : '';
  return { callback, cookie, sid };
}

/** A plain ioredis client for looking into Redis from a test. */
export function inspector(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

export async function sandboxPost(sandbox: RunningSandbox, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`sandbox ${path} answered ${response.status}`);
  return response.json();
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Stack {
  redis: PrivateRedis;
  sandbox: RunningSandbox;
  app: TestApp;
  /** A plain client for looking into Redis. */
  peek: Redis;
}

/**
 * Registers hooks for a suite: a private redis-server, the sandbox and one app on them (started once),
 * Redis emptied, sandbox reset and logs cleared before each test, everything stopped at the end. Read the
 * returned object's fields inside tests (they are set in beforeAll).
 */
export function useStack(options: { sandbox?: SandboxOptions; env?: Record<string, string | undefined>; logLevel?: 'info' | 'silent' } = {}): Stack {
  const stack = {} as Stack;
  beforeAll(async () => {
    stack.redis = await startRedisServer();
    stack.sandbox = await sandboxFor(options.sandbox ?? { autoApprove: true });
    stack.app = await appFor(testConfig(stack.sandbox, stack.redis.url, options.env), { logLevel: options.logLevel });
    stack.peek = inspector(stack.redis.url);
  });
  afterAll(async () => {
    stack.peek?.disconnect();
    await stack.app?.close();
    await stack.sandbox?.close();
    await stack.redis?.stop();
  });
  beforeEach(async () => {
    await stack.peek.flushall();
    stack.sandbox.reset();
    stack.app.logs.length = 0;
  });
  return stack;
}
