/** Each package README stands on its own on the registry's page: no link relative to the repository. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const PACKAGES = resolve(__dirname, '../../packages');

describe.each(readdirSync(PACKAGES))('packages/%s/README.md', (dir) => {
  it('has only absolute links and in-page anchors', () => {
    const readme = readFileSync(join(PACKAGES, dir, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    expect(targets.filter((t) => !/^(https?:|mailto:|#)/.test(t))).toEqual([]);
  });
});
