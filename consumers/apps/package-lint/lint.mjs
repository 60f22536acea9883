/* global process, console */
// publint (suggestions count as problems) and attw on each tarball listed in tarballs.json.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

let problems = 0;
for (const tarball of JSON.parse(readFileSync('tarballs.json', 'utf8'))) {
  const publint = spawnSync('npx', ['--no-install', 'publint', 'run', tarball], { encoding: 'utf8' });
  const publintOk = publint.status === 0 && !/Suggestions:|Warnings:|Errors:/.test(publint.stdout);
  const attw = spawnSync('npx', ['--no-install', 'attw', tarball, '--format', 'ascii', '--no-color'], { encoding: 'utf8' });
  const attwOk = attw.status === 0 && /No problems found/.test(attw.stdout);
  console.log(`${publintOk && attwOk ? 'ok' : 'PROBLEMS'} ${basename(tarball)}: publint ${publintOk ? 'clean' : 'problems'}, attw ${attwOk ? 'clean' : 'problems'}`);
  if (!publintOk) console.log(publint.stdout, publint.stderr);
  if (!attwOk) console.log(attw.stdout, attw.stderr);
  if (!publintOk || !attwOk) problems++;
}
process.exit(problems ? 1 : 0);
