/**
 * The bench's refresh figures 1 and 2 in their --quick settings, as a test: counts, not times.
 * Runs the BUILT packages (npm test builds first), a sandbox and a private redis-server, like the bench.
 */
import { FIGURES, type Figure, type RefreshSummary } from '../lib/figures';

const figure = (id: string) => FIGURES.find((f) => f.id === id) as Figure<RefreshSummary>;

test('figure 1, quick: 1 000 concurrent callers with one expired token -> 1 upstream refresh (ours), 1 000 (passport-oauth2-refresh)', async () => {
  const dedup = figure('dedup');
  const summary = await dedup.run(dedup.settings.quick);
  expect(summary.callers).toBe(1000);
  // Every round, not only the median.
  expect(summary.ours.refreshCallsMin).toBe(1);
  expect(summary.ours.refreshCallsMax).toBe(1);
  expect(summary.ours.failedCallers).toBe(0);
  expect(summary.ours.distinctTokens).toBe(1);
  expect(summary.ours.stillSignedIn).toBe(true);
  expect(summary.baseline.refreshCallsMin).toBe(1000);
  expect(summary.baseline.refreshCallsMax).toBe(1000);
  // Rotating refresh tokens: one baseline caller wins, the others are refused.
  expect(summary.baseline.failedCallers).toBe(999);
  expect(dedup.rows(summary).filter((r) => r.pass !== null).every((r) => r.pass)).toBe(true);
}, 60_000);

test('figure 2, quick: 4 processes x 250 callers sharing Redis -> 1 upstream refresh (ours), 1 000 (passport-oauth2-refresh)', async () => {
  const processes = figure('processes');
  const summary = await processes.run(processes.settings.quick);
  expect(summary.processes).toBe(4);
  expect(summary.callersPerProcess).toBe(250);
  expect(summary.ours.refreshCallsMin).toBe(1);
  expect(summary.ours.refreshCallsMax).toBe(1);
  expect(summary.ours.failedCallers).toBe(0);
  expect(summary.ours.distinctTokens).toBe(1);
  expect(summary.baseline.refreshCallsMin).toBe(1000);
  expect(summary.baseline.refreshCallsMax).toBe(1000);
  // Without the Redis lock each process refreshes once: the lock is what makes it 1.
  expect(summary.oursWithoutLock?.refreshCalls).toBe(4);
  expect(processes.rows(summary).filter((r) => r.pass !== null).every((r) => r.pass)).toBe(true);
}, 60_000);
