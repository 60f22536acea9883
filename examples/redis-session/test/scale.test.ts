/**
 * The example on real scale-out Redis (issue 15): a 3-master Redis Cluster and a Sentinel group (one
 * master, two replicas, three sentinels), started by the refresh package's scale harness (redis-server
 * children on free ports, killed by PID). On the Cluster: the whole journey, every key of an account and
 * its sessions where the README's key layout says. On Sentinel: /readyz says "not ready" whenever Redis
 * refuses writes, and after a SENTINEL FAILOVER the app follows the new master by itself.
 */
import type { Cluster } from 'ioredis';
import request from 'supertest';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { startCluster, startSentinel, command, until, type RunningCluster, type RunningSentinel } from '../../../packages/refresh/test/scale/topology';
import { newAccountId, type LinkedIdentity } from '../src/accounts';
import { keySlot } from '../src/readiness';
import { appFor, csrfFrom, link, login, sandboxFor, sandboxPost, testConfig, type TestApp } from './helpers';

/** The env that points the app at a topology instead of REDIS_URL (which testConfig sets). */
const clusterEnv = (cluster: RunningCluster) => ({ REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',') });
/** Sentinel as the refresh README recommends it on the app's side: a refreshed set waits for one replica. */
const sentinelEnv = (group: RunningSentinel) => ({
  REDIS_URL: undefined,
  REDIS_SENTINELS: group.sentinels.map((n) => `${n.host}:${n.port}`).join(','),
  REDIS_SENTINEL_NAME: group.name,
  REDIS_REPLICA_ACKS: '1',
});

/** Keys matching `pattern` on every master of the cluster. */
async function clusterKeys(client: Cluster, pattern: string): Promise<string[]> {
  const perNode = await Promise.all(client.nodes('master').map((node) => node.keys(pattern)));
  return perNode.flat().sort();
}

async function readyz(app: TestApp): Promise<{ status: number; body: { reason?: string } }> {
  const res = await request(app.app).get('/readyz');
  return { status: res.status, body: res.body as { reason?: string } };
}

