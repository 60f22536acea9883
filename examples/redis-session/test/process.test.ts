/**
 * The built entry points as a person runs them: `node dist/demo.js` (what `npm run demo` runs) and
 * `node dist/main.js`. Needs `tsc -b` first (the root `npm test` does it).
 */
import { join } from 'node:path';
import { catalog } from '../src/catalog';
import { envTemplate } from '../src/env-vars';
import { freePort, startRedisServer } from '../src/redis-server';
import { cleanEnv, killChildren, portOpen, requireBuilt, run } from './processes';

beforeAll(requireBuilt);
afterEach(killChildren);

test('demo: sandbox + app + private redis-server; consent page shown; SIGTERM stops everything', async () => {
  const demo = run('demo.js', cleanEnv({ PORT: String(await freePort()) }));
  const [, url] = await demo.waitFor(/Open:\s+(http:\/\/\S+)/);
  const [, redisPort] = await demo.waitFor(/private redis-server on 127\.0\.0\.1:(\d+)/);
  const [, sandboxUrl] = await demo.waitFor(/Sandbox:\s+(http:\/\/\S+)/);

  const home = await fetch(url);
  expect(home.status).toBe(200);
  const text = await home.text();
  for (const { name } of catalog) expect(text).toContain(`Sign in with ${name}`);
  expect(((await (await fetch(`${url}/healthz`)).json()) as { redis: string }).redis).toBe('up');
  const start = await fetch(`${url}/auth/marketo`, { redirect: 'manual' });
  expect(start.status).toBe(302);
  const location = start.headers.get('location') as string;
  expect(location.startsWith(`${sandboxUrl}/marketo/`)).toBe(true);
  const consentPage = await fetch(location, { redirect: 'manual' });
  expect(consentPage.status).toBe(200); // not auto-approved: a person sees the consent page
  expect(await consentPage.text()).toContain('Approve');

  demo.process.kill('SIGTERM');
  expect(await demo.exited).toEqual({ code: 0, signal: null });
  expect(await portOpen(Number(redisPort))).toBe(false);
  expect(await portOpen(Number(new URL(url).port))).toBe(false);
  expect(await portOpen(Number(new URL(sandboxUrl).port))).toBe(false);
});

test('demo without Redis: in-memory stores with a loud warning', async () => {
  const demo = run('demo.js', cleanEnv({ PORT: '0', PATH: '/nonexistent' }));
  const [, url] = await demo.waitFor(/Open:\s+(http:\/\/\S+)/);
  expect(demo.output()).toMatch(/WARNING: no Redis/);
  expect(demo.output()).toMatch(/IN-MEMORY/);
  expect(((await (await fetch(`${url}/healthz`)).json()) as { redis: string }).redis).toBe('memory');
  demo.process.kill('SIGINT');
  expect((await demo.exited).code).toBe(0);
});

test('main: a wrong configuration exits 1 listing each problem', async () => {
  const main = run('main.js', cleanEnv({ PORT: 'x', REDIS_URL: 'http://nope', HUBSPOT_CLIENT_ID: 'id' }));
  const { code } = await main.exited;
  expect(code).toBe(1);
  const out = main.output();
  expect(out).toContain('PORT must be an integer');
  expect(out).toContain('SESSION_SECRET is required');
  expect(out).toContain('REDIS_URL must start with redis://');
  expect(out).toContain('HUBSPOT_CLIENT_SECRET is required');
  expect(out).not.toMatch(/\n\s+at /); // no stack trace
});

test('main --print-env: prints the .env template (every variable) and exits 0 without configuration', async () => {
  const main = run('main.js', cleanEnv({}), [join(__dirname, '..', 'dist', 'main.js'), '--print-env']);
  expect(await main.exited).toEqual({ code: 0, signal: null });
  expect(main.output()).toBe(envTemplate());
});

test('main: serves, then shuts down cleanly on SIGTERM', async () => {
  const redis = await startRedisServer();
  try {
    const port = await freePort();
    const main = run('main.js', cleanEnv({ PORT: String(port), REDIS_URL: redis.url, SESSION_SECRET: 's'.repeat(32), LOG_LEVEL: 'info' }));
    await main.waitFor(/"msg":"listening"/);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    main.process.kill('SIGTERM');
    expect(await main.exited).toEqual({ code: 0, signal: null });
    expect(main.output()).toContain('shutting down');
  } finally {
    await redis.stop();
  }
});
