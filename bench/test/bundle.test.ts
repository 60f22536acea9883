/**
 * What scripts/bundle.js leaves in dist (npm test builds first): one JavaScript file per package, a source
 * map whose every source is a file the package publishes, and stack traces that point at src/*.ts lines.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { catalog } from '@passport-martech/example-redis-session/catalog';
import { sandboxFacts } from '@passport-martech/sandbox';

const root = resolve(__dirname, '..', '..');
/** The shared layer and every catalog provider's strategy package (packages/<dir>), as its sandbox dialect names it. */
const PACKAGES = ['oauth2', ...catalog.map((entry) => basename(dirname(require.resolve(`${sandboxFacts(entry.id).strategyPackage}/package.json`))))];

test.each(PACKAGES)('%s: dist holds one bundle and its map (oauth2: also its lazy chunk), the maps name published sources', (name) => {
  const dist = join(root, 'packages', name, 'dist');
  // oauth2's main entry takes its names from the kit's bundle; the requests of a login (and its callback
  // leg), MCP and the cookie state store are chunks the kit loads on first use.
  const bundles = name === 'oauth2' ? ['provider-kit', 'login-requests', 'mcp-client', 'cookie-state'] : ['index'];
  expect(readdirSync(dist).filter((f) => /\.js(\.map)?$/.test(f)).sort()).toEqual([...new Set(['index', ...bundles])].flatMap((f) => [`${f}.js`, `${f}.js.map`]).sort());
  for (const bundle of bundles) {
    const map = JSON.parse(readFileSync(join(dist, `${bundle}.js.map`), 'utf8')) as { sources: string[] };
    expect(map.sources.length).toBeGreaterThan(1);
    for (const source of map.sources) {
      expect(source).toMatch(/^\.\.\/src\/[\w-]+\.ts$/);
      expect(existsSync(join(dist, source))).toBe(true);
    }
  }
});

test('a strategy loads the lazy chunks only on first use, and their classes are the ones both entries export', () => {
  const script = `const files = () => Object.keys(require.cache).filter((f) => f.includes('/oauth2/dist/')).map((f) => f.replace(/.*\\//, '')).sort().join(',');
const { HubSpotStrategy } = require('@passport-martech/hubspot');
const strategy = new HubSpotStrategy({ clientID: 'a', clientSecret: 'b', callbackURL: '/cb' }, () => {});
const atStart = files();
const tokenClient = strategy.tokenClient;
const afterTokenClient = files();
const kit = require('@passport-martech/oauth2/provider-kit');
const main = require('@passport-martech/oauth2');
const cookie = new HubSpotStrategy({ clientID: 'a', clientSecret: 'b', callbackURL: 'https://app.example/cb', state: { cookie: { key: Buffer.alloc(32, 7) } } }, () => {});
const afterCookie = files();
const store = new main.MemoryClientStore();
process.stdout.write([atStart, afterTokenClient, afterCookie, files(), cookie._stateStore instanceof main.CookieStateStore, main.CookieStateStore === kit.CookieStateStore, store instanceof kit.MemoryClientStore, main.registerClient === undefined, tokenClient instanceof kit.TokenClient, main.defaultAgents === kit.defaultAgents].join(' '));`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: join(root, 'bench'), encoding: 'utf8' });
  expect(out).toBe(
    [
      // require() and construction of a session-state strategy: the kit's bundle only.
      'provider-kit.js',
      // The token client (a login's first token request) loads the chunk of a login's requests.
      'login-requests.js,provider-kit.js',
      'cookie-state.js,index.js,login-requests.js,provider-kit.js',
      'cookie-state.js,index.js,login-requests.js,mcp-client.js,provider-kit.js',
      'true true true true true true',
    ].join(' '),
  );
});

test("an MCP strategy's construction loads the MCP chunk, not the login chunk (a chunk reads the kit's modules at use too)", () => {
  const script = `const files = () => Object.keys(require.cache).filter((f) => f.includes('/oauth2/dist/')).map((f) => f.replace(/.*\\//, '')).sort().join(',');
const OntraportStrategy = require('@passport-martech/ontraport');
new OntraportStrategy({ clientID: 'op-public', callbackURL: 'https://app.example/cb', authServer: 'mcp' }, () => {});
const constructed = files();
const strategy = new OntraportStrategy({ clientID: 'op-public', callbackURL: 'https://app.example/cb', authServer: 'mcp' }, () => {});
void strategy.tokenClient;
process.stdout.write([constructed, files()].join(' '));`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: join(root, 'bench'), encoding: 'utf8' });
  expect(out).toBe('mcp-client.js,provider-kit.js login-requests.js,mcp-client.js,provider-kit.js');
});

// V8's own heuristics, checked on Node 20 (V8 11.3), which CI runs: another major may decide otherwise.
const onNode20 = process.versions.node.startsWith('20.') ? test : test.skip;

onNode20("the modules a login reads names from keep V8's fast properties (not a hash table: a lookup per read)", () => {
  // An object given more than a dozen properties by assignment becomes a dictionary; the build
  // defines the bundles' exports so that they stay fast (exportOwnNamesAsValues, scripts/bundle-rewrites.js).
  const modules = {
    kit: '@passport-martech/oauth2/dist/provider-kit.js',
    'login chunk': '@passport-martech/oauth2/dist/login-requests.js',
    ...Object.fromEntries(PACKAGES.filter((name) => name !== 'oauth2').map((name) => [name, `@passport-martech/${name}`])),
  };
  const script = `const modules = ${JSON.stringify(modules)};
process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(modules).map(([name, path]) => [name, %HasFastProperties(require(path))]))));`;
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script], { cwd: join(root, 'bench'), encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual(Object.fromEntries(Object.keys(modules).map((name) => [name, true])));
});

test('with --enable-source-maps a stack trace names the real source lines', () => {
  const script = `const { HubSpotStrategy } = require('@passport-martech/hubspot');
try { new HubSpotStrategy({ clientID: 'a', clientSecret: 'b', callbackURL: '/cb', region: 'xx' }, () => {}); }
catch (e) { process.stdout.write(e.stack); }`;
  const stack = execFileSync(process.execPath, ['--enable-source-maps', '-e', script], { cwd: join(root, 'bench'), encoding: 'utf8' });
  const optionsTs = readFileSync(join(root, 'packages', 'oauth2', 'src', 'options.ts'), 'utf8').split('\n');
  const frame = /at optionError \((.*\/packages\/oauth2\/src\/options\.ts):(\d+):\d+\)/.exec(stack);
  expect(frame).not.toBeNull();
  expect(optionsTs[Number(frame![2]) - 1]).toContain('new TypeError');
  expect(stack).toMatch(/packages\/hubspot\/src\/strategy\.ts:\d+/);
});

test('with --enable-source-maps a stack trace through a lazy chunk names its source lines', () => {
  const script = `const { HubSpotStrategy } = require('@passport-martech/hubspot');
try { new HubSpotStrategy({ clientID: 'a', clientSecret: 'b', callbackURL: 'https://app.example/cb', state: { cookie: { key: 'too short' } } }, () => {}); }
catch (e) { process.stdout.write(e.stack); }`;
  const stack = execFileSync(process.execPath, ['--enable-source-maps', '-e', script], { cwd: join(root, 'bench'), encoding: 'utf8' });
  expect(stack).toMatch(/at optionError \(.*\/packages\/oauth2\/src\/options\.ts:\d+:\d+\)/);
  expect(stack).toMatch(/packages\/oauth2\/src\/cookie-state-store\.ts:\d+/);
  expect(stack).toMatch(/packages\/oauth2\/src\/strategy\.ts:\d+/);
});
