/**
 * A Sentinel failover during a refresh burst, in the configuration the README recommends (one master,
 * two replicas, min-replicas-to-write 1, three sentinels, RECOMMENDED_SENTINEL_OPTIONS, the store's
 * replicaAcks 1, and for a planned SENTINEL FAILOVER its runbook): no refresh token is lost, and the
 * next refresh works.
 *
 * Measurement mode (by hand, not in CI): `REFRESH_SCALE_MEASURE=<runs> npx jest packages/refresh/test/scale/sentinel`
 * runs each configuration and kind of failover <runs> times and writes test/scale/measured.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { BUILD_HOOK_TIMEOUT_MS, ensureBuilt } from '../helpers/build';
import { startProvider } from '../helpers/provider';
import { runFailover, type Configuration, type FailoverKind, type FailoverRun } from './failover';
import { killWorkers } from './fleet';

let sandbox: RunningSandbox;

beforeAll(async () => {
  await ensureBuilt();
  sandbox = await startProvider();
}, BUILD_HOOK_TIMEOUT_MS);
afterAll(async () => {
  killWorkers();
  await sandbox?.close();
});

const measuring = Number(process.env.REFRESH_SCALE_MEASURE ?? 0);

describe.each(['failover', 'kill'] as const)('recommended configuration, %s of the master during a refresh burst', (how) => {
  // 'failover': SENTINEL FAILOVER after the README's runbook (the master's min-replicas-to-write raised first).
  (measuring ? test.skip : test)('no refresh token lost, the next refresh works', async () => {
    const run = await runFailover(sandbox, { configuration: 'recommended', how });
    // The burst really was one: refreshes went on around the failover.
    expect(run.refreshes).toBeGreaterThan(20);
    expect(run).toMatchObject({ lost: 0, furtherRefreshFailed: 0, unsaved: 0 });
    expect(run.errors).not.toHaveProperty('invalid_grant');
    expect(run.errors).not.toHaveProperty('no_tokens');
  }, 90_000);
});

(measuring ? test : test.skip)('measurement: both configurations, both kinds of failover', async () => {
  const runs: FailoverRun[] = [];
  for (let i = 0; i < measuring; i++) {
    const variants: { configuration: Configuration; how: FailoverKind; runbook?: boolean }[] = [
      { configuration: 'default', how: 'failover' },
      { configuration: 'default', how: 'kill' },
      { configuration: 'recommended', how: 'failover' },
      { configuration: 'recommended', how: 'failover', runbook: false },
      { configuration: 'recommended', how: 'kill' },
    ];
    for (const variant of variants) {
      const run = await runFailover(sandbox, variant);
      console.log(JSON.stringify(run));
      runs.push(run);
    }
  }
  writeFileSync(join(__dirname, 'measured.json'), `${JSON.stringify({ date: new Date().toISOString(), runs }, null, 2)}\n`);
}, 3_600_000);
