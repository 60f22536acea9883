#!/usr/bin/env node
'use strict';
/**
 * Bundles each strategy package and @passport-martech/oauth2 (the packages whose keywords say `strategy`)
 * into one CommonJS file, dist/index.js, after
 * `tsc -b` (npm run build). Loading a strategy then reads two files of ours instead of about twenty, which
 * is most of what a require() of ours cost on top of passport-oauth2's (bench figure 5).
 *
 * - The source layout does not change: esbuild reads src/*.ts, the same files tsc type-checked and whose
 *   declarations (dist/*.d.ts) stay as tsc wrote them.
 * - dist/index.js.map maps every line back to src/*.ts, which the packages publish beside dist: stack
 *   traces (node --enable-source-maps) and debuggers point at the real lines.
 * - Dependencies stay outside (passport-oauth2, oauth, @passport-martech/oauth2 for a strategy): one copy
 *   of each class in a process, so `instanceof` keeps working across packages.
 * - @passport-martech/oauth2 has two entries: dist/provider-kit.js (`/provider-kit`, for strategy authors)
 *   holds every module; dist/index.js (the main entry, for apps) is a short file that takes its names from
 *   ./provider-kit.js, so a process that loads both still has one copy of each class (`instanceof`).
 * - tsc's per-module .js files are removed (nothing loads them any more), and so is the package's
 *   tsconfig.tsbuildinfo: a later bare `tsc -b` then emits the whole package again, every module beside
 *   its own index.js, so a changed source can never run beside a stale bundle.
 */
const { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const esbuild = require('esbuild');

const ROOT = join(__dirname, '..');
/** The strategy packages and their base: every workspace package whose keywords say `strategy`. */
const PACKAGES = readdirSync(join(ROOT, 'packages')).filter((name) => {
  const manifest = join(ROOT, 'packages', name, 'package.json');
  return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')).keywords ?? []).includes('strategy');
});

/** Extra entries per package (besides index): oauth2's provider kit, whose bundle holds every module. */
const ENTRIES = { oauth2: ['provider-kit'] };

async function bundle(name) {
  const dir = join(ROOT, 'packages', name);
  const dist = join(dir, 'dist');
  const extra = ENTRIES[name] ?? [];
  for (const entry of extra) await build(dir, entry, []);
  // The main entry of a package with a kit takes every name from the kit's bundle (a superset of it).
  await build(dir, 'index', extra.length > 0 ? [fromBundle(`./${extra[0]}.js`)] : []);
  const kept = new Set(['index', ...extra].flatMap((entry) => [`${entry}.js`, `${entry}.js.map`]));
  for (const file of readdirSync(dist)) {
    if (/\.js(\.map)?$/.test(file) && !kept.has(file)) rmSync(join(dist, file));
  }
  const buildInfo = join(dir, 'tsconfig.tsbuildinfo');
  if (existsSync(buildInfo)) rmSync(buildInfo);
}

async function build(dir, entry, plugins) {
  const outfile = join(dir, 'dist', `${entry}.js`);
  await esbuild.build({
    entryPoints: [join(dir, 'src', `${entry}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    // The packages publish src/: the map names those files rather than carrying a second copy of them.
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
    plugins,
  });
  exportInPlace(outfile);
}

/** Every relative import of the entry resolves to `bundle`, loaded at run time (not bundled again). */
function fromBundle(bundle) {
  return {
    name: 'from-bundle',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, () => ({ path: bundle, external: true }));
    },
  };
}

/**
 * esbuild's CommonJS output copies the module's export getters onto a second object
 * (`module.exports = __toCommonJS(index_exports)`): one more getter per export, made at every load. The
 * export object itself is handed out instead, marked `__esModule` as the copy was (same names, same live
 * getters; the line numbers, and so the source map, do not change).
 */
function exportInPlace(file) {
  const code = readFileSync(file, 'utf8');
  const copy = /^module\.exports = __toCommonJS\((\w+)\);$/m;
  const match = copy.exec(code);
  if (!match || code.split('__toCommonJS(').length !== 2) throw new Error(`${file}: esbuild's export block is not the one expected`);
  writeFileSync(file, code.replace(copy, `__defProp(${match[1]}, "__esModule", { value: true }); module.exports = ${match[1]};`));
}

Promise.all(PACKAGES.map(bundle)).catch((err) => {
  console.error(err);
  process.exit(1);
});
