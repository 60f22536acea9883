/**
 * The built entry points as a person runs them: `node dist/demo.js` (what `npm run demo` runs) and
 * `node dist/main.js`. Needs `tsc -b` first (the root `npm test` does it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { freePort, startRedisServer } from '../src/redis-server';

const DIST = join(__dirname, '..', 'dist');

beforeAll(() => {
  if (!existsSync(join(DIST, 'demo.js')) || !existsSync(join(DIST, 'main.js'))) {
    throw new Error('examples/redis-session/dist is missing: run `npx tsc -b examples/redis-session` (or `npm run build`) first');
  }
});

interface Child {
  process: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function run(script: string, env: Record<string, string | undefined>): Child {
  const child = spawn(process.execPath, [join(DIST, script)], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    process: child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            done();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern} in:\n${output}`));
        }, timeoutMs);
        const onExit = () => {
          done();
          reject(new Error(`process exited before ${pattern}:\n${output}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** The environment without anything that would change the demo's choices. */
function cleanEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, ...extra };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test('demo: sandbox + app + private redis-server; consent page shown; SIGTERM stops everything', async () => {
  const demo = run('demo.js', cleanEnv({ PORT: String(await freePort()) }));
  const [, url] = await demo.waitFor(/Open:\s+(http:\/\/\S+)/);
  const [, redisPort] = await demo.waitFor(/private redis-server on 127\.0\.0\.1:(\d+)/);
  const [, sandboxUrl] = await demo.waitFor(/Sandbox:\s+(http:\/\/\S+)/);

  const home = await fetch(url);
  expect(home.status).toBe(200);
  const text = await home.text();
  for (const name of ['HubSpot', 'Marketo', 'Ontraport', 'Customer.io', 'BoomTown']) expect(text).toContain(`Sign in with ${name}`);
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
