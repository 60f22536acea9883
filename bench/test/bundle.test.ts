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

test.each(PACKAGES)('%s: dist holds one bundle and its map, the map names published sources', (name) => {
  const dist = join(root, 'packages', name, 'dist');
  const bundle = name === 'oauth2' ? 'provider-kit' : 'index'; // oauth2's main entry takes its names from the kit's bundle
  expect(readdirSync(dist).filter((f) => /\.js(\.map)?$/.test(f))).toEqual([...new Set(['index', bundle])].flatMap((f) => [`${f}.js`, `${f}.js.map`]));
  const map = JSON.parse(readFileSync(join(dist, `${bundle}.js.map`), 'utf8')) as { sources: string[] };
  expect(map.sources.length).toBeGreaterThan(1);
  for (const source of map.sources) {
    expect(source).toMatch(/^\.\.\/src\/[\w-]+\.ts$/);
    expect(existsSync(join(dist, source))).toBe(true);
  }
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
