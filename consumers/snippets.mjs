// Every ```ts block of every README, written out as a file of its own for the TypeScript consumers to
// compile. A block is left out only when SKIP names it (README, first line) with the reason.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The root README and every package's (a new package is picked up without an edit here). */
const READMES = ['README.md', ...readdirSync(join(ROOT, 'packages')).sort().map((p) => `packages/${p}/README.md`)].filter((path) => existsSync(join(ROOT, path)));

// Needs @nestjs/*: compiled by the nestjs-cjs app instead (run.mjs writes it into that app's src/).
export const NEST_SNIPPET = {
  readme: 'packages/hubspot/README.md',
  first: "import { Injectable } from '@nestjs/common';",
  reason: 'NestJS code: compiled by the nestjs-cjs app, which has @nestjs/* installed',
};

export const SKIP = [
  { readme: 'packages/oauth2/README.md', first: 'interface Profile {', reason: 'a listing of the Profile shape, not code' },
  { readme: 'packages/refresh/README.md', first: 'new TokenManager({', reason: 'an option listing: each value names the option it documents' },
  { readme: 'packages/refresh/README.md', first: 'interface TokenStore {', reason: 'a listing of the TokenStore interface, not code' },
  { readme: 'packages/sandbox/README.md', first: 'createSandbox(options?: SandboxOptions)', reason: 'an API signature listing' },
  { readme: 'packages/sandbox/README.md', first: '{ provider, endpoint, fault, delayMs?, times? }', reason: 'a shape listing' },
  NEST_SNIPPET,
];

// A block that goes on from an earlier one in the same README is compiled after it, in one file.
export const CONTINUES = [{ readme: 'packages/sandbox/README.md', first: 'const client = {', after: 1 }];

// What snippets refer to without declaring: the options object a strategy takes, test globals.
const PRELUDE = `declare const options: import('@passport-martech/hubspot').HubSpotStrategyOptions;
declare function beforeAll(fn: () => unknown): void;
declare function afterAll(fn: () => unknown): void;
declare function beforeEach(fn: () => unknown): void;
declare function test(name: string, fn: () => unknown): void;
declare function expect(value: unknown): any;
`;

export function tsBlocks(markdown) {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** Writes snippets/<readme>-<n>.ts (and a prelude); returns how many were written and skipped. */
export function writeSnippets(root, dir, { extension = 'ts' } = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prelude.d.ts'), PRELUDE);
  let written = 0;
  let skipped = 0;
  for (const readme of READMES) {
    if (!existsSync(join(root, readme))) continue;
    const blocks = tsBlocks(readFileSync(join(root, readme), 'utf8'));
    blocks.forEach((block, i) => {
      if (SKIP.some((s) => s.readme === readme && block.startsWith(s.first))) {
        skipped++;
        return;
      }
      const name = `${readme.replace(/\/README\.md$|\.md$/, '').replaceAll('/', '-')}-${i + 1}.${extension}`;
      // Each file its own module, so that two snippets' top-level names never collide.
      const from = CONTINUES.find((c) => c.readme === readme && block.startsWith(c.first));
      const code = from ? `${blocks[from.after - 1]}\n${block}` : block;
      writeFileSync(join(dir, name), `// ${readme}, ts block ${i + 1}\n${code}\nexport {};\n`);
      written++;
    });
  }
  return { written, skipped };
}

/** The README's NestJS block, for the nestjs-cjs app to compile (under strict, with its decorators). */
export function writeNestSnippet(root, file) {
  const block = tsBlocks(readFileSync(join(root, NEST_SNIPPET.readme), 'utf8')).find((b) => b.startsWith(NEST_SNIPPET.first));
  if (!block) throw new Error(`${NEST_SNIPPET.readme}: no ts block starting with ${NEST_SNIPPET.first}`);
  writeFileSync(file, `// ${NEST_SNIPPET.readme}, the NestJS block\n${block}`);
}
