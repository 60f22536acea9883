import type Redis from 'ioredis';
import { RedisLock } from '../src';
import { startRedis, type RedisServer } from './helpers/redis';

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
});
afterAll(() => redis.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('acquire is exclusive (SET NX PX with a random token) and expires after ttlMs', async () => {
  const a = new RedisLock({ client, ttlMs: 200 });
  const b = new RedisLock({ client: redis.client(), ttlMs: 200 });
  const token = await a.acquire('x');
  expect(token).toMatch(/^[0-9a-f]{32}$/);
  expect(await client.get('lock:x')).toBe(token);
  const pttl = await client.pttl('lock:x');
  expect(pttl).toBeGreaterThan(0);
  expect(pttl).toBeLessThanOrEqual(200);
  await expect(b.acquire('x')).resolves.toBeNull();
  await sleep(250);
  const other = await b.acquire('x');
  expect(other).not.toBeNull();
  expect(other).not.toBe(token);
  await b.release('x', other as string);
});

test('release is compare-and-delete: a holder whose lock expired cannot release the next holder’s lock', async () => {
  const lock = new RedisLock({ client, ttlMs: 100 });
  const slow = (await lock.acquire('y')) as string;
  await sleep(150);
  const next = (await lock.acquire('y')) as string;
  expect(next).not.toBeNull();
  await expect(lock.release('y', slow)).resolves.toBe(false);
  expect(await client.get('lock:y')).toBe(next);
  await expect(lock.release('y', next)).resolves.toBe(true);
  expect(await client.exists('lock:y')).toBe(0);
  await expect(lock.release('y', next)).resolves.toBe(false);
});

test('extend pushes the expiry only for the holder', async () => {
  const lock = new RedisLock({ client, ttlMs: 150, prefix: 'l2:' });
  const token = (await lock.acquire('z')) as string;
  await sleep(100);
  await expect(lock.extend('z', token)).resolves.toBe(true);
  await sleep(100);
  expect(await client.get('l2:z')).toBe(token);
  await expect(lock.extend('z', 'not-the-token')).resolves.toBe(false);
  await expect(lock.extend('z', token, 5000)).resolves.toBe(true);
  expect(await client.pttl('l2:z')).toBeGreaterThan(4000);
  await lock.release('z', token);
});

test('options are checked', () => {
  expect(() => new RedisLock({ client, ttlMs: 0 })).toThrow(TypeError);
  expect(() => new RedisLock({ client, ttlMs: 1.5 })).toThrow(TypeError);
  expect(() => new RedisLock({} as never)).toThrow(TypeError);
});
