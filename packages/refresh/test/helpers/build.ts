/**
 * Tests that run the BUILT packages (child processes, require() of dist) need them built. `npm test`
 * builds everything first (tsc -b, then scripts/bundle.js), so this only builds when a package's dist is
 * missing or older than its sources (a scoped `npx jest packages/refresh` after an edit) — and then the
 * way `npm run build` does, bundle included: a bare `tsc -b` would rewrite the bundled packages' dist
 * while other test files load it. The build runs in child processes without blocking the test's event
 * loop: blocked for seconds, a pooled keep-alive connection to a test server could be closed by the
 * server unseen, and the next request on it would fail with ECONNRESET.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..', '..');
export const REFRESH_DIST = join(ROOT, 'packages', 'refresh', 'dist', 'index.js');
const PACKAGES = ['oauth2', 'refresh', 'hubspot', 'sandbox'];

/** The newest modification time of the files under `dir` whose names match `pattern`. */
function newest(dir: string, pattern: RegExp): number {
  let time = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) time = Math.max(time, newest(path, pattern));
    else if (pattern.test(entry.name)) time = Math.max(time, statSync(path).mtimeMs);
  }
  return time;
}

/** Built after its newest source: tsc re-emits only what changed, the bundle is one file. */
function upToDate(name: string): boolean {
  const dist = join(ROOT, 'packages', name, 'dist');
  return existsSync(join(dist, 'index.js')) && newest(dist, /\.js$/) >= newest(join(ROOT, 'packages', name, 'src'), /\.ts$/);
}

const run = promisify(execFile);
/** Longer than a build takes here (about 10 s); callers give their hooks BUILD_HOOK_TIMEOUT_MS. */
const BUILD_TIMEOUT_MS = 120_000;
export const BUILD_HOOK_TIMEOUT_MS = BUILD_TIMEOUT_MS + 10_000;
let built: Promise<void> | undefined;

export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    if (PACKAGES.every(upToDate)) return;
    const step = async (args: string[]) => {
      try {
        await run(process.execPath, args, { cwd: ROOT, timeout: BUILD_TIMEOUT_MS });
      } catch (error) {
        // tsc reports its diagnostics on stdout.
        const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
        throw new Error(`building the packages for this test failed: ${(error as Error).message}\n${stdout}${stderr}`, { cause: error });
      }
    };
    await step([join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...PACKAGES.map((p) => `packages/${p}`)]);
    await step([join(ROOT, 'scripts', 'bundle.js')]);
  })();
  return built;
}
