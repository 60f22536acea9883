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
 *   holds every module but the lazy chunks' (below); dist/index.js (the main entry, for apps) is a short file that takes its names from
 *   ./provider-kit.js, so a process that loads both still has one copy of each class (`instanceof`).
 * - Parts a strategy's require() and construction never run are separate bundles loaded on first use
 *   (LAZY_CHUNKS: what a login runs in dist/login-requests.js; MCP discovery, registration and connection
 *   in dist/mcp-client.js; the cookie state store in dist/cookie-state.js). In the kit's bundle each read
 *   of one of their names loads the chunk if it is not loaded yet (readModulesAtUse); the chunk takes every other module from
 *   the kit's bundle (handed over under a symbol, KIT_MODULES). So `require()` of a strategy compiles
 *   less, and a process still holds one copy of each class and of each per-process table. The source
 *   files import each other as usual (tsc and the tests see ordinary static imports).
 * - A strategy package's module is its class (class-module.js), and there is no `exports` map.
 * - tsc's per-module .js files are removed (nothing loads them any more), and so is the package's
 *   tsconfig.tsbuildinfo: a later bare `tsc -b` then emits the whole package again, every module beside
 *   its own index.js, so a changed source can never run beside a stale bundle.
 */
const { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');
const esbuild = require('esbuild');
const { shapeAsClassModule } = require('./class-module');
const { exportInPlace, exportOwnNamesAsValues, exportsMutableBinding, readModulesAtUse, sourceFiles } = require('./bundle-rewrites');

const ROOT = join(__dirname, '..');
/** The strategy packages and their base: every workspace package whose keywords say `strategy`. */
const PACKAGES = readdirSync(join(ROOT, 'packages')).filter((name) => {
  const manifest = join(ROOT, 'packages', name, 'package.json');
  return existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')).keywords ?? []).includes('strategy');
});

/** Extra entries per package (besides index): oauth2's provider kit, whose bundle holds every module. */
const ENTRIES = { oauth2: ['provider-kit'] };

/**
 * Per package: bundles of modules a session login never needs, loaded on first use. A chunk's other
 * imports come from the kit's bundle at run time, so each class exists once.
 */
const LAZY_CHUNKS = {
  oauth2: [
    // What a login runs (the strategy methods' request-time half, its legs, requests to the provider, state
    // claims, profiles, redaction): neither require() nor a strategy's construction needs it (the token client
    // is built on first use).
    { name: 'login-requests', modules: ['callback-leg', 'login-leg', 'request-shape', 'start-leg', 'state-claims', 'authorization-error', 'token-client', 'token-set', 'form', 'http', 'transport', 'deadlines', 'diagnostics', 'profile', 'redact'] },
    { name: 'mcp-client', modules: ['mcp-connection', 'mcp-discovery', 'mcp-registration'] },
    { name: 'cookie-state', modules: ['cookie-state-store'] },
  ],
};
/** The symbol (Symbol.for) under which the kit's bundle hands its chunks the modules they import. */
const KIT_MODULES = '@passport-martech/oauth2:kit-modules';

async function bundle(name) {
  const dir = join(ROOT, 'packages', name);
  const dist = join(dir, 'dist');
  const extra = ENTRIES[name] ?? [];
  const chunks = LAZY_CHUNKS[name] ?? [];
  const lazy = [];
  const shared = new Set();
  const liveBinding = sourceFiles(join(dir, 'src')).find(exportsMutableBinding);
  if (liveBinding) throw new Error(`${liveBinding} exports a let or var: exportOwnNamesAsValues would hand out its first value only`);
  for (const chunk of chunks) {
    await buildChunk(dir, chunk, extra[0], shared);
    lazy.push(chunk);
  }
  // The few lines of each chunk's loader (`require_<chunk>`) are named in the kit's source map after its first module.
  const chunkLoaders = Object.fromEntries(lazy.map((chunk) => [`lazy-chunk:${chunk.name}`, `../src/${chunk.modules[0]}.ts`]));
  for (const entry of extra) {
    if (lazy.length === 0) await build(dir, entry, []);
    else {
      await build(dir, entry, [loadOnFirstUse(dir, lazy), shareWithChunks(dir, entry, shared)], undefined, chunkLoaders);
      readModulesAtUse(join(dist, `${entry}.js`), lazy.map((chunk) => chunk.name));
    }
  }
  // The main entry of a package with a kit takes every name from the kit's bundle (a superset of it).
  await build(dir, 'index', extra.length > 0 ? [fromBundle(`./${extra[0]}.js`)] : [kitFileDirectly]);
  // A package whose entry has a default export (a strategy) is its class, as passport-oauth2 is.
  shapeAsClassModule(dist);
  const kept = new Set(['index', ...extra, ...chunks.map((chunk) => chunk.name)].flatMap((entry) => [`${entry}.js`, `${entry}.js.map`]));
  for (const file of readdirSync(dist)) {
    if (/\.js(\.map)?$/.test(file) && !kept.has(file)) rmSync(join(dist, file));
  }
  const buildInfo = join(dir, 'tsconfig.tsbuildinfo');
  if (existsSync(buildInfo)) rmSync(buildInfo);
}

async function build(dir, entry, plugins, entryPoints = [join(dir, 'src', `${entry}.ts`)], renamedSources = {}) {
  const outfile = join(dir, 'dist', `${entry}.js`);
  await esbuild.build({
    entryPoints,
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
    // The kit's entry hands modules to its chunks through `module.exports` (shareWithChunks).
    logOverride: { 'commonjs-variable-in-esm': 'silent' },
    plugins,
  });
  exportInPlace(outfile);
  exportOwnNamesAsValues(outfile);
  if (Object.keys(renamedSources).length > 0) {
    const map = JSON.parse(readFileSync(`${outfile}.map`, 'utf8'));
    map.sources = map.sources.map((source) => renamedSources[source] ?? source);
    writeFileSync(`${outfile}.map`, JSON.stringify(map));
  }
}

/**
 * A lazy chunk's bundle: its modules (the first is the entry; it and the others are all bundled), with
 * every other relative import taken at run time from the kit's bundle, whose modules it hands to its
 * chunks under KIT_MODULES (`shared` collects which).
 */
async function buildChunk(dir, chunk, kit, shared) {
  const src = join(dir, 'src');
  const own = new Set(chunk.modules.map((module) => join(src, `${module}.ts`)));
  const names = new Set();
  for (const file of own) {
    const { metafile } = await esbuild.build({ entryPoints: [file], bundle: true, write: false, format: 'esm', platform: 'node', packages: 'external', metafile: true, logLevel: 'silent' });
    for (const output of Object.values(metafile.outputs)) {
      for (const exported of output.exports) {
        // The chunk's entry re-exports its other modules with `export *`, which drops a name two of them export.
        if (names.has(exported)) throw new Error(`lazy chunk ${chunk.name}: two of its modules export ${exported}`);
        names.add(exported);
      }
    }
  }
  const fromKit = {};
  const outsideChunk = {
    name: 'outside-chunk',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.namespace === 'from-kit') return { path: args.path, external: true };
        const target = join(dirname(args.importer), `${args.path}.ts`);
        if (own.has(target)) return undefined;
        const module = basename(target, '.ts');
        shared.add(module);
        fromKit[`from-kit:${module}`] = `../src/${module}.ts`;
        return { path: module, namespace: 'from-kit' };
      });
      build.onLoad({ filter: /.*/, namespace: 'from-kit' }, (args) => ({
        loader: 'js',
        resolveDir: src,
        contents: `module.exports = require('./${kit}.js')[Symbol.for(${JSON.stringify(KIT_MODULES)})][${JSON.stringify(args.path)}];\n`,
      }));
    },
  };
  // The entry re-exports the chunk's other modules, so one bundle carries all of them.
  const entry = join(src, `${chunk.modules[0]}.ts`);
  // The lines that fetch a module from the kit are named in the map after that module.
  await build(dir, chunk.name, [outsideChunk, reexport(entry, chunk.modules.slice(1))], [entry], fromKit);
  readModulesAtUse(join(dir, 'dist', `${chunk.name}.js`), Object.keys(fromKit).map((key) => key.slice('from-kit:'.length)));
}

