/**
 * Each provider README's Express app, pasted as a user would, with its "Try it against the sandbox"
 * `passport.use(...)` swapped in: it must start and complete a real login against the sandbox.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type ProviderId } from '@passport-martech/sandbox';
import { catalog } from '@passport-martech/example-redis-session/catalog';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
const ROOT = resolve(__dirname, '../..');
/** Every catalog provider's package README (packages/<id>). */
const PROVIDERS = catalog.map((entry) => entry.id);

function jsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/** The README's app.js with the sandbox's passport.use(...) in place of the real one. */
function pastedApp(id: string, sandboxURL: string, port: number): string {
  const readme = readFileSync(join(ROOT, 'packages', id, 'README.md'), 'utf8');
  const app = jsBlocks(readme).find((block) => block.startsWith('// app.js'));
  const section = readme.slice(readme.indexOf('## Try it against the sandbox'));
  const sandboxUse = jsBlocks(section.slice(0, section.indexOf('\n## ', 5)))[0];
  if (!app || !sandboxUse) throw new Error(`${id} README: no app.js or sandbox snippet`);
  const start = app.indexOf('passport.use(');
  const end = app.indexOf('\n);\n', start) + '\n);\n'.length;
  return (app.slice(0, start) + sandboxUse + app.slice(end))
    .replaceAll('http://127.0.0.1:4000', sandboxURL)
    .replaceAll('localhost:3000', `127.0.0.1:${port}`)
    .replace('app.listen(3000', `app.listen(${port}, '127.0.0.1'`);
}

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

function cookieOf(response: Response): string {
  return (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

describe.each(PROVIDERS)('%s README snippet', (id) => {
  let sandbox: Sandbox;
  let child: ChildProcess | undefined;
  let dir: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true });
    dir = mkdtempSync(join(tmpdir(), `readme-${id}-`));
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts and completes a login against the sandbox', async () => {
    const port = await freePort();
    const file = join(dir, 'app.js');
    writeFileSync(file, pastedApp(id, sandbox.url, port));
    child = spawn(process.execPath, [file], {
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), SESSION_SECRET: 'readme-snippet-secret' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    await new Promise<void>((ready, fail) => {
      child?.stdout?.on('data', (chunk) => String(chunk).includes('http://') && ready());
      child?.on('exit', (code) => fail(new Error(`app.js exited (${code}): ${stderr}`)));
    });
    const app = `http://127.0.0.1:${port}`;
    const begin = await fetch(`${app}/auth/${id}`, { redirect: 'manual' });
    expect(begin.status).toBe(302);
    const cookie = cookieOf(begin);
    const approved = await fetch(begin.headers.get('location') as string, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location') as string);
    expect(back.searchParams.get('code')).toBeTruthy();
    const callback = await fetch(`${app}${back.pathname}${back.search}`, { headers: { cookie }, redirect: 'manual' });
    expect([callback.status, callback.headers.get('location'), stderr]).toEqual([302, '/', '']);
    const home = await fetch(`${app}/`, { headers: { cookie: cookieOf(callback) || cookie } });
    expect(((await home.json()) as { user: unknown }).user).toMatchObject({ id: expect.any(String) });
    expect(sandbox.stats()[id as ProviderId]).toMatchObject({ token: 1 });
  });
});
