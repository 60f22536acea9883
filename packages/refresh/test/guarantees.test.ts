/**
 * The defects that could lose a grant or storm a provider (issue "Refresh that never loses a token",
 * defects 1-7), each reproduced as it was found: real Redis, the real sandbox, real HTTP. Where a
 * fault cannot be produced for real from here (one store write refused while the lock's Redis works,
 * a store write that lands late), the store or its client is wrapped so that exactly that happens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenSet } from '@passport-martech/oauth2';
import type { RunningSandbox } from '@passport-martech/sandbox';
import type Redis from 'ioredis';
import {
  ASSUMED_LIFETIME_MS,
  RedisLock,
  RedisTokenStore,
  RefreshScheduler,
  TokenManager,
  TokenRefresher,
  storeKey,
  type RedisClient,
  type RefreshErrorEvent,
  type RefreshLock,
  type TokenManagerOptions,
  type TokenStore,
} from '../src';
import { startRedis, type RedisServer } from './helpers/redis';
import { expired, hubspotStrategy, login, rawRefresh, refreshCount, startProvider } from './helpers/provider';

let sandbox: RunningSandbox;
let redis: RedisServer;

beforeAll(async () => {
  [sandbox, redis] = await Promise.all([startProvider(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([sandbox.close(), redis.stop()]);
});
beforeEach(() => sandbox.clearFaults());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let prefixes = 0;
const newPrefix = () => `guarantee${++prefixes}:`;
const readonly = () => Object.assign(new Error("READONLY You can't write against a read only replica."), { name: 'ReplyError' });

function manager(store: TokenStore, options: Partial<TokenManagerOptions> = {}, url = sandbox.url): TokenManager {
  return new TokenManager({ refresher: new TokenRefresher().use(hubspotStrategy(url)), store, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 }, ...options });
}

/** A logged-in user whose access token has expired (at the provider too), saved through `m`. */
async function expiredUser(m: TokenManager, userKey: string): Promise<TokenSet> {
  const tokens = await login(sandbox.url);
  sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
  await m.save(userKey, 'hubspot', expired(tokens));
  return tokens;
}

/** The refresh token the store holds for `userKey` is one the provider still honours. */
async function storeHoldsLiveGrant(store: TokenStore, userKey: string): Promise<TokenSet> {
  const stored = await store.get(storeKey(userKey, 'hubspot'));
  expect(stored?.refreshToken).toEqual(expect.any(String));
  expect((await rawRefresh(sandbox.url, stored?.refreshToken as string)).status).toBe(200);
  return stored as TokenSet;
}

test('defect 1: a rotated set the store refuses for longer than the lock ttl is not lost; the other process waits instead of refreshing with the revoked token', async () => {
  const prefix = newPrefix();
  const inner = new RedisTokenStore({ client: redis.client(), prefix });
  let refuseUntil = 0;
  // P1's store connection refuses writes for 1.2 s (its lock, on another connection, keeps working).
  const p1Store: TokenStore = {
    get: (key) => inner.get(key),
    set: async (key, tokens) => {
      if (Date.now() < refuseUntil) throw readonly();
      return inner.set(key, tokens);
    },
    delete: (key) => inner.delete(key),
  };
  const p1 = manager(p1Store, { lock: new RedisLock({ client: redis.client(), ttlMs: 500 }) });
  const p2Store = new RedisTokenStore({ client: redis.client(), prefix });
  const p2 = manager(p2Store, { lock: new RedisLock({ client: redis.client(), ttlMs: 500 }) });
  const old = await expiredUser(p2, 'd1');
  const before = refreshCount(sandbox);
  refuseUntil = Date.now() + 1200;
  const fromP1 = await p1.getAccessToken('d1', 'hubspot');
  // Past P1's lock ttl, while P1 still cannot save: P2 must wait for P1's set, not refresh RT0.
  await sleep(700);
  const fromP2 = await p2.getAccessToken('d1', 'hubspot');
  expect(fromP2).toBe(fromP1);
  expect(refreshCount(sandbox) - before).toBe(1);
  const stored = await storeHoldsLiveGrant(p2Store, 'd1');
  expect(stored.refreshToken).not.toBe(old.refreshToken);
});