/**
 * The kit's entry, as esbuild reads it, also hands the modules its chunks import to them: a property of
 * its exports under the symbol KIT_MODULES (not enumerable: not a name of the package's API).
 */
function shareWithChunks(dir, entry, shared) {
  const file = join(dir, 'src', `${entry}.ts`);
  return {
    name: 'share-with-chunks',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path !== file) return undefined;
        const modules = [...shared];
        const lines = [
          ...modules.map((module, i) => `import * as kitModule${i} from './${module}';`),
          // Getters: a module of a lazy chunk is handed over only when a chunk reads it (readModulesAtUse).
          `Object.defineProperty(module.exports, Symbol.for(${JSON.stringify(KIT_MODULES)}), { value: { ${modules.map((module, i) => `get ${JSON.stringify(module)}() { return kitModule${i}; }`).join(', ')} } });`,
        ];
        // Appended after the file's own lines, so the source map's lines for the file stay its lines.
        return { contents: `${readFileSync(file, 'utf8')}\n${lines.join('\n')}\n`, loader: 'ts' };
      });
    },
  };
}

/** Adds `export * from './<module>'` for each module to the entry file as esbuild reads it (not on disk). */
function reexport(entry, modules) {
  return {
    name: 'reexport',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path !== entry) return undefined;
        const lines = modules.map((module) => `export * from './${module}';`).join('\n');
        // Appended after the file's own lines, so the source map's lines for the file stay its lines.
        return { contents: `${readFileSync(entry, 'utf8')}\n${lines}\n`, loader: 'ts' };
      });
    },
  };
}

