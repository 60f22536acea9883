/**
 * Every Lua script the example (and the refresh package it runs on) sends to Redis touches only the keys
 * it declares: each `redis.call` names its key as `KEYS[n]`, never a name built from ARGV or a read value,
 * and every `eval` call site passes at least as many keys as its script uses. A script that reads an
 * undeclared key works on one server and breaks on a Redis Cluster (another slot) — issue 15 found one.
 * Static: it reads the sources, so a new script is checked as soon as it is written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const SOURCES = ['examples/redis-session/src', 'packages/refresh/src'];
/** Commands that take no key: they may be called with anything. */
const KEYLESS = new Set(['TIME', 'PING', 'ECHO', 'INFO']);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

interface Script {
  file: string;
  name: string;
  body: string;
}

/** `const NAME = \`...\`` template literals that contain a redis.call. */
function scripts(): Script[] {
  return SOURCES.flatMap(sourceFiles).flatMap((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    return [...text.matchAll(/const (\w+) = `([^`]*)`/g)].filter((m) => /redis\.p?call\(/.test(m[2])).map((m) => ({ file, name: m[1], body: m[2] }));
  });
}

/** The key argument of every redis.call: [command, first argument]. */
function calls(body: string): [string, string][] {
  return [...body.matchAll(/redis\.p?call\(\s*'(\w+)'\s*(?:,\s*([^,)]+))?/g)].map((m) => [m[1].toUpperCase(), (m[2] ?? '').trim()]);
}

const found = scripts();

test('the scan finds the scripts (the example\'s LINK and UNLINK, the refresh package\'s SWAP, RELEASE, EXTEND)', () => {
  expect(found.map((s) => s.name).sort()).toEqual(expect.arrayContaining(['EXTEND', 'LINK', 'RELEASE', 'SWAP', 'UNLINK']));
});

test.each(found.map((s) => [`${s.file} ${s.name}`, s] as const))('%s: every redis.call names a declared key (KEYS[n])', (_label, script) => {
  for (const [command, key] of calls(script.body)) {
    if (KEYLESS.has(command)) continue;
    expect({ command, key }).toEqual({ command, key: expect.stringMatching(/^KEYS\[\d+\]$/) });
  }
});

test.each(found.map((s) => [`${s.file} ${s.name}`, s] as const))('%s: every eval passes as many keys as the script uses', (_label, script) => {
  const used = Math.max(0, ...[...script.body.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])));
  const text = readFileSync(join(ROOT, script.file), 'utf8');
  const sites = [...text.matchAll(new RegExp(`\\.eval\\(\\s*${script.name}\\s*,\\s*([^,]+),`, 'g'))].map((m) => m[1].trim());
  expect(sites.length).toBeGreaterThan(0);
  for (const count of sites) {
    // A literal count must cover the script's keys; `keys.length` passes a list built next to the call.
    if (/^\d+$/.test(count)) expect(Number(count)).toBeGreaterThanOrEqual(used);
    else expect(count).toBe('keys.length');
  }
});

test('the check can fail: the old LINK script (it read `ARGV[4] .. owner`) is refused', () => {
  const old = `local other = ARGV[4] .. owner
if redis.call('EXISTS', other) == 1 then redis.call('DEL', other) end`;
  expect(calls(old).filter(([, key]) => !/^KEYS\[\d+\]$/.test(key))).toEqual([
    ['EXISTS', 'other'],
    ['DEL', 'other'],
  ]);
});