let sandbox: RunningSandbox;
beforeAll(async () => {
  sandbox = await sandboxFor({ autoApprove: true });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('Redis Cluster (3 masters)', () => {
  let cluster: RunningCluster;
  let app: TestApp;
  let peek: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
    app = await appFor(testConfig(sandbox, '', clusterEnv(cluster)));
    peek = cluster.client();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  test('sign in, link, call the API, disconnect, log out everywhere: every step works, keys where the layout says', async () => {
    expect(await readyz(app)).toEqual({ status: 200, body: { status: 'ok', redis: 'up' } });
    const agent = request.agent(app.app);
    const first = await login(agent, 'hubspot');
    expect(first.callback.status).toBe(303);
    expect((await link(agent, 'marketo')).callback.status).toBe(303);

    let page = await agent.get('/account');
    expect(page.status).toBe(200);
    const accountId = /<dt>Account id<\/dt><dd>([^<]+)<\/dd>/.exec(page.text)?.[1] as string;
    const api = await agent.post('/account/hubspot/api').type('form').send({ _csrf: csrfFrom(page.text) });
    expect(api.status).toBe(200);
    expect(api.text).toContain('id="api-result"');

    // One account, two identity pointers, all in the {accounts} slot; tokens and sessions spread out.
    const accountKeys = await clusterKeys(peek, 'app:{accounts}:*');
    expect(accountKeys).toEqual(expect.arrayContaining([`app:{accounts}:account:${accountId}`]));
    expect(accountKeys.filter((k) => k.includes(':identity:'))).toHaveLength(2);
    expect(new Set(accountKeys.map(keySlot)).size).toBe(1);
    expect(await clusterKeys(peek, 'tokens:*')).toHaveLength(2);

    page = await agent.get('/account');
    expect((await agent.post('/account/marketo/disconnect').type('form').send({ _csrf: csrfFrom(page.text) })).status).toBe(303);
    expect(await clusterKeys(peek, 'tokens:*')).toHaveLength(1);
    expect((await clusterKeys(peek, 'app:{accounts}:identity:*')).map((k) => k.split(':')[3])).toEqual(['hubspot']);

    // A second browser of the same account, then "Log out everywhere" from the first: both end.
    const other = request.agent(app.app);
    const second = await login(other, 'hubspot');
    expect(await peek.exists(`sess:${second.sid}`)).toBe(1);
    page = await agent.get('/account');
    expect((await agent.post('/logout/everywhere').type('form').send({ _csrf: csrfFrom(page.text) })).status).toBe(303);
    expect((await agent.get('/account')).status).toBe(303);
    expect((await other.get('/account')).status).toBe(303);
    expect(await clusterKeys(peek, 'sess:*')).toEqual([]);
    expect(await clusterKeys(peek, 'app:sessions:*')).toEqual([]);
  }, 30_000);

  test('keySlot (the readiness probe\'s key placement) agrees with CLUSTER KEYSLOT', async () => {
    const keys = ['app:readyz:{0}', 'app:readyz:{17}', 'app:{accounts}:account:x', 'sess:abc', 'tokens:u:hubspot', '{}x', 'a{}b{c}', 'ünïcode'];
    for (const key of keys) expect(keySlot(key)).toBe(await command(cluster.nodes[0].port, 'CLUSTER', 'KEYSLOT', key));
  });

  test('a sign-in whose link is refused creates no account (no orphan key)', async () => {
    const identity: LinkedIdentity = { provider: 'hubspot', id: 'orphan-check', emails: [], details: {}, raw: '{}', linkedAt: 1 };
    const owner = newAccountId();
    await app.accounts.link(owner, identity, { create: true });
    await app.accounts.link(owner, { ...identity, provider: 'marketo' });
    const before = await clusterKeys(peek, 'app:{accounts}:account:*');
    const stranger = newAccountId();
    await expect(app.accounts.link(stranger, identity, { create: true })).rejects.toMatchObject({ code: 'LINK_CONFLICT' });
    expect(await clusterKeys(peek, 'app:{accounts}:account:*')).toEqual(before);
    expect(await app.accounts.get(stranger)).toBeUndefined();
  });

  test('REDIS_URL pointed at one cluster node: /readyz says not ready (MOVED) instead of 200', async () => {
    const single = await appFor(testConfig(sandbox, `redis://${cluster.nodes[0].host}:${cluster.nodes[0].port}`));
    try {
      expect(await readyz(single)).toEqual({ status: 503, body: { status: 'unavailable', redis: 'down', reason: 'MOVED' } });
      expect((await request(single.app).get('/livez')).status).toBe(200);
    } finally {
      await single.close();
    }
  });
});

describe('Redis Sentinel (1 master, 2 replicas, 3 sentinels)', () => {
  let group: RunningSentinel;
  let app: TestApp;
  beforeAll(async () => {
    group = await startSentinel({ name: 'example' });
    app = await appFor(testConfig(sandbox, '', sentinelEnv(group)));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await group?.stop();
  });

  test('/readyz is 503 while the master refuses writes (NOREPLICAS), /livez stays 200; a replica named by REDIS_URL is READONLY', async () => {
    expect((await readyz(app)).status).toBe(200);
    const master = await group.masterPort();
    await command(master, 'CONFIG', 'SET', 'min-replicas-to-write', '3'); // only two replicas exist
    try {
      expect(await readyz(app)).toEqual({ status: 503, body: { status: 'unavailable', redis: 'down', reason: 'NOREPLICAS' } });
      expect((await request(app.app).get('/livez')).status).toBe(200);
      expect((await request(app.app).get('/healthz')).status).toBe(503);
    } finally {
      await command(master, 'CONFIG', 'SET', 'min-replicas-to-write', '0');
    }
    expect((await readyz(app)).status).toBe(200);

    const replica = group.dataPorts.find((port) => port !== master) as number;
    const pinned = await appFor(testConfig(sandbox, `redis://127.0.0.1:${replica}`));
    try {
      expect(await readyz(pinned)).toMatchObject({ status: 503, body: { reason: 'READONLY' } });
    } finally {
      await pinned.close();
    }
  });

  test('SENTINEL FAILOVER: the app follows the new master (/readyz back to 200, sign-in and session writes work there)', async () => {
    const agent = request.agent(app.app);
    expect((await login(agent, 'boomtown')).callback.status).toBe(303);
    const before = await group.masterPort();
    const answers: number[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        answers.push((await readyz(app)).status);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const startedAt = Date.now();
    const after = await group.failover();
    expect(after).not.toBe(before);
    await until('/readyz to be 200 on the new master', async () => (await readyz(app)).status === 200 && String(await command(after, 'CLIENT', 'LIST')).includes('name=passport-martech-example'), 20_000);
    const followedMs = Date.now() - startedAt;
    polling = false;
    await poll;
    // Followed at the sentinels' +switch-master (failoverDetector): ~1.5 s here. Without the Sentinel
    // options of redis.ts the app wrote to the demoted master until it went read-only: ~11.5 s measured.
    // Every answer meanwhile was 200 or 503 (never a hang or a 500).
    expect(followedMs).toBeLessThan(6_000);
    expect(answers.every((s) => s === 200 || s === 503)).toBe(true);

    // The session (written before the failover, replicated) still works, and new writes land on the new master.
    expect((await agent.get('/account')).status).toBe(200);
    const fresh = request.agent(app.app);
    const { callback, sid } = await login(fresh, 'marketo');
    expect(callback.status).toBe(303);
    expect(await command(after, 'EXISTS', `sess:${sid}`)).toBe(1);
    // A refresh on the new master: the rotated set is written there and a replica confirms it (WAIT).
    const refreshes = sandbox.stats().marketo.refresh;
    await sandboxPost(sandbox, '/_sandbox/expire', { provider: 'marketo' });
    const page = await fresh.get('/account');
    expect((await fresh.post('/account/marketo/api').type('form').send({ _csrf: csrfFrom(page.text) })).status).toBe(200);
    expect(sandbox.stats().marketo.refresh).toBe(refreshes + 1);
  }, 40_000);
});
