/**
 * What a quick run judges: count goals as a full run does; timing goals shown beside their goal, not judged.
 */
import { FIGURES, judge, type Row } from '../lib/figures';

const rows: Row[] = [
  { metric: 'upstream calls per login', ours: 2, baseline: 1, ratio: 2, goal: 'ours = 1', pass: false },
  { metric: 'logins/s', ours: 80, baseline: 100, ratio: 0.8, goal: '>= 1.0x', pass: false, timing: true },
  { metric: 'p99', ours: 9, baseline: 10, ratio: 0.9, goal: '<= 1.0x', pass: true, timing: true },
];

test('a quick run judges count goals and shows timing goals without judging them', () => {
  const quick = judge(rows, 'quick');
  expect(quick.map((r) => r.pass)).toEqual([false, null, null]);
  expect(quick.map((r) => r.withinGoal)).toEqual([undefined, false, true]);
  expect(quick[1]!.goal).toBe('>= 1.0x (full run)');
});

test('a full run judges every goal', () => {
  expect(judge(rows, 'full')).toEqual(rows);
});

test('every goal on a ratio of times is marked as timing (so quick runs do not judge it)', () => {
  const login = FIGURES.find((f) => f.id === 'login')!;
  const summary = {
    ours: { loginsPerSec: 90, p50: 1, p99: 2, appCpuMsPerLogin: 1.1, upstreamPerLogin: 1, upstreamPerLoginMax: 1, failed: 0 },
    baseline: { loginsPerSec: 100, p50: 1, p99: 2, appCpuMsPerLogin: 1, upstreamPerLogin: 1, upstreamPerLoginMax: 1, failed: 0 },
    perRound: [{ ours: { appCpuMsPerLogin: 1.1 }, baseline: { appCpuMsPerLogin: 1 } }],
  };
  const judged = login.rows(summary).filter((r) => r.pass !== null);
  expect(judged.map((r) => [r.metric, r.timing === true])).toEqual([
    ['logins/s', true],
    ['app process CPU per login, ms (less noisy than logins/s)', true],
    ['upstream calls per login (token + identity)', false],
  ]);
});