test('defect 2: the lock lost mid-refresh and the holder late to save: the other process\'s invalid_grant does not delete the grant the holder is saving', async () => {
  const prefix = newPrefix();
  const inner = new RedisTokenStore({ client: redis.client(), prefix });
  const real = new RedisLock({ client: redis.client(), ttlMs: 150 });
  let extensions = 0;
  // P1's lock: the check before presenting passes, then every extension fails (a Redis blip), so it expires.
  const lossy: RefreshLock = { ttlMs: 150, acquire: (n) => real.acquire(n), release: (n, t) => real.release(n, t), extend: async () => extensions++ === 0 };
  let lateBy = 0;
  let gets = 0;
  const p1Store: TokenStore = {
    // Its three reads before presenting are quick; any read after them (a save-time read) is late.
    get: async (key) => {
      if (lateBy > 0 && ++gets > 3) await sleep(lateBy);
      return inner.get(key);
    },
    set: (key, tokens) => inner.set(key, tokens),
    delete: (key) => inner.delete(key),
    // P1's save-time write arrives late (a slow Redis), after P2 has acted.
    replace: async (key, from, tokens) => {
      await sleep(lateBy);
      return inner.replace(key, from, tokens);
    },
    retire: (key, rt) => inner.retire(key, rt),
  };
  const p1 = manager(p1Store, { lock: lossy });
  const p2Store = new RedisTokenStore({ client: redis.client(), prefix });
  const p2 = manager(p2Store, { lock: new RedisLock({ client: redis.client(), ttlMs: 150 }) });
  await expiredUser(p2, 'd2');
  lateBy = 600;
  const fromP1 = p1.getAccessToken('d2', 'hubspot');
  await sleep(300);
  // P2 takes the expired lock and presents RT0, which P1 has already rotated: invalid_grant.
  await expect(p2.getAccessToken('d2', 'hubspot')).rejects.toMatchObject({ reason: 'invalid_grant' });
  const token = await fromP1;
  // P1's set reached the store over the retired record: the grant lives, and P2 now serves it.
  const stored = await storeHoldsLiveGrant(p2Store, 'd2');
  expect(stored.accessToken).toBe(token);
  await expect(p2.getAccessToken('d2', 'hubspot')).resolves.toBe(token);
});

