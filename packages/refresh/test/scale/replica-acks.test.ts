/**
 * RedisTokenStore `replicaAcks` on a real master and replica: a refreshed set counts as saved only once
 * a replica has it; an unacknowledged one throws ReplicaAckError, and the TokenManager keeps saving it
 * until a replica acknowledges it.
 */
import type { RunningSandbox } from '@passport-martech/sandbox';
import Redis from 'ioredis';
import { RedisTokenStore, ReplicaAckError, TokenManager, TokenRefresher, storeKey } from '../../src';
import { hubspotStrategy, login, startProvider } from '../helpers/provider';
import { HOST, command, replicated, startSentinel, until, type RunningSentinel } from './topology';

let group: RunningSentinel;
let sandbox: RunningSandbox;
let master: Redis;
let replica: Redis;

beforeAll(async () => {
  // One master and one replica; no sentinel is needed here.
  [group, sandbox] = await Promise.all([startSentinel({ replicas: 1, sentinels: 0 }), startProvider()]);
  master = new Redis({ host: HOST, port: group.dataPorts[0], maxRetriesPerRequest: 1 });
  replica = new Redis({ host: HOST, port: group.dataPorts[1], maxRetriesPerRequest: 1 });
}, 30_000);
afterAll(async () => {
  master?.disconnect();
  replica?.disconnect();
  await Promise.all([group?.stop(), sandbox?.close()]);
});

const detachReplica = () => command(group.dataPorts[1], 'REPLICAOF', 'NO', 'ONE');
async function attachReplica(): Promise<void> {
  await command(group.dataPorts[1], 'REPLICAOF', HOST, group.dataPorts[0]);
  await until('the replica in sync', () => replicated(group.dataPorts[0], 1));
}

test('replace resolves true once a replica has the set; without one it throws ReplicaAckError, and the same replace confirms it later', async () => {
  const store = new RedisTokenStore({ client: master, prefix: 'acks:', replicaAcks: 1, replicaAckTimeoutMs: 100 });
  const first = await login(sandbox.url);
  await store.set('k', first);
  const second = { ...first, accessToken: 'second-access', refreshToken: 'second-refresh' };
  expect(await store.replace('k', first.refreshToken as string, second)).toBe(true);
  expect(await replica.get('acks:k')).toBe(await master.get('acks:k'));

  await detachReplica();
  const third = { ...first, accessToken: 'third-access', refreshToken: 'third-refresh' };
  const refused = await store.replace('k', 'second-refresh', third).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(ReplicaAckError);
  expect(refused).toMatchObject({ code: 'REPLICA_ACK_TIMEOUT', acknowledged: 0, required: 1 });
  expect(String((refused as Error).message)).not.toContain('third-refresh');
  // Written on the master, not confirmed: trying the same save again waits for a replica again.
  expect((await store.get('k'))?.refreshToken).toBe('third-refresh');
  await expect(store.replace('k', 'second-refresh', third)).rejects.toBeInstanceOf(ReplicaAckError);
  // Another set over the same old token is still refused, acknowledged or not.
  await expect(store.replace('k', 'second-refresh', { ...third, accessToken: 'other' })).resolves.toBe(false);

  await attachReplica();
  expect(await store.replace('k', 'second-refresh', third)).toBe(true);
  expect((await store.get('k'))?.refreshToken).toBe('third-refresh');
}, 20_000);

test('TokenManager: a refreshed set no replica acknowledged stays unsaved (and served) until one does', async () => {
  const store = new RedisTokenStore({ client: master, prefix: 'acks-manager:', replicaAcks: 1, replicaAckTimeoutMs: 100 });
  const manager = new TokenManager({ refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url)), store });
  const tokens = await login(sandbox.url);
  await manager.save('u', 'hubspot', tokens);
  await detachReplica();
  const refreshed = await manager.refresh('u', 'hubspot');
  expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
  expect(manager.unsavedCount).toBe(1);
  expect(await manager.getAccessToken('u', 'hubspot')).toBe(refreshed.accessToken);

  await attachReplica();
  await until('the set saved', async () => manager.unsavedCount === 0, 5000);
  expect((await store.get(storeKey('u', 'hubspot')))?.refreshToken).toBe(refreshed.refreshToken);
  expect(await manager.close(1000)).toBe(0);
}, 20_000);

test('replicaAcks is refused with a Cluster client (its WAIT would go to any node) and must be a whole number', () => {
  const cluster = new Redis.Cluster([{ host: HOST, port: 1 }], { lazyConnect: true });
  expect(() => new RedisTokenStore({ client: cluster, replicaAcks: 1 })).toThrow(/not a Cluster/);
  expect(() => new RedisTokenStore({ client: master, replicaAcks: 1.5 })).toThrow(/replicaAcks must be an integer/);
  expect(() => new RedisTokenStore({ client: master, replicaAckTimeoutMs: -1 })).toThrow(/replicaAckTimeoutMs/);
  // WAIT with a timeout of 0 waits for ever.
  expect(() => new RedisTokenStore({ client: master, replicaAcks: 1, replicaAckTimeoutMs: 0 })).toThrow(/replicaAckTimeoutMs must be at least 1/);
  cluster.disconnect();
});