/**
 * In the kit's bundle, an import of a lazy chunk's module becomes a module that requires the chunk's
 * bundle, which esbuild runs the first time it is called (readModulesAtUse puts the calls where the
 * chunk's names are read).
 */
function loadOnFirstUse(dir, chunks) {
  const byFile = new Map();
  for (const chunk of chunks) for (const module of chunk.modules) byFile.set(join(dir, 'src', `${module}.ts`), chunk);
  return {
    name: 'load-on-first-use',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.namespace === 'lazy-chunk') return { path: args.path, external: true };
        const chunk = byFile.get(join(dirname(args.importer), `${args.path}.ts`));
        return chunk ? { path: chunk.name, namespace: 'lazy-chunk' } : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy-chunk' }, (args) => {
        const chunk = chunks.find((c) => c.name === args.path);
        // esbuild wraps this in a function it calls on first use (`require_<chunk>()`); readModulesAtUse
        // below makes every import of the chunk's modules such a call at the place a name is read.
        return { loader: 'js', contents: `module.exports = require('./${chunk.name}.js');\n` };
      });
    },
  };
}

/**
 * A strategy's bundle requires the kit's bundle by its file (`@passport-martech/oauth2/dist/provider-kit.js`):
 * the public path `@passport-martech/oauth2/provider-kit` is a one-line file that requires it, one more
 * module to resolve and compile in every strategy's require(). Both packages are published together.
 */
const kitFileDirectly = {
  name: 'kit-file-directly',
  setup(build) {
    build.onResolve({ filter: /^@passport-martech\/oauth2\/provider-kit$/ }, () => ({ path: '@passport-martech/oauth2/dist/provider-kit.js', external: true }));
  },
};

/** Every relative import of the entry resolves to `bundle`, loaded at run time (not bundled again). */
function fromBundle(bundle) {
  return {
    name: 'from-bundle',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, () => ({ path: bundle, external: true }));
    },
  };
}

Promise.all(PACKAGES.map(bundle)).catch((err) => {
  console.error(err);
  process.exit(1);
});