describe('defect 3: a set the store refuses is saved in the background, and flushed on shutdown', () => {
  test('idle: with no further call for that user, the set reaches the store once it takes writes again', async () => {
    const prefix = newPrefix();
    const admin = redis.client();
    const store = new RedisTokenStore({ client: redis.client(), prefix });
    const m = manager(store, { lock: new RedisLock({ client: redis.client(), ttlMs: 500 }) });
    const old = await expiredUser(m, 'd3-idle');
    // Redis starts refusing writes while the provider is answering (as a failover does).
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 200, times: 1 });
    const token = m.getAccessToken('d3-idle', 'hubspot');
    await sleep(100);
    await admin.config('SET', 'min-replicas-to-write', '1');
    try {
      await expect(token).resolves.not.toBe(old.accessToken);
      expect(m.unsavedCount).toBe(1);
      expect((await store.get(storeKey('d3-idle', 'hubspot')))?.refreshToken).toBe(old.refreshToken);
    } finally {
      await admin.config('SET', 'min-replicas-to-write', '0');
    }
    const deadline = Date.now() + 5000;
    while (m.unsavedCount > 0 && Date.now() < deadline) await sleep(20);
    expect(m.unsavedCount).toBe(0);
    expect((await storeHoldsLiveGrant(store, 'd3-idle')).accessToken).toBe(await token);
  });

  test('graceful shutdown: close() keeps retrying until the store takes the set, and reports none lost', async () => {
    const prefix = newPrefix();
    const admin = redis.client();
    const store = new RedisTokenStore({ client: redis.client(), prefix });
    const m = manager(store, { lock: new RedisLock({ client: redis.client(), ttlMs: 500 }) });
    await expiredUser(m, 'd3-close');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 200, times: 1 });
    const token = m.getAccessToken('d3-close', 'hubspot');
    await sleep(100);
    await admin.config('SET', 'min-replicas-to-write', '1');
    await token;
    // SIGTERM arrives while Redis still refuses writes; it recovers 400 ms into the shutdown.
    const closing = m.close(3000);
    await sleep(400);
    await admin.config('SET', 'min-replicas-to-write', '0');
    await expect(closing).resolves.toBe(0);
    expect((await storeHoldsLiveGrant(store, 'd3-close')).accessToken).toBe(await token);
  });

  test('close() with the store still down gives up at its deadline and reports the set as lost', async () => {
    const inner = new RedisTokenStore({ client: redis.client(), prefix: newPrefix() });
    let refuse = false;
    const store: TokenStore = {
      get: (key) => inner.get(key),
      set: async (key, tokens) => (refuse ? Promise.reject(readonly()) : inner.set(key, tokens)),
      delete: (key) => inner.delete(key),
    };
    const m = manager(store);
    await expiredUser(m, 'd3-lost');
    refuse = true;
    await m.getAccessToken('d3-lost', 'hubspot');
    expect(m.unsavedCount).toBe(1);
    const started = Date.now();
    await expect(m.close(300)).resolves.toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

test('a Redis that refuses writes for longer than the lock ttl right after the rotation: at recovery no other process presents the old token (reuse detection keeps the grant)', async () => {
  const strict = await startProvider({ refreshTokenReuse: 'revoke-grant' });
  try {
    const prefix = newPrefix();
    const admin = redis.client();
    const p1Store = new RedisTokenStore({ client: redis.client(), prefix });
    const p2Store = new RedisTokenStore({ client: redis.client(), prefix });
    const p1 = manager(p1Store, { lock: new RedisLock({ client: redis.client(), ttlMs: 300 }), saveHoldMs: 3000 }, strict.url);
    const p2 = manager(p2Store, { lock: new RedisLock({ client: redis.client(), ttlMs: 300 }), saveHoldMs: 3000 }, strict.url);
    const tokens = await login(strict.url);
    strict.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
    await p2.save('hold', 'hubspot', expired(tokens));
    strict.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 200, times: 1 });
    const fromP1 = p1.getAccessToken('hold', 'hubspot');
    await sleep(100);
    await admin.config('SET', 'min-replicas-to-write', '1');
    try {
      await fromP1;
      expect(p1.unsavedCount).toBe(1);
      await sleep(700); // past the lock's 300 ms ttl: it could not be extended either
    } finally {
      await admin.config('SET', 'min-replicas-to-write', '0');
    }
    // Writes are back: P2 asks at once, before P1's background save. The lock still holds it off.
    await expect(p2.getAccessToken('hold', 'hubspot')).resolves.toBe(await fromP1);
    expect(strict.audit().hubspot).toMatchObject({ rotatedPresented: 0, grantsRevokedByReuse: 0 });
    const stored = await p2Store.get(storeKey('hold', 'hubspot'));
    expect(strict.refreshTokenStatus('hubspot', stored?.refreshToken as string).live).toBe(true);
  } finally {
    await strict.close();
  }
});

test('while Redis refuses writes, a token inside the skew that has not expired is served instead of an error; an expired one gets the error', async () => {
  const admin = redis.client();
  const store = new RedisTokenStore({ client: redis.client(), prefix: newPrefix() });
  const m = manager(store, { lock: new RedisLock({ client: redis.client(), ttlMs: 500 }), skewSeconds: 60 });
  const tokens = await login(sandbox.url);
  await m.save('skew', 'hubspot', { ...tokens, expiresAt: Date.now() + 30_000 });
  await m.save('gone', 'hubspot', expired(await login(sandbox.url)));
  await admin.config('SET', 'min-replicas-to-write', '1');
  try {
    await expect(m.getAccessToken('skew', 'hubspot')).resolves.toBe(tokens.accessToken);
    await expect(m.getAccessToken('gone', 'hubspot')).rejects.toThrow(/NOREPLICAS/);
  } finally {
    await admin.config('SET', 'min-replicas-to-write', '0');
  }
  await expect(m.getAccessToken('skew', 'hubspot')).resolves.not.toBe(tokens.accessToken);
});

