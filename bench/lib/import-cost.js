'use strict';
/**
 * Figure 5: what a package costs to load and to install.
 * - time: a fresh `node -e "require(name)"` per sample; the figure is the time from the process's start
 *   to the end of the require (performance.now()), minus the same for a bare `node -e ""`, medians of
 *   samples taken round robin in a shuffled order. Kept beside it: the whole process's wall time (spawn to
 *   exit) minus bare node's, which includes the noise of fork/exec and exit, and require() alone timed
 *   inside the process; on a quiet machine the three agree within a millisecond. Our packages are loaded
 *   as npm installs them (installedLayout), not through the workspace's symlinks.
 * - size: bytes of every file installed for the package and its dependency closure (`dependencies` and
 *   `optionalDependencies`, resolved as Node would, each package counted once); for a workspace package
 *   only what it publishes (`files`, package.json, README, LICENSE).
 */
const { spawnSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } = require('node:fs');
const { dirname, join, relative, sep } = require('node:path');
const { catalog } = require('@passport-martech/example-redis-session/catalog');
const { sandboxFacts } = require('@passport-martech/sandbox');
const { median } = require('./util');

const BENCH_DIR = join(__dirname, '..');

/** Every strategy of the example's catalog (its package named by the provider's sandbox dialect), then the shared layers. */
const STRATEGIES = catalog.map((entry) => sandboxFacts(entry.id).strategyPackage);
const OURS = [...STRATEGIES, '@passport-martech/oauth2', '@passport-martech/refresh'];
const BASELINES = ['passport-oauth2', 'passport-hubspot-oauth2'];

/**
 * What a startup does with a strategy besides require(): build one (HubSpot's, and passport-oauth2's with
 * state and PKCE as ours has them), timed after the require.
 */
const CONSTRUCT = {
  '@passport-martech/hubspot': "new m({clientID:'id',clientSecret:'secret',callbackURL:'http://127.0.0.1/cb'},()=>{})",
  'passport-oauth2':
    "new m({authorizationURL:'https://app.hubspot.com/oauth/authorize',tokenURL:'https://api.hubapi.com/oauth/v1/token',clientID:'id',clientSecret:'secret',callbackURL:'http://127.0.0.1/cb',state:true,pkce:true},()=>{})",
};

function script(name) {
  const load = name ? `const m=require(${JSON.stringify(name)});` : '';
  const construct = CONSTRUCT[name] ?? '';
  // Prints: ms since the process started (performance.now(): node's bootstrap + the require), the
  // require() alone (hrtime around it), files loaded, then the construction after it (0 if none).
  return `const t=process.hrtime.bigint();${load}const d=process.hrtime.bigint()-t;const at=performance.now();const n=Object.keys(require.cache).length;${construct};const c=process.hrtime.bigint()-t-d;process.stdout.write(at+' '+d+' '+n+' '+c)`;
}

function sample(name, cwd = BENCH_DIR) {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['-e', script(name)], { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`require(${name}) failed: ${child.stderr}`);
  const [sinceStart, requireNs, modules, constructNs] = child.stdout.split(' ').map(Number);
  return { wallMs, sinceStartMs: sinceStart, requireMs: requireNs / 1e6, modules, constructMs: constructNs / 1e6 };
}

function shuffle(list) {
  const a = list.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Resolves a package's directory as Node would from `fromDir` (walking up node_modules). */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

function walkBytes(dir, skipNodeModules = true) {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipNodeModules && entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = walkBytes(path, skipNodeModules);
      bytes += sub.bytes;
      files += sub.files;
    } else if (entry.isFile()) {
      bytes += statSync(path).size;
      files++;
    }
  }
  return { bytes, files };
}

/** What npm would install for this package directory. */
function installedBytes(dir, pkg) {
  const insideNodeModules = dir.split(sep).includes('node_modules');
  if (insideNodeModules || !Array.isArray(pkg.files)) return walkBytes(dir);
  // A workspace package: what `npm pack` would publish.
  let bytes = 0;
  let files = 0;
  const always = readdirSync(dir).filter((f) => /^(package\.json|readme|license|licence|changelog)/i.test(f));
  for (const item of [...new Set([...pkg.files, ...always])]) {
    const path = join(dir, item);
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) {
      const sub = walkBytes(path);
      bytes += sub.bytes;
      files += sub.files;
    } else {
      bytes += statSync(path).size;
      files++;
    }
  }
  return { bytes, files };
}

