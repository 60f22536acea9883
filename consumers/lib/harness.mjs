/* global process, setTimeout, clearTimeout, fetch, URL */
// Shared by every consumer app (copied next to its test): free ports, child processes that print a
// "ready" line, the sandbox run through npx from its installed tarball, a private redis-server, and a
// complete browser-like login (redirect, consent, callback, signed-in page) with a cookie jar of one.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export function freePort() {
  return new Promise((resolvePort, fail) => {
    const server = createServer().once('error', fail).listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Spawns `command` in its own process group; resolves with the first match of `ready` on stdout. */
export function start(command, args, { ready, env = {}, timeoutMs = 30_000 } = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', stop);
  return new Promise((resolveStart, fail) => {
    const timer = setTimeout(() => fail(new Error(`${command} ${args.join(' ')}: not ready in ${timeoutMs} ms\n${out}`)), timeoutMs);
    const onData = (chunk) => {
      out += chunk;
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolveStart({ match, stop, output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${command} ${args.join(' ')} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** The sandbox as its README says to run it: `npx @passport-martech/sandbox`, from the installed tarball. */
export async function startSandbox() {
  const { match, stop } = await start('npx', ['--no-install', '@passport-martech/sandbox', '--port', '0', '--auto-approve'], {
    ready: /listening on (http:\/\/\S+)/,
  });
  return { url: match[1], stop };
}

export async function startRedis() {
  const port = await freePort();
  const { stop } = await start('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    ready: /Ready to accept connections/,
  });
  return { url: `redis://127.0.0.1:${port}`, port, stop };
}

/** Starts `node <file>` with PORT and SANDBOX_URL; resolves once it prints its URL. */
export async function startApp(file, env) {
  const port = await freePort();
  const { stop, output } = await start(process.execPath, [file], { ready: /listening/, env: { ...env, PORT: String(port) } });
  return { url: `http://127.0.0.1:${port}`, stop, output };
}

function cookieOf(response) {
  return (response.headers.get('set-cookie') ?? '').split(';')[0];
}

function expectStatus(response, status, step) {
  if (response.status !== status) throw new Error(`${step}: expected ${status}, got ${response.status}`);
}

/** A complete login at `app` with provider `id`; resolves with what `/me` answers afterwards. */
export async function login(app, id) {
  const begin = await fetch(`${app}/auth/${id}`, { redirect: 'manual' });
  expectStatus(begin, 302, `${id}: /auth/${id}`);
  const cookie = cookieOf(begin);
  const approved = await fetch(begin.headers.get('location'), { redirect: 'manual' });
  expectStatus(approved, 302, `${id}: sandbox authorize`);
  const back = new URL(approved.headers.get('location'));
  if (!back.searchParams.get('code')) throw new Error(`${id}: the sandbox sent no code (${back.search})`);
  const callback = await fetch(`${app}${back.pathname}${back.search}`, { headers: { cookie }, redirect: 'manual' });
  expectStatus(callback, 302, `${id}: callback`);
  if (callback.headers.get('location') !== '/') throw new Error(`${id}: callback went to ${callback.headers.get('location')}`);
  const session = cookieOf(callback) || cookie;
  const me = await fetch(`${app}/me`, { headers: { cookie: session } });
  expectStatus(me, 200, `${id}: /me`);
  return { ...(await me.json()), cookie: session };
}