test.each([['logout (delete)'], ['login (save)']])('a %s the store refuses while a refresh is in flight does not make the refresh drop its rotated set (chaos seed 1274)', async (what) => {
  const prefix = newPrefix();
  const inner = new RedisTokenStore({ client: redis.client(), prefix });
  let refuse = false;
  const store: TokenStore = {
    get: (key) => inner.get(key),
    set: async (key, tokens) => (refuse ? Promise.reject(readonly()) : inner.set(key, tokens)),
    delete: async (key) => (refuse ? Promise.reject(readonly()) : inner.delete(key)),
    replace: (key, from, tokens) => inner.replace(key, from, tokens),
    retire: (key, rt) => inner.retire(key, rt),
  };
  const m = manager(store, { lock: new RedisLock({ client: redis.client(), ttlMs: 2000 }) });
  const old = await expiredUser(m, 'seed1274');
  sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 300, times: 1 });
  const refreshed = m.getAccessToken('seed1274', 'hubspot');
  await sleep(100);
  refuse = true;
  const attempt = what.startsWith('logout') ? m.delete('seed1274', 'hubspot') : m.save('seed1274', 'hubspot', await login(sandbox.url));
  await expect(attempt).rejects.toThrow(/READONLY/);
  refuse = false;
  const token = await refreshed;
  expect(token).not.toBe(old.accessToken);
  const stored = await storeHoldsLiveGrant(inner, 'seed1274');
  expect(stored.accessToken).toBe(token);
});

test('defect 4: failing members are postponed with backoff, so they never stand in front of a due token (batchSize 3)', async () => {
  const client = redis.client();
  const key = `${newPrefix()}schedule`;
  const store = new RedisTokenStore({ client, prefix: newPrefix() });
  const m = manager(store, { schedule: { client, key } });
  const errors: { failures: number; gaveUp: boolean }[] = [];
  const scheduler = new RefreshScheduler({ manager: m, aheadSeconds: 300, intervalMs: 60_000, batchSize: 3, maxFailures: 2, onError: (e) => errors.push(e) });
  // Three members of a provider no strategy is registered for, due before the HubSpot token.
  const soon = Date.now() + 60_000;
  for (const user of ['a', 'b', 'c']) {
    await store.set(storeKey(user, 'unregistered'), { accessToken: 'x', refreshToken: 'y', tokenType: 'Bearer', expiresAt: soon - 1000, raw: {} });
    await client.zadd(key, soon - 1000, storeKey(user, 'unregistered'));
  }
  const tokens = await login(sandbox.url);
  await m.save('d4', 'hubspot', { ...tokens, expiresAt: soon });
  const before = refreshCount(sandbox);
  const first = await scheduler.tick();
  expect(first).toMatchObject({ due: 3, failed: 3 });
  const second = await scheduler.tick();
  expect(second).toMatchObject({ due: 1, refreshed: 1, failed: 0 });
  expect(refreshCount(sandbox) - before).toBe(1);
  // Not tried again on every pass: postponed past the window.
  expect((await scheduler.tick()).due).toBe(0);
  expect(errors.map((e) => e.failures)).toEqual([1, 1, 1]);
  // After maxFailures in a row a member leaves the schedule (its token still refreshes on demand).
  await client.zadd(key, soon - 1000, storeKey('a', 'unregistered'));
  await scheduler.tick();
  expect(errors.at(-1)).toMatchObject({ failures: 2, gaveUp: true });
  expect(await client.zscore(key, storeKey('a', 'unregistered'))).toBeNull();
});

test('defect 5: an API that rejects every token: 5 fetch calls make 6 API requests and 1 refresh, not 10 and 5', async () => {
  let requests = 0;
  const api = await listen((_req, res) => {
    requests++;
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"missing scope"}');
  });
  try {
    const m = manager(new RedisTokenStore({ client: redis.client(), prefix: newPrefix() }));
    const tokens = await login(sandbox.url);
    await m.save('d5', 'hubspot', tokens);
    const before = refreshCount(sandbox);
    for (let i = 0; i < 5; i++) expect((await m.fetch('d5', 'hubspot', api.url)).status).toBe(401);
    expect(requests).toBe(6);
    expect(refreshCount(sandbox) - before).toBe(1);
  } finally {
    api.server.close();
  }
});

