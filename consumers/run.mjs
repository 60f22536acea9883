#!/usr/bin/env node
/* global process, console */
// The consumer matrix: packs every package, installs the tarballs into fresh apps outside the
// workspace (one shared npm cache, installs in parallel) and runs each app's test. `node consumers/run.mjs
// [app ...]` runs only the named apps. Exits non-zero when any app fails.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APPS } from './apps.mjs';
import { writeNestSnippet, writeSnippets } from './snippets.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const PACKAGES = readdirSync(join(ROOT, 'packages'));
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

function run(command, args, cwd, env = {}) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('close', (code) => done({ code, out }));
  });
}

/** Runs `task` over `items`, `limit` at a time. */
async function pool(items, limit, task) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const only = process.argv.slice(2);
const apps = only.length ? APPS.filter((a) => only.includes(a.name)) : APPS;
if (only.length && apps.length !== only.length) throw new Error(`unknown app in ${only.join(', ')}; known: ${APPS.map((a) => a.name).join(', ')}`);

const work = mkdtempSync(join(tmpdir(), 'passport-martech-consumers-'));
const keep = process.env.KEEP_CONSUMERS === '1';
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
console.log(`consumer matrix in ${work}`);
execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', tarballs, ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`])], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }),
);
const specs = Object.fromEntries(packed.map((p) => [p.name, `file:${join(tarballs, p.filename)}`]));
console.log(`packed ${packed.length} packages (${elapsed()})`);

function prepare(app) {
  const dir = join(work, 'apps', app.name);
  cpSync(join(HERE, 'apps', app.from ?? app.name), dir, { recursive: true });
  cpSync(join(HERE, 'lib'), dir, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const field of ['dependencies', 'devDependencies']) {
    const deps = { ...manifest[field], ...(field === 'dependencies' ? app.dependencies : {}) };
    for (const name of Object.keys(deps)) if (specs[name]) deps[name] = specs[name];
    if (manifest[field] || field === 'dependencies') manifest[field] = deps;
  }
  manifest.overrides = { ...specs };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (app.snippets) writeSnippets(ROOT, join(dir, 'snippets'), app.snippets);
  if (app.nestSnippet) writeNestSnippet(ROOT, join(dir, 'src', 'readme-snippet.ts'));
  if (app.tarballs) writeFileSync(join(dir, 'tarballs.json'), JSON.stringify(packed.map((p) => join(tarballs, p.filename))));
  return dir;
}

const parallel = Math.max(2, Math.min(4, availableParallelism()));
const results = await pool(apps, parallel, async (app) => {
  const dir = prepare(app);
  const t0 = Date.now();
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], dir);
  if (install.code !== 0) return { app, ok: false, out: `npm install failed:\n${install.out}` };
  const installed = Date.now();
  const test = await run('npm', ['test', '--silent'], dir, { CI: 'true' });
  const timing = `install ${((installed - t0) / 1000).toFixed(0)} s, test ${((Date.now() - installed) / 1000).toFixed(0)} s`;
  console.log(`${test.code === 0 ? 'PASS' : 'FAIL'} ${app.name}: ${app.what} (${timing}; ${elapsed()})`);
  return { app, ok: test.code === 0, out: test.out };
});

let failed = 0;
for (const { app, ok, out } of results) {
  if (ok) continue;
  failed++;
  console.log(`\n---- ${app.name} ----\n${out.trim()}\n`);
}
if (!keep) rmSync(work, { recursive: true, force: true });
console.log(`consumer matrix: ${results.length - failed} passed, ${failed} failed, ${elapsed()}`);
process.exit(failed ? 1 : 0);
