/** The CLI as a user runs it: a child process that prints its URLs and stops cleanly on SIGTERM/SIGINT. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { allSandboxFacts, sandboxProviders } from '../src';

const CLI = path.resolve(__dirname, '../bin/passport-martech-sandbox.js');

/** Starts the CLI and resolves with its stdout once the last provider line is printed. */
function start(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args]);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`CLI printed only: ${out}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C')) {
        clearTimeout(timer);
        resolve({ child, out });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited early (${code}): ${out}`));
    });
  });
}

const exited = (child: ChildProcessWithoutNullStreams) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

test.each(['SIGTERM', 'SIGINT'] as const)('prints one URL per provider and the default clients, serves, exits 0 on %s', async (signal) => {
  const { child, out } = await start(['--port', '0', '--auto-approve']);
  const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  expect(base).toBeDefined();
  expect(sandboxProviders().length).toBeGreaterThanOrEqual(5);
  for (const id of sandboxProviders()) {
    expect(out).toMatch(new RegExp(`^${id} +${base}/${id}$`, 'm'));
    expect(out).toMatch(new RegExp(`^${id} +demo-${id}-client / demo-${id}-secret$`, 'm'));
  }
  // It serves, with --auto-approve honoured.
  const res = await request(base as string).get('/boomtown/oauth/authorize').query({
    client_id: 'demo-boomtown-client', redirect_uri: 'http://localhost:3000/cb', response_type: 'code', scope: 'offline_access',
  });
  expect(res.status).toBe(302);
  const done = exited(child);
  child.kill(signal);
  expect(await done).toEqual({ code: 0, signal: null });
});

test('a bad --port is a usage error (exit 2)', async () => {
  const child = spawn(process.execPath, [CLI, '--port', 'abc']);
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  expect((await exited(child)).code).toBe(2);
  expect(err).toMatch(/--port/);
});

test('--endpoints prints the reference of every registered dialect, from its table, and exits 0', async () => {
  const child = spawn(process.execPath, [CLI, '--endpoints']);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  expect((await exited(child)).code).toBe(0);
  for (const facts of allSandboxFacts()) {
    for (const variant of facts.variants) {
      const flow = variant.flow === 'main' ? '' : ` (${variant.flow.toUpperCase()})`;
      expect(out).toMatch(new RegExp(`^\\| ${facts.id} \\| authorize${flow.replace(/[()]/g, '\\$&')} \\| GET \`${variant.authorizePath}\``, 'm'));
      expect(out).toContain(`${variant.tokenEncoding} body`);
    }
    expect(out).toContain(`| ${facts.id} | api | GET \`${facts.apiPath}\``);
    expect(out).toContain(`\`${facts.defaultUser.email}\``);
  }
  // Token values are never printed, only field names.
  expect(out).not.toMatch(/"access_token"\s*:/);
});
