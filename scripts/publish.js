#!/usr/bin/env node
// Publishes packages/* in dependency order (a strategy only after @passport-martech/oauth2 is on the
// registry), with provenance, skipping versions already published. `--dry-run`: npm publish --dry-run
// of every package, no registry lookups (CI runs this). Versions and changelogs come from changesets
// first (RELEASING.md).
const { execFileSync, spawnSync } = require('node:child_process');
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const dryRun = process.argv.includes('--dry-run');
const manifests = readdirSync(join(ROOT, 'packages')).map((dir) => ({
  dir: `packages/${dir}`,
  ...JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')),
}));
const byName = new Map(manifests.map((m) => [m.name, m]));

/** Depth-first: a package comes after every workspace package it depends on at install time. */
function dependencyOrder() {
  const order = [];
  const seen = new Set();
  const visit = (m, path) => {
    if (seen.has(m.name)) return;
    if (path.includes(m.name)) throw new Error(`dependency cycle: ${[...path, m.name].join(' -> ')}`);
    for (const dep of Object.keys({ ...m.dependencies, ...m.peerDependencies })) {
      if (byName.has(dep)) visit(byName.get(dep), [...path, m.name]);
    }
    seen.add(m.name);
    order.push(m);
  };
  manifests.forEach((m) => visit(m, []));
  return order;
}

function applyPackageFields() {
  const fields = JSON.parse(readFileSync(join(ROOT, 'release', 'package-fields.json'), 'utf8'));
  for (const key of ['repository', 'homepage', 'bugs']) {
    if (!fields[key]) {
      console.warn(`release/package-fields.json: "${key}" is empty; published without it`);
      continue;
    }
    execFileSync('npm', ['pkg', 'set', `${key}=${fields[key]}`, '--workspaces'], { cwd: ROOT, stdio: 'inherit' });
  }
}

function published(m) {
  return spawnSync('npm', ['view', `${m.name}@${m.version}`, 'version'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() === m.version;
}

const order = dependencyOrder();
console.log(`order: ${order.map((m) => m.name).join(', ')}`);
if (!dryRun) applyPackageFields();
for (const m of order) {
  if (!dryRun && published(m)) {
    console.log(`${m.name}@${m.version} is already published`);
    continue;
  }
  const args = ['publish', '-w', m.dir, '--access', 'public', ...(dryRun ? ['--dry-run'] : ['--provenance'])];
  const result = spawnSync('npm', args, { cwd: ROOT, stdio: dryRun ? ['ignore', 'ignore', 'pipe'] : 'inherit', encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(`npm ${args.join(' ')} failed${result.stderr ? `:\n${result.stderr}` : ''}`);
    process.exit(1);
  }
  console.log(`${dryRun ? 'dry run ok' : 'published'} ${m.name}@${m.version}`);
}
