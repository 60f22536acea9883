/**
 * One Sentinel failover during a refresh burst, measured: a Sentinel group (one master, two replicas,
 * three sentinels), app processes forcing refreshes of a few users in a loop, and a failover
 * (SENTINEL FAILOVER, the old master staying up, or SIGKILL to the master) in the middle. Afterwards,
 * for each user: is the stored refresh token the one the sandbox considers live, and does one more
 * refresh succeed? Used by sentinel.test.ts (the recommended configuration, pass/fail) and by its
 * measurement mode (both configurations, several runs, figures for the README).
 */
import type { RunningSandbox } from '@passport-martech/sandbox';
import { RedisLock, RedisTokenStore, TokenManager, TokenRefresher, storeKey } from '../../src';
import { hubspotStrategy, login, refreshCount } from '../helpers/provider';
import { RECOMMENDED_SENTINEL_OPTIONS } from './clients';
import { startWorker } from './fleet';
import { command, sleep, startSentinel, until } from './topology';

const REPLICAS = 2;
/** The runbook's write pause: long enough for the replicas to catch up and the sentinels to promote one. */
const PAUSE_MS = 2000;

export type Configuration = 'recommended' | 'default';
export type FailoverKind = 'failover' | 'kill';

export interface FailoverOptions {
  /**
   * recommended: min-replicas-to-write 1 on every data server, RECOMMENDED_SENTINEL_OPTIONS, and the
   * store's replicaAcks 1; default: none of them.
   */
  configuration: Configuration;
  how: FailoverKind;
  /**
   * Before SENTINEL FAILOVER, raise the master's min-replicas-to-write to its number of replicas (the
   * README's runbook for a planned failover): it then refuses writes as soon as the promoted replica
   * leaves it. Default: true in the recommended configuration.
   */
  runbook?: boolean;
  users?: number;
  workers?: number;
  /** Refresh loops per user in each worker. */
  callers?: number;
  /** Burst time before the failover, and after the old master is back as a replica. */
  beforeMs?: number;
  afterMs?: number;
}

export interface FailoverRun {
  configuration: Configuration;
  how: FailoverKind;
  runbook: boolean;
  users: number;
  /** Refreshes the sandbox granted during the whole burst, and from the failover until the group settled. */
  refreshes: number;
  refreshesDuringFailover: number;
  /** Promotion: from the failover command (or the kill) until the sentinels name a new master. */
  promotionMs: number;
  /** From the failover until every surviving server had its new role and replicas were in sync. */
  settleMs: number;
  /** Users whose stored refresh token is missing or no longer the live one at the sandbox. */
  lost: number;
  /** Users for whom one more refresh after the failover failed. */
  furtherRefreshFailed: number;
  /** Sets the workers still could not save when they shut down (manager.close). */
  unsaved: number;
  /** Errors the app's callers saw during the burst, by code or message. */
  errors: Record<string, number>;
}

interface BurstResult {
  refreshes: number;
  calls: number;
  errors: Record<string, number>;
  unsaved: number;
}

/**
 * The README's runbook before `SENTINEL FAILOVER`: the master refuses writes once the promoted replica
 * leaves it (min-replicas-to-write = its number of replicas), holds new writes for a moment, and every
 * replica catches up first — so whichever replica the sentinels promote has every write that any
 * replica acknowledged (replication is asynchronous: `WAIT 1` may have been answered by the other one).
 */
async function prepareFailover(master: number): Promise<void> {
  await command(master, 'CONFIG', 'SET', 'min-replicas-to-write', String(REPLICAS));
  await command(master, 'CLIENT', 'PAUSE', String(PAUSE_MS), 'WRITE');
  await until('every replica to catch up with the master', async () => {
    const info = String(await command(master, 'INFO', 'replication'));
    const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
    const replicas = [...info.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((m) => m[1]);
    return replicas.length === REPLICAS && replicas.every((o) => o === offset);
  }, PAUSE_MS);
}

export async function runFailover(sandbox: RunningSandbox, options: FailoverOptions): Promise<FailoverRun> {
  const { configuration, how, runbook = configuration === 'recommended', users = 6, workers = 3, callers = 2, beforeMs = 1500, afterMs = 1000 } = options;
  const recommended = configuration === 'recommended';
  const replicaAcks = recommended ? 1 : 0;
  const group = await startSentinel({ replicas: REPLICAS, minReplicasToWrite: recommended ? 1 : 0 });
  try {
    const prefix = `failover-${Date.now()}:`;
    const userKeys = Array.from({ length: users }, (_, i) => `user-${i}`);
    const setup = group.client({ ...RECOMMENDED_SENTINEL_OPTIONS, maxRetriesPerRequest: 1 });
    const store = new RedisTokenStore({ client: setup, prefix });
    for (const user of userKeys) await store.set(storeKey(user, 'hubspot'), await login(sandbox.url));

    const topology = { kind: 'sentinel' as const, sentinels: group.sentinels, name: group.name, options: configuration };
    const fleet = Array.from({ length: workers }, () =>
      startWorker<BurstResult>(topology, sandbox.url, { PREFIX: prefix, USERS: userKeys.join(','), CALLERS: String(callers), MODE: 'burst', REPLICA_ACKS: String(replicaAcks) }),
    );
    await Promise.all(fleet.map((w) => w.ready));
    const start = refreshCount(sandbox);
    for (const w of fleet) w.child.send({ go: true });
    await sleep(beforeMs);

    const failoverStart = Date.now();
    const atFailover = refreshCount(sandbox);
    if (how === 'kill') await group.killMaster();
    else {
      if (runbook) await prepareFailover(await group.masterPort());
      await group.failover();
    }
    const promotionMs = Date.now() - failoverStart;
    await group.settled();
    const settleMs = Date.now() - failoverStart;
    const refreshesDuringFailover = refreshCount(sandbox) - atFailover;
    await sleep(afterMs);
    for (const w of fleet) w.child.send({ stop: true });
    const results = await Promise.all(fleet.map((w) => w.result));
    await Promise.all(fleet.map((w) => w.exited));
    const refreshes = refreshCount(sandbox) - start;

    // The truth after the failover, through a new client (it asks the sentinels for the master now).
    const after = group.client({ ...RECOMMENDED_SENTINEL_OPTIONS });
    const check = new RedisTokenStore({ client: after, prefix });
    const manager = new TokenManager({
      refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url)),
      store: new RedisTokenStore({ client: after, prefix, replicaAcks }),
      lock: new RedisLock({ client: after }),
    });
    let lost = 0;
    let furtherRefreshFailed = 0;
    for (const user of userKeys) {
      const stored = await check.get(storeKey(user, 'hubspot'));
      if (!stored?.refreshToken || !sandbox.refreshTokenStatus('hubspot', stored.refreshToken).live) lost++;
      const refreshed = await manager.refresh(user, 'hubspot').catch(() => undefined);
      if (!refreshed?.refreshToken || !sandbox.refreshTokenStatus('hubspot', refreshed.refreshToken).live) furtherRefreshFailed++;
    }
    await manager.close(5000);
    const errors: Record<string, number> = {};
    for (const r of results) for (const [name, count] of Object.entries(r.errors)) errors[name] = (errors[name] ?? 0) + count;
    return {
      configuration,
      how,
      runbook: how === 'failover' && runbook,
      users,
      refreshes,
      refreshesDuringFailover,
      promotionMs,
      settleMs,
      lost,
      furtherRefreshFailed,
      unsaved: results.reduce((n, r) => n + r.unsaved, 0),
      errors,
    };
  } finally {
    await group.stop();
  }
}