describe('defect 6: a hostile refresh answer', () => {
  async function hostileProvider(body: string) {
    const provider = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    const store = new RedisTokenStore({ client: redis.client(), prefix: newPrefix() });
    const errors: RefreshErrorEvent[] = [];
    const m = new TokenManager({
      refresher: new TokenRefresher().use(hubspotStrategy(provider.url, { tokenURL: `${provider.url}/token` })),
      store,
      onError: (e) => errors.push(e),
    });
    await m.save('d6', 'hubspot', { accessToken: 'old-at', refreshToken: 'old-rt', tokenType: 'Bearer', expiresAt: Date.now() - 1000, raw: {} });
    return { provider, store, m, errors };
  }

  test('nested 300 000 deep: the tokens are saved with the answer trimmed, and the next calls keep working', async () => {
    const deep = `${'['.repeat(300_000)}${']'.repeat(300_000)}`;
    const { provider, store, m, errors } = await hostileProvider(`{"access_token":"new-at","refresh_token":"new-rt","expires_in":1800,"x":${deep}}`);
    try {
      await expect(m.getAccessToken('d6', 'hubspot')).resolves.toBe('new-at');
      const stored = await store.get(storeKey('d6', 'hubspot'));
      expect(stored).toMatchObject({ accessToken: 'new-at', refreshToken: 'new-rt' });
      expect(stored?.raw.x).toBeUndefined();
      expect(errors.map((e) => e.reason)).toEqual(['invalid_answer']);
      await expect(m.getAccessToken('d6', 'hubspot')).resolves.toBe('new-at');
    } finally {
      provider.server.close();
    }
  });

  test.each([['-5'], ['"soon"'], ['1e999']])('expires_in %s is not "never expires": the token gets a short assumed lifetime', async (expiresIn) => {
    const { provider, store, m } = await hostileProvider(`{"access_token":"new-at","refresh_token":"new-rt","expires_in":${expiresIn}}`);
    try {
      const before = Date.now();
      await m.getAccessToken('d6', 'hubspot');
      const stored = (await store.get(storeKey('d6', 'hubspot'))) as TokenSet;
      expect(stored.expiresAt).toBeGreaterThanOrEqual(before + ASSUMED_LIFETIME_MS - 1000);
      expect(stored.expiresAt).toBeLessThanOrEqual(Date.now() + ASSUMED_LIFETIME_MS);
    } finally {
      provider.server.close();
    }
  });

  test('900 KB of id and name values (under the 1 MiB cap) are not stored', async () => {
    const big = 'x'.repeat(450_000);
    const { provider, store, m } = await hostileProvider(`{"access_token":"new-at","refresh_token":"new-rt","expires_in":1800,"id":"${big}","name":"${big}"}`);
    try {
      await m.getAccessToken('d6', 'hubspot');
      const stored = (await store.get(storeKey('d6', 'hubspot'))) as TokenSet;
      expect(JSON.stringify(stored).length).toBeLessThan(10_000);
      expect(stored.refreshToken).toBe('new-rt');
    } finally {
      provider.server.close();
    }
  });

  test('an access token of 100 000 characters is refused with a typed error, and the stored grant is left as it was', async () => {
    const { provider, store, m } = await hostileProvider(`{"access_token":"${'a'.repeat(100_000)}","refresh_token":"new-rt","expires_in":1800}`);
    try {
      await expect(m.getAccessToken('d6', 'hubspot')).rejects.toMatchObject({ code: 'OAUTH_UNEXPECTED_RESPONSE' });
      expect((await store.get(storeKey('d6', 'hubspot')))?.refreshToken).toBe('old-rt');
    } finally {
      provider.server.close();
    }
  });
});

test('defect 7: a login saved by another process while a refresh is being written keeps the store', async () => {
  const prefix = newPrefix();
  let slowWrites = 0;
  const raw = redis.client();
  // A's connection is slow to write (its store write lands 300 ms late); its reads are not.
  const slowClient = new Proxy(raw, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      if (property === 'set' || property === 'eval') {
        return async (...args: unknown[]) => {
          if (slowWrites > 0) await sleep(slowWrites);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  }) as unknown as RedisClient;
  const a = manager(new RedisTokenStore({ client: slowClient, prefix }), { lock: new RedisLock({ client: redis.client(), ttlMs: 2000 }) });
  const bStore = new RedisTokenStore({ client: redis.client(), prefix });
  const b = manager(bStore, { lock: new RedisLock({ client: redis.client(), ttlMs: 2000 }) });
  await expiredUser(b, 'd7');
  slowWrites = 300;
  const refreshed = a.getAccessToken('d7', 'hubspot');
  await sleep(150);
  // Meanwhile the user logs in again on B.
  const relogin = await login(sandbox.url);
  await b.save('d7', 'hubspot', relogin);
  await refreshed;
  const stored = await bStore.get(storeKey('d7', 'hubspot'));
  expect(stored?.refreshToken).toBe(relogin.refreshToken);
  expect(stored?.accessToken).toBe(relogin.accessToken);
});

interface Listening {
  server: Server;
  url: string;
}

function listen(handler: Parameters<typeof createServer>[1]): Promise<Listening> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

export type { Redis };
