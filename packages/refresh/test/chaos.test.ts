/**
 * The CI slice of the chaos suite (test/chaos/run.js; `npm run chaos` runs the full one): fixed seeds,
 * every fault kind, real processes. Ours must break no guarantee; the same checks run on
 * passport-oauth2-refresh must find it losing grants, which shows they can fail.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { BUILD_HOOK_TIMEOUT_MS, ensureBuilt } from './helpers/build';

function chaos(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, 'chaos', 'run.js'), '--quiet', ...args], { timeout: 170_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

beforeAll(() => ensureBuilt(), BUILD_HOOK_TIMEOUT_MS);

test('12 seeded schedules (seeds 1-12): no violation of G1-G5', async () => {
  const { code, output } = await chaos(['--seed', '1', '--runs', '12']);
  expect(output).toMatch(/invariant violations {5}0\n/);
  expect(code).toBe(0);
}, 180_000);

test('the same checks on passport-oauth2-refresh (seeds 100-107) find lost grants or stale presentations', async () => {
  const { output } = await chaos(['--seed', '100', '--runs', '8', '--mode', 'baseline']);
  const violations = Number(/invariant violations {5}(\d+)/.exec(output)?.[1]);
  expect(violations).toBeGreaterThan(0);
}, 180_000);
