/**
 * Second, independent checks of the refresh package's security properties, at the level an app sees
 * them (TokenManager over a real Redis), beside the unit tests of the store and the lock: a tampered
 * record (the GCM tag), a record moved to another user's key (the key bound as AAD), and a holder
 * whose lock expired releasing nothing of the next holder's.
 */
import { randomBytes } from 'node:crypto';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { RedisLock, RedisTokenStore, TokenManager, TokenRefresher, storeKey, type CorruptRecordReport, type RefreshLock } from '../src';
import { startRedis, type RedisServer } from './helpers/redis';
import { expired, hubspotStrategy, login, refreshCount, startProvider } from './helpers/provider';

let sandbox: RunningSandbox;
let redis: RedisServer;

beforeAll(async () => {
  [sandbox, redis] = await Promise.all([startProvider(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([sandbox.close(), redis.stop()]);
});

const KEY = randomBytes(32);

function encryptedManager(prefix: string, reports: CorruptRecordReport[]) {
  const store = new RedisTokenStore({ client: redis.client(), prefix, encryptionKey: KEY, onCorruptRecord: (r) => reports.push(r) });
  return new TokenManager({ refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url)), store });
}

test('a record whose ciphertext was altered in Redis is never served: the user must sign in again, and it is reported without a token', async () => {
  const reports: CorruptRecordReport[] = [];
  const manager = encryptedManager('sec1:', reports);
  const tokens = await login(sandbox.url);
  await manager.save('alice', 'hubspot', tokens);
  const admin = redis.client();
  const key = `sec1:${storeKey('alice', 'hubspot')}`;
  const record = (await admin.get(key)) as string;
  const parts = record.split(':');
  const body = Buffer.from(parts[4], 'base64');
  body[0] ^= 1;
  parts[4] = body.toString('base64');
  await admin.set(key, parts.join(':'));
  await expect(manager.getAccessToken('alice', 'hubspot')).rejects.toMatchObject({ code: 'REAUTHENTICATION_REQUIRED', reason: 'no_tokens' });
  expect(reports).toEqual([expect.objectContaining({ reason: 'decrypt_failed' })]);
  expect(JSON.stringify(reports)).not.toContain(tokens.accessToken);
});

test("alice's record copied under bob's key does not give bob alice's token", async () => {
  const reports: CorruptRecordReport[] = [];
  const manager = encryptedManager('sec2:', reports);
  const tokens = await login(sandbox.url);
  await manager.save('alice', 'hubspot', tokens);
  const admin = redis.client();
  await admin.set(`sec2:${storeKey('bob', 'hubspot')}`, (await admin.get(`sec2:${storeKey('alice', 'hubspot')}`)) as string);
  await expect(manager.getAccessToken('bob', 'hubspot')).rejects.toMatchObject({ reason: 'no_tokens' });
  await expect(manager.getAccessToken('alice', 'hubspot')).resolves.toBe(tokens.accessToken);
  expect(reports.map((r) => r.reason)).toEqual(['decrypt_failed']);
});

test("a holder whose lock expired during its refresh does not release the next holder's lock", async () => {
  const client = redis.client();
  const store = new RedisTokenStore({ client, prefix: 'sec3:' });
  const real = new RedisLock({ client, ttlMs: 150 });
  let extensions = 0;
  // The first holder's lock stops being extended after its check, so it expires during a slow refresh.
  const lossy: RefreshLock = { ttlMs: 150, acquire: (n) => real.acquire(n), release: (n, t) => real.release(n, t), extend: async () => extensions++ === 0 };
  const slow = new TokenManager({ refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url)), store, lock: lossy });
  const tokens = await login(sandbox.url);
  sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
  await store.set(storeKey('carol', 'hubspot'), expired(tokens));
  sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 400, times: 1 });
  const before = refreshCount(sandbox);
  const first = slow.getAccessToken('carol', 'hubspot').catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 250));
  // Another process now holds the lock (the first one's expired).
  const lockKey = `lock:refresh:${storeKey('carol', 'hubspot')}`;
  const next = await new RedisLock({ client, ttlMs: 5000 }).acquire(`refresh:${storeKey('carol', 'hubspot')}`);
  expect(next).not.toBeNull();
  await first;
  expect(refreshCount(sandbox) - before).toBe(1);
  expect(await client.get(lockKey)).toBe(next);
});
