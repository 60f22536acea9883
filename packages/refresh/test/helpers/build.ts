/** Tests that run the BUILT packages (child processes, require() of dist) build them first (incremental). */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..', '..');
export const REFRESH_DIST = join(ROOT, 'packages', 'refresh', 'dist', 'index.js');

let built = false;
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'packages/refresh', 'packages/hubspot', 'packages/sandbox'], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  built = true;
}
