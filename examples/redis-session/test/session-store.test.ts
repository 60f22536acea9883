/**
 * ThrottledTouchRedisStore against a real redis-server: a session's TTL is pushed at most once per touch
 * interval, an active session outlives its TTL, an idle one expires.
 */
import type { SessionData } from 'express-session';
import type { Redis } from 'ioredis';
import { ThrottledTouchRedisStore } from '../src/session-store';
import { inspector, startRedisServer, type PrivateRedis } from './helpers';

let redis: PrivateRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedisServer();
  client = inspector(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

beforeEach(() => client.flushall());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A session as express-session hands it to the store: its cookie expires `ttlMs` from now. */
function session(ttlMs: number): SessionData {
  return { cookie: { originalMaxAge: ttlMs, expires: new Date(Date.now() + ttlMs), httpOnly: true, path: '/' } } as unknown as SessionData;
}

/** The store, and a count of the EXPIRE commands it sends. */
function storeWith(touchIntervalMs: number) {
  const store = new ThrottledTouchRedisStore({ client, prefix: 'sess:', touchIntervalMs });
  const expires: string[] = [];
  const expire = store.client.expire.bind(store.client);
  store.client.expire = (key, ttl) => {
    expires.push(key);
    return expire(key, ttl);
  };
  return { store, expires };
}

test('a session touched again within the interval sends no EXPIRE; after it, one EXPIRE resets the TTL', async () => {
  const { store, expires } = storeWith(1000);
  await store.set('a', session(60_000)); // a save sets the TTL: it counts as a touch
  await store.touch('a', session(60_000));
  await store.touch('a', session(60_000));
  expect(expires).toHaveLength(0);

  await sleep(1100);
  const before = await client.pttl('sess:a');
  expect(before).toBeLessThan(59_000);
  await Promise.all([store.touch('a', session(60_000)), store.touch('a', session(60_000))]);
  expect(expires).toEqual(['sess:a']); // concurrent requests of one session: one EXPIRE
  expect(await client.pttl('sess:a')).toBeGreaterThan(59_000);

  await store.touch('b', session(60_000)); // another session is touched on its own account
  expect(expires).toEqual(['sess:a', 'sess:b']);
});

test('an active session outlives its TTL; an idle one expires within the TTL', async () => {
  const { store } = storeWith(500);
  const ttlMs = 2000;
  await store.set('active', session(ttlMs));
  await store.set('idle', session(ttlMs));
  // A request every 200 ms for 3 s (half again past the TTL): touched about every 500 ms.
  for (let elapsed = 0; elapsed < 3000; elapsed += 200) {
    await store.touch('active', session(ttlMs));
    await sleep(200);
  }
  expect(await client.exists('sess:active')).toBe(1);
  expect(await client.exists('sess:idle')).toBe(0);
  // Now idle: gone at most one TTL after its last touch.
  await sleep(ttlMs + 100);
  expect(await client.exists('sess:active')).toBe(0);
});

test('a failed touch is not remembered: the next request tries again', async () => {
  const { store, expires } = storeWith(60_000);
  await client.set('sess:a', '{}', 'EX', 60);
  const expire = store.client.expire;
  store.client.expire = () => Promise.reject(new Error('Connection is closed.'));
  const failed = new Promise((resolve) => void store.touch('a', session(60_000), resolve));
  expect(await failed).toBeInstanceOf(Error);
  store.client.expire = expire;
  await store.touch('a', session(60_000));
  expect(expires).toEqual(['sess:a']);
});

test('destroy forgets the session; interval 0 touches on every call, as connect-redis does', async () => {
  const { store, expires } = storeWith(60_000);
  await store.set('a', session(60_000));
  await store.destroy('a');
  await store.touch('a', session(60_000));
  expect(expires).toEqual(['sess:a']);

  const every = storeWith(0);
  await every.store.set('c', session(60_000));
  await every.store.touch('c', session(60_000));
  await every.store.touch('c', session(60_000));
  expect(every.expires).toEqual(['sess:c', 'sess:c']);
});

test('callbacks are called as express-session expects: at once when the touch is skipped', async () => {
  const { store } = storeWith(60_000);
  await store.set('a', session(60_000));
  let called = false;
  void store.touch('a', session(60_000), () => {
    called = true;
  });
  expect(called).toBe(true); // synchronously: express-session then ends the response in one write
});
