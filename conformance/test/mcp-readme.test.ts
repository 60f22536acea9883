/**
 * The Ontraport README's `mcp-connect.js`, pasted as a user would: it registers a client with the sandbox
 * (discovery, RFC 7591), links an MCP connection for the signed-in user (connection-only), and shows it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSandbox, type RunningSandbox } from '@passport-martech/sandbox';

const ROOT = resolve(__dirname, '../..');

function freePort(): Promise<number> {
  return new Promise((found) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => found(port));
    });
  });
}

const cookieOf = (response: Response) => (response.headers.get('set-cookie') ?? '').split(';')[0] as string;

describe('Ontraport README: mcp-connect.js', () => {
  let sandbox: RunningSandbox;
  let child: ChildProcess | undefined;
  let dir: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true });
    dir = mkdtempSync(join(tmpdir(), 'readme-mcp-'));
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('links an MCP connection with a registered client, and the iss of the callback is checked', async () => {
    const readme = readFileSync(join(ROOT, 'packages/ontraport/README.md'), 'utf8');
    const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string).find((b) => b.startsWith('// mcp-connect.js'));
    expect(block).toBeDefined();
    const port = await freePort();
    const file = join(dir, 'mcp-connect.js');
    writeFileSync(
      file,
      (block as string)
        .replaceAll('http://127.0.0.1:4000', sandbox.url)
        .replaceAll('localhost:3000', `127.0.0.1:${port}`)
        .replace('app.listen(3000', `app.listen(${port}, '127.0.0.1'`),
    );
    child = spawn(process.execPath, [file], { env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    await new Promise<void>((ready, fail) => {
      child?.stdout?.on('data', (chunk) => String(chunk).includes('http://') && ready());
      child?.on('exit', (code) => fail(new Error(`mcp-connect.js exited (${code}): ${stderr}`)));
    });
    const app = `http://127.0.0.1:${port}`;
    const begin = await fetch(`${app}/connect/ontraport`, { redirect: 'manual' });
    expect(begin.status).toBe(302);
    const authorize = new URL(begin.headers.get('location') as string);
    expect(authorize.searchParams.get('client_id')).toMatch(/^mcp-client-/);
    const cookie = cookieOf(begin);
    const approved = await fetch(authorize, { redirect: 'manual' });
    const back = new URL(approved.headers.get('location') as string);
    expect(back.searchParams.get('iss')).toBe(`${sandbox.url}/ontraport`);
    const callback = await fetch(`${app}${back.pathname}${back.search}`, { headers: { cookie }, redirect: 'manual' });
    expect([callback.status, callback.headers.get('location'), stderr]).toEqual([302, '/', '']);
    const home = await fetch(`${app}/`, { headers: { cookie: cookieOf(callback) || cookie } });
    expect(await home.json()).toEqual({ user: 'user-1', ontraport: { connected: true, scope: ['mcp:tools'] } });
    expect(sandbox.state.mcp.registrations()).toEqual({ ontraport: 1 });
  });
});
