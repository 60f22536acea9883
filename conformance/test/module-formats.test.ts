/**
 * The published module shapes, as Node itself loads them (no ts-jest interop in between): the default
 * import is the strategy class in ESM and the named imports are there too; refresh's default is the
 * ready instance, in ESM and in CommonJS.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { catalog } from '@passport-martech/example-redis-session/catalog';
import { sandboxFacts } from '@passport-martech/sandbox';

const ROOT = resolve(__dirname, '../..');
/** Every catalog provider's strategy package, as its sandbox dialect names it. */
const STRATEGIES = catalog.map((entry) => sandboxFacts(entry.id).strategyPackage);

function run(source: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', source], { cwd: ROOT, encoding: 'utf8' }).trim();
}

describe.each(STRATEGIES)('%s', (name) => {
  // The strategy class: the one export named <Provider>Strategy, besides the `Strategy` alias.
  const classOf = (m: string) => `Object.keys(${m}).filter((k) => /.Strategy$/.test(k) && ${m}[k] === ${m}.Strategy)`;

  it('ESM: the default import is the class, and equals the named exports', () => {
    const out = run(
      `import * as m from '${name}';
       const names = ${classOf('m')};
       console.log([typeof m.default, names.length === 1 && m.default === m[names[0]], m.default === m.Strategy, typeof m.ErrorCode].join(' '));`,
      'module',
    );
    expect(out).toBe('function true true object');
  });

  it('CommonJS: require gives the named exports and .default', () => {
    const out = run(
      `const m = require('${name}');
       const names = ${classOf('m')};
       console.log([names.length === 1 && typeof m[names[0]], m.default === m[names[0]], m.Strategy === m[names[0]]].join(' '));`,
      'commonjs',
    );
    expect(out).toBe('function true true');
  });
});

describe('@passport-martech/refresh', () => {
  it('ESM: the default import is the ready instance; named imports are the classes', () => {
    const out = run(
      `import refresh, { TokenRefresher, TokenManager } from '@passport-martech/refresh';
       console.log([refresh instanceof TokenRefresher, typeof refresh.use, typeof TokenManager].join(' '));`,
      'module',
    );
    expect(out).toBe('true function function');
  });

  it('CommonJS: require gives the instance, carrying the named exports', () => {
    const out = run(
      `const refresh = require('@passport-martech/refresh');
       console.log([refresh instanceof refresh.TokenRefresher, refresh.default === refresh, typeof refresh.requestNewAccessToken].join(' '));`,
      'commonjs',
    );
    expect(out).toBe('true true function');
  });
});

describe('@passport-martech/oauth2 and its /provider-kit entry', () => {
  it('ESM and CommonJS: both entries load; the kit carries every main export, the same objects (one copy of each class)', () => {
    const check = `const main = Object.keys(m).filter((n) => n !== 'default'); console.log([typeof k.providerStrategy, typeof m.providerStrategy, main.length > 10, main.every((n) => k[n] === m[n]), new k.OAuthTokenError({ code: 'x', provider: 'p' }) instanceof m.OAuthTokenError].join(' '));`;
    expect(run(`const m = require('@passport-martech/oauth2'); const k = require('@passport-martech/oauth2/provider-kit'); ${check}`, 'commonjs')).toBe('function undefined true true true');
    expect(run(`import * as m from '@passport-martech/oauth2'; import * as k from '@passport-martech/oauth2/provider-kit'; ${check}`, 'module')).toBe('function undefined true true true');
  });
});