function installedSize(name) {
  const seen = new Map();
  const visit = (dep, fromDir) => {
    const dir = packageDir(dep, fromDir);
    if (!dir || seen.has(dir)) return;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    seen.set(dir, { name: pkg.name, version: pkg.version, ...installedBytes(dir, pkg) });
    for (const child of Object.keys({ ...(pkg.dependencies || {}), ...(pkg.optionalDependencies || {}) })) visit(child, dir);
  };
  visit(name, BENCH_DIR);
  const packages = [...seen.values()];
  return {
    bytes: packages.reduce((n, p) => n + p.bytes, 0),
    // Type-declaration-only packages pulled in as runtime dependencies (@types/*, undici-types).
    typesBytes: packages.filter((p) => /^@types\/|^undici-types$/.test(p.name)).reduce((n, p) => n + p.bytes, 0),
    files: packages.reduce((n, p) => n + p.files, 0),
    packages: packages.map((p) => `${p.name}@${p.version}`),
    byPackage: Object.fromEntries(packages.map((p) => [p.name, p.bytes])),
    where: [...seen.keys()].map((d) => relative(join(BENCH_DIR, '..'), d))[0],
  };
}

/**
 * Our packages as npm installs them: real directories holding what each publishes, in a node_modules of
 * their own inside bench/ (so their dependencies, and the baselines, resolve from the workspace's
 * node_modules as before). Loaded from the workspace, every require of ours would also resolve a
 * symlink (node_modules/@passport-martech/* -> packages/*), which no user's install has.
 */
function installedLayout() {
  const root = join(BENCH_DIR, '.import-layout');
  rmSync(root, { recursive: true, force: true });
  for (const name of OURS) {
    const from = packageDir(name, BENCH_DIR);
    const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
    const to = join(root, 'node_modules', name);
    mkdirSync(to, { recursive: true });
    for (const item of ['package.json', ...(pkg.files || [])]) {
      if (existsSync(join(from, item))) cpSync(join(from, item), join(to, item), { recursive: true });
    }
  }
  return root;
}

/** options: { samples = 15 }. */
function measureImports({ samples = 15 } = {}) {
  const names = [...OURS, ...BASELINES];
  const raw = new Map([[null, []], ...names.map((n) => [n, []])]);
  const layout = installedLayout();
  try {
    sample(null, layout); // warm the file system cache
    for (const name of names) sample(name, layout);
    for (let i = 0; i < samples; i++) {
      for (const name of shuffle([null, ...names])) raw.get(name).push(sample(name, layout));
    }
  } finally {
    rmSync(layout, { recursive: true, force: true });
  }
  const bare = raw.get(null);
  const bareWall = median(bare.map((s) => s.wallMs));
  const bareStart = median(bare.map((s) => s.sinceStartMs));
  const packages = {};
  for (const name of names) {
    const s = raw.get(name);
    packages[name] = {
      // The figure: node's bootstrap + require() in a fresh process, minus a bare node's bootstrap.
      timeMs: median(s.map((x) => x.sinceStartMs)) - bareStart,
      // The same with the whole process (spawn to exit): noisier on a shared machine.
      wallMinusBareMs: median(s.map((x) => x.wallMs)) - bareWall,
      // require() alone, timed inside the process.
      requireMs: median(s.map((x) => x.requireMs)),
      // require() and then one strategy built (only where CONSTRUCT has one).
      requireAndConstructMs: CONSTRUCT[name] ? median(s.map((x) => x.requireMs + x.constructMs)) : undefined,
      // JavaScript files loaded by the require (node's own built-ins not counted).
      modules: s[0].modules,
      size: installedSize(name),
    };
  }
  return { samples, bareNodeMs: bareStart, bareNodeWallMs: bareWall, packages, strategies: STRATEGIES, ours: OURS, baselines: BASELINES };
}

module.exports = { measureImports, installedSize, OURS, STRATEGIES, BASELINES };
