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
    { name: 'login-requests', modules: ['callback-leg', 'login-leg', 'start-leg', 'state-claims', 'authorization-error', 'token-client', 'token-set', 'form', 'http', 'transport', 'deadlines', 'diagnostics', 'profile', 'redact'] },
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

/** Every .ts file under `dir`. */
function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Whether a source exports a top-level `let` or `var` (`export let x` or `let x; export { x }`). */
function exportsMutableBinding(file) {
  const code = readFileSync(file, 'utf8');
  if (/^export (let|var) /m.test(code)) return true;
  const mutable = new Set([...code.matchAll(/^(?:let|var) (\w+)/gm)].map((match) => match[1]));
  const exported = [...code.matchAll(/^export \{([^}]*)\}/gm)].flatMap((match) => match[1].split(',').map((name) => name.trim().split(/\s+/)[0]));
  return exported.some((name) => mutable.has(name));
}

/** esbuild's name for the function that runs a wrapped module on first call, e.g. `require_login_requests`. */
function loaderOf(module) {
  return `require_${module.replace(/-/g, '_')}`;
}

/**
 * esbuild imports a wrapped module at the top of the bundle that imports it (`var import_x =
 * __toESM(require_<module>())`): in the kit, a lazy chunk would then load with the kit; in a chunk, a
 * module handed over by the kit would be read when the chunk loads (the MCP chunk would load the login
 * chunk with it). Instead each read of one of its names calls esbuild's wrapper where the name is read
 * (`import_x.name` becomes `(require_<module>()).name`): the first call runs the module, later ones return
 * its exports. So a require() makes no object, getter or closure per such name, and loads nothing it
 * does not read. The only other use allowed is the kit's hand-over getter (`get "<module>"() { return
 * import_x; }`, shareWithChunks); a `default` read, a module passed around or an import in another form
 * fails the build. Nothing may read these names while the module that defines them is loading (a chunk's
 * own load calling back into kit code that reads the chunk's names would find none); nothing does.
 * Lines do not move (an import's line is left empty); on a line that reads such a name, the columns after
 * it move by a few characters.
 */
function readModulesAtUse(file, modules) {
  let code = readFileSync(file, 'utf8');
  for (const module of modules) {
    const load = loaderOf(module);
    const sites = new RegExp(`^var (\\w+) = __toESM\\(${load}\\(\\)\\);$`, 'gm');
    const variables = [...code.matchAll(sites)].map((site) => site[1]);
    code = code.replace(sites, '');
    for (const variable of variables) {
      code = code.replace(new RegExp(`(return )?\\b${variable}\\b(\\.default\\b|\\.[\\w$]+|;\\s*\\})?`, 'g'), (use, returned, after, offset) => {
        const returnsModule = after !== undefined && after.startsWith(';');
        const handOver = returnsModule && returned !== undefined && /get "[\w-]+"\(\) \{\s*$/.test(code.slice(Math.max(0, offset - 40), offset));
        if (after === undefined || after === '.default' || (returnsModule && !handOver)) {
          throw new Error(`${file}: ${variable} (${module}) is used other than by reading a name: ${use}`);
        }
        // Parenthesized: `new import_x.Name()` must stay `new (require_x()).Name()`.
        return use.replace(variable, `(${load}())`);
      });
    }
    if (new RegExp(`__toESM\\(${load}\\(|^var \\w+ = ${load}\\(\\);$`, 'm').test(code)) {
      throw new Error(`${file}: an import of ${module} in a form readModulesAtUse does not rewrite (it would run at load)`);
    }
  }
  writeFileSync(file, code);
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

/**
 * esbuild's CommonJS output defines every export as a getter (`__export(x_exports, { name: () => name })`):
 * a closure and a property definition per name when the bundle loads, and a call at every later read of
 * the name through the module (a strategy reads the kit's names that way). A name the bundle defines
 * itself (a class, function or constant: no source exports a `let`, which bundle() checks) is defined as a
 * read-only value instead (as read-only as the getter was), on the same object, once the bundle's own code
 * has run. A name read from another module (`() => import_x.name`, a re-export) keeps its getter, so a
 * lazy chunk still loads only on first use. Defined, not assigned: past a dozen names, V8 turns an object
 * that gets properties by assignment (`Object.assign`) into a hash table, and every read of a name from it
 * into a lookup (`%HasFastProperties`, Node 20). Lines do not move: the getters' lines are left empty, the
 * definitions follow the last mapped line.
 */
function exportOwnNamesAsValues(file) {
  let code = readFileSync(file, 'utf8');
  // Values defined at the end are there only once the bundle has run: nothing may read a module's exports
  // while it loads. esbuild's lazily initialised ESM modules (`__esm`) would; none are emitted today.
  if (code.includes('__esm(')) throw new Error(`${file}: esbuild emitted a lazily initialised module (__esm); exportOwnNamesAsValues assumes none`);
  const assignments = [];
  code = code.replace(/^__export\((\w+), \{\n([\s\S]*?)\n\}\);$/gm, (block, target, body) => {
    const values = [];
    const getters = [];
    for (const entry of body.split('\n').map((line) => line.trim().replace(/,$/, ''))) {
      const own = /^("?[\w$]+"?): \(\) => ([\w$]+)$/.exec(entry);
      if (own) values.push(own[1] === own[2] ? own[1] : `${own[1]}: ${own[2]}`);
      else getters.push(entry);
    }
    if (values.length > 0) assignments.push(`__exportValues(${target}, { ${values.join(', ')} });`);
    const kept = getters.length > 0 ? `__export(${target}, { ${getters.join(', ')} });` : '';
    return kept + '\n'.repeat(block.split('\n').length - 1);
  });
  const mapComment = /^\/\/# sourceMappingURL=.*$/m.exec(code);
  if (!mapComment) throw new Error(`${file}: no source map comment`);
  if (assignments.length === 0) return;
  const helper = 'var __exportValues = (target, all) => {\n  for (var name in all) __defProp(target, name, { value: all[name], enumerable: true });\n};';
  writeFileSync(file, `${code.slice(0, mapComment.index)}${helper}\n${assignments.join('\n')}\n${code.slice(mapComment.index)}`);
}

Promise.all(PACKAGES.map(bundle)).catch((err) => {
  console.error(err);
  process.exit(1);
});
