/**
 * TokenManager on fault paths: a lock lost mid-refresh, a store that refuses the rotated tokens, a
 * logout during a refresh, a slow holder, a holder that fails. Real Redis, the real sandbox; where a
 * fault cannot be produced for real (a READONLY replica, an OOM schedule write), a real store or client
 * is wrapped so that one command fails.
 */
import type { TokenSet } from '@passport-martech/oauth2';
import type { RunningSandbox } from '@passport-martech/sandbox';
import {
  MemoryTokenStore,
  ReauthenticationRequiredError,
  RedisLock,
  RedisTokenStore,
  TokenManager,
  TokenRefresher,
  storeKey,
  type RedisClient,
  type RefreshErrorEvent,
  type RefreshEvent,
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
const newPrefix = () => `faults${++prefixes}:`;

function makeManager(options: Partial<TokenManagerOptions> & { timeout?: number } = {}) {
  const events = { refreshes: [] as RefreshEvent[], errors: [] as RefreshErrorEvent[] };
  const { timeout, ...rest } = options;
  const manager = new TokenManager({
    refresher: new TokenRefresher().use(hubspotStrategy(sandbox.url, timeout ? { timeout } : {})),
    store: new MemoryTokenStore(),
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    onRefresh: (e) => events.refreshes.push(e),
    onError: (e) => events.errors.push(e),
    ...rest,
  });
  return { manager, events };
}

/** A logged-in user whose access token has expired (at the provider too). */
async function expiredUser(manager: TokenManager, userKey: string): Promise<TokenSet> {
  const tokens = await login(sandbox.url);
  sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
  await manager.save(userKey, 'hubspot', expired(tokens));
  return tokens;
}

/** What ioredis throws when the Redis it writes to became a read-only replica (a failover). */
const readonly = () => Object.assign(new Error("READONLY You can't write against a read only replica."), { name: 'ReplyError' });

/** A real RedisTokenStore whose writes can be made to fail: `failSets` times, or while `failing`. */
function flakyStore(prefix: string) {
  const inner = new RedisTokenStore({ client: redis.client(), prefix });
  const control = { failSets: 0, failing: false, gets: 0 };
  const store: TokenStore = {
    get: (key) => {
      control.gets++;
      return inner.get(key);
    },
    set: async (key, tokens, ttl) => {
      if (control.failing || control.failSets > 0) {
        control.failSets = Math.max(0, control.failSets - 1);
        throw readonly();
      }
      return inner.set(key, tokens, ttl);
    },
    delete: (key) => inner.delete(key),
  };
  return { store, control };
}

/** A real ioredis client whose commands named in `failing` reject. */
function clientFailing(failing: string[], message = 'OOM command not allowed when used memory > maxmemory'): RedisClient {
  const client = redis.client();
  return new Proxy(client, {
    get(target, property) {
      if (typeof property === 'string' && failing.includes(property)) return () => Promise.reject(new Error(message));
      const value = Reflect.get(target, property) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as RedisClient;
}

async function waitForKey(key: string): Promise<void> {
  const client = redis.client();
  const deadline = Date.now() + 5000;
  while (!(await client.exists(key))) {
    if (Date.now() > deadline) throw new Error(`${key} never appeared`);
    await sleep(5);
  }
}

describe('invalid_grant after another process already rotated the token (review 1.1)', () => {
  test('the holder that lost its lock returns the tokens the other process saved, instead of ReauthenticationRequiredError', async () => {
    const prefix = newPrefix();
    const real = new RedisLock({ client: redis.client(), ttlMs: 100 });
    // P1 loses its lock mid-refresh, as in a Redis blip: the check right before it presents the refresh
    // token passes, every extension after it fails, so the lock expires 100 ms later.
    let extensions = 0;
    const lossy: RefreshLock = { ttlMs: 100, acquire: (name) => real.acquire(name), release: async () => true, extend: async () => extensions++ === 0 };
    const p1 = makeManager({ store: new RedisTokenStore({ client: redis.client(), prefix }), lock: lossy });
    const p2 = makeManager({ store: new RedisTokenStore({ client: redis.client(), prefix }), lock: new RedisLock({ client: redis.client(), ttlMs: 100 }) });
    const old = await expiredUser(p1.manager, 'lost-lock');
    // P1's refresh request is answered late: P2, which took the expired lock meanwhile, rotates RT1 first.
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 400, times: 1 });
    const before = refreshCount(sandbox);
    const first = p1.manager.getAccessToken('lost-lock', 'hubspot').catch((e: unknown) => e);
    await sleep(200);
    const second = await p2.manager.getAccessToken('lost-lock', 'hubspot');
    expect(await first).toBe(second);
    expect(refreshCount(sandbox) - before).toBe(2);
    expect(p1.events.errors).toEqual([]);
    const stored = (await p2.manager.get('lost-lock', 'hubspot')) as TokenSet;
    expect(stored.accessToken).toBe(second);
    expect(stored.refreshToken).not.toBe(old.refreshToken);
    expect((await rawRefresh(sandbox.url, stored.refreshToken as string)).status).toBe(200);
  });

  test('when the store still holds the refresh token that failed, it is still ReauthenticationRequiredError and the tokens are deleted', async () => {
    const { manager } = makeManager({ store: new RedisTokenStore({ client: redis.client(), prefix: newPrefix() }) });
    const old = await expiredUser(manager, 'really-revoked');
    sandbox.revoke({ provider: 'hubspot', refreshToken: old.refreshToken });
    await expect(manager.getAccessToken('really-revoked', 'hubspot')).rejects.toMatchObject({ reason: 'invalid_grant' });
    await expect(manager.get('really-revoked', 'hubspot')).resolves.toBeUndefined();
  });
});

describe('a store that refuses the rotated tokens (review 1.2)', () => {
  test('a write that fails once after the rotation is retried: the new refresh token is saved, the chain intact', async () => {
    const { store, control } = flakyStore(newPrefix());
    const { manager, events } = makeManager({ store });
    const old = await expiredUser(manager, 'save-once');
    control.failSets = 1;
    const token = await manager.getAccessToken('save-once', 'hubspot');
    expect(token).not.toBe(old.accessToken);
    expect(events.errors).toEqual([]);
    const stored = (await manager.get('save-once', 'hubspot')) as TokenSet;
    expect(stored.accessToken).toBe(token);
    expect(stored.refreshToken).not.toBe(old.refreshToken);
    expect((await rawRefresh(sandbox.url, stored.refreshToken as string)).status).toBe(200);
  });

  test('a store that keeps failing: the set is kept in memory and served; once the store is back it is saved in the background, with no call and no provider request', async () => {
    const { store, control } = flakyStore(newPrefix());
    const { manager, events } = makeManager({ store });
    const old = await expiredUser(manager, 'save-later');
    control.failing = true;
    const before = refreshCount(sandbox);
    const token = await manager.getAccessToken('save-later', 'hubspot');
    expect(token).not.toBe(old.accessToken);
    expect(events.errors).toEqual([expect.objectContaining({ reason: 'save_failed', provider: 'hubspot', userKey: 'save-later' })]);
    expect(events.errors[0].error.message).toMatch(/READONLY/);
    // Still failing: served from memory, no second refresh (the provider has revoked the stored RT1).
    await expect(manager.getAccessToken('save-later', 'hubspot')).resolves.toBe(token);
    expect((await store.get(storeKey('save-later', 'hubspot')))?.refreshToken).toBe(old.refreshToken);
    // The store is back: the background save takes the kept set, with nobody asking for it.
    control.failing = false;
    const deadline = Date.now() + 5000;
    while (manager.unsavedCount > 0 && Date.now() < deadline) await sleep(20);
    expect(manager.unsavedCount).toBe(0);
    await expect(manager.getAccessToken('save-later', 'hubspot')).resolves.toBe(token);
    expect(refreshCount(sandbox) - before).toBe(1);
    const stored = (await manager.get('save-later', 'hubspot')) as TokenSet;
    expect(stored.accessToken).toBe(token);
    expect(stored.refreshToken).not.toBe(old.refreshToken);
    expect((await rawRefresh(sandbox.url, stored.refreshToken as string)).status).toBe(200);
  });

  test('a failing schedule write (zadd/zrem) fails neither a login save, a refresh nor a delete; it is reported', async () => {
    const { manager, events } = makeManager({
      store: new RedisTokenStore({ client: redis.client(), prefix: newPrefix() }),
      schedule: { client: clientFailing(['zadd', 'zrem']), key: 'faults:schedule' },
    });
    const tokens = await login(sandbox.url);
    await expect(manager.save('sched-oom', 'hubspot', expired(tokens))).resolves.toBeUndefined();
    await expect(manager.getAccessToken('sched-oom', 'hubspot')).resolves.toMatch(/^hubspot-at-/);
    await expect(manager.delete('sched-oom', 'hubspot')).resolves.toBeUndefined();
    expect(events.errors.map((e) => e.reason)).toEqual(['schedule_failed', 'schedule_failed', 'schedule_failed']);
    expect(events.errors[0].error.message).toMatch(/OOM/);
    expect(events.refreshes).toHaveLength(1);
  });
});

describe('delete() during an in-flight refresh (review 1.3)', () => {
  test.each([['by this manager'], ['by another process']])('is not undone when done %s: waiters get ReauthenticationRequiredError (deleted), nothing is stored or scheduled', async (label) => {
    const prefix = newPrefix();
    const client = redis.client();
    const schedule = { client, key: `${prefix}schedule` };
    const { manager } = makeManager({ store: new RedisTokenStore({ client, prefix }), lock: new RedisLock({ client, ttlMs: 2000 }), schedule });
    const other =
      label === 'by this manager'
        ? manager
        : makeManager({ store: new RedisTokenStore({ client: redis.client(), prefix }), lock: new RedisLock({ client: redis.client(), ttlMs: 2000 }), schedule }).manager;
    await expiredUser(manager, 'logout');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 300, times: 1 });
    const waiters = Array.from({ length: 10 }, () => manager.getAccessToken('logout', 'hubspot').catch((e: unknown) => e));
    await sleep(100);
    await other.delete('logout', 'hubspot');
    for (const error of await Promise.all(waiters)) {
      expect(error).toBeInstanceOf(ReauthenticationRequiredError);
      expect(error).toMatchObject({ reason: 'deleted', provider: 'hubspot', userKey: 'logout' });
    }
    await expect(manager.get('logout', 'hubspot')).resolves.toBeUndefined();
    expect(await client.zscore(schedule.key, storeKey('logout', 'hubspot'))).toBeNull();
  });
});

describe('save() (a new login) during a refresh', () => {
  test('a save during the provider call keeps the store; the callers get the token just refreshed', async () => {
    const { manager } = makeManager({ store: new RedisTokenStore({ client: redis.client(), prefix: newPrefix() }), lock: new RedisLock({ client: redis.client() }) });
    await expiredUser(manager, 'relogin-during');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 300, times: 1 });
    const refreshing = manager.getAccessToken('relogin-during', 'hubspot');
    await sleep(100);
    const relogin = await login(sandbox.url);
    await manager.save('relogin-during', 'hubspot', relogin);
    const token = await refreshing;
    expect(token).toMatch(/^hubspot-at-/);
    expect(token).not.toBe(relogin.accessToken);
    await expect(manager.get('relogin-during', 'hubspot')).resolves.toMatchObject({ accessToken: relogin.accessToken, refreshToken: relogin.refreshToken });
  });

  test('a save while the refresh waits for the lock is what gets refreshed, and its rotation is saved', async () => {
    const client = redis.client();
    const { manager } = makeManager({ store: new RedisTokenStore({ client, prefix: newPrefix() }), lock: new RedisLock({ client }), lockPollMs: 10 });
    await expiredUser(manager, 'relogin-waiting');
    // Another process holds the lock and will give up without a result.
    const other = new RedisLock({ client: redis.client() });
    const name = `refresh:${storeKey('relogin-waiting', 'hubspot')}`;
    const held = (await other.acquire(name)) as string;
    const waiting = manager.getAccessToken('relogin-waiting', 'hubspot');
    await sleep(50);
    const relogin = await login(sandbox.url);
    await manager.save('relogin-waiting', 'hubspot', expired(relogin));
    await other.release(name, held);
    const token = await waiting;
    const stored = (await manager.get('relogin-waiting', 'hubspot')) as TokenSet;
    expect(stored.accessToken).toBe(token);
    expect(stored.refreshToken).not.toBe(relogin.refreshToken);
    expect((await rawRefresh(sandbox.url, stored.refreshToken as string)).status).toBe(200);
  });
});

test('the default lockWaitMs covers a slow live holder (attempts × timeout + backoff + ttl), not 2 × ttl + 1 s (review 1.4)', async () => {
  const prefix = newPrefix();
  // Two "processes" sharing Redis. Lock ttl 100 ms: the old default wait was 2 × 100 + 1 000 = 1.2 s.
  const side = () => ({ store: new RedisTokenStore({ client: redis.client(), prefix }), lock: new RedisLock({ client: redis.client(), ttlMs: 100 }), timeout: 3000 });
  const holder = makeManager(side());
  const waiter = makeManager(side());
  await expiredUser(holder.manager, 'slow-holder');
  // The provider answers after 1.6 s, within the 3 s timeout; the holder keeps its lock alive meanwhile.
  sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 1600, times: 1 });
  const before = refreshCount(sandbox);
  const first = holder.manager.getAccessToken('slow-holder', 'hubspot');
  await waitForKey(`lock:refresh:${storeKey('slow-holder', 'hubspot')}`);
  const second = waiter.manager.getAccessToken('slow-holder', 'hubspot');
  const [a, b] = await Promise.all([first, second]);
  expect(b).toBe(a);
  expect(refreshCount(sandbox) - before).toBe(1);
  expect(waiter.events.errors).toEqual([]);
});

test('no refresh token: a token inside the skew is served until it has expired, then no_refresh_token (review 1.8)', async () => {
  const { manager } = makeManager({ skewSeconds: 60, store: new RedisTokenStore({ client: redis.client(), prefix: newPrefix() }), lock: new RedisLock({ client: redis.client() }) });
  const tokens = await login(sandbox.url);
  await manager.save('no-rt-valid', 'hubspot', { ...tokens, refreshToken: undefined, expiresAt: Date.now() + 30_000 });
  const before = refreshCount(sandbox);
  await expect(manager.getAccessToken('no-rt-valid', 'hubspot')).resolves.toBe(tokens.accessToken);
  await manager.save('no-rt-valid', 'hubspot', { ...tokens, refreshToken: undefined, expiresAt: Date.now() - 1 });
  await expect(manager.getAccessToken('no-rt-valid', 'hubspot')).rejects.toMatchObject({ reason: 'no_refresh_token' });
  expect(refreshCount(sandbox)).toBe(before);
});

test('1 000 concurrent callers share one store read, and callers arriving during the refresh join it without a read (review 1.9)', async () => {
  const { store, control } = flakyStore(newPrefix());
  const { manager } = makeManager({ store, lock: new RedisLock({ client: redis.client(), ttlMs: 2000 }) });
  const old = await expiredUser(manager, 'reads');
  sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 200, times: 1 });
  control.gets = 0;
  const before = refreshCount(sandbox);
  const first = Promise.all(Array.from({ length: 1000 }, () => manager.getAccessToken('reads', 'hubspot')));
  await sleep(100);
  const readsBeforeLate = control.gets;
  const late = Promise.all(Array.from({ length: 1000 }, () => manager.getAccessToken('reads', 'hubspot')));
  const tokens = [...(await first), ...(await late)];
  expect(new Set(tokens).size).toBe(1);
  expect(tokens[0]).not.toBe(old.accessToken);
  expect(refreshCount(sandbox) - before).toBe(1);
  // The shared entry read, the flight's read, its re-read under the lock, the check before saving.
  expect(control.gets).toBeLessThanOrEqual(5);
  expect(control.gets - readsBeforeLate).toBeLessThanOrEqual(1);
});

describe("a holder's failure reaches the waiters in other processes (review 1.5)", () => {
  const twoProcesses = () => {
    const prefix = newPrefix();
    const side = () => ({
      store: new RedisTokenStore({ client: redis.client(), prefix }),
      lock: new RedisLock({ client: redis.client(), ttlMs: 2000 }),
      retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 100 },
    });
    return [makeManager(side()), makeManager(side())];
  };

  test('503 after the retries: the waiter throws the same typed error without its own tries', async () => {
    const [holder, waiter] = twoProcesses();
    await expiredUser(holder.manager, 'down');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'http503' });
    const before = refreshCount(sandbox);
    const first = holder.manager.getAccessToken('down', 'hubspot').catch((e: unknown) => e);
    await waitForKey(`lock:refresh:${storeKey('down', 'hubspot')}`);
    const second = waiter.manager.getAccessToken('down', 'hubspot').catch((e: unknown) => e);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toMatchObject({ status: 503, code: 'temporarily_unavailable' });
    expect(b).toMatchObject({ status: 503, code: 'temporarily_unavailable', provider: 'hubspot' });
    expect(b).toBeInstanceOf((a as Error).constructor);
    expect(refreshCount(sandbox) - before).toBe(3);
  });

  test('invalid_grant: the waiter gets reason invalid_grant (not no_tokens), with one request in all', async () => {
    const [holder, waiter] = twoProcesses();
    const old = await expiredUser(holder.manager, 'revoked-elsewhere');
    sandbox.revoke({ provider: 'hubspot', refreshToken: old.refreshToken });
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 200, times: 1 });
    const before = refreshCount(sandbox);
    const first = holder.manager.getAccessToken('revoked-elsewhere', 'hubspot').catch((e: unknown) => e);
    await waitForKey(`lock:refresh:${storeKey('revoked-elsewhere', 'hubspot')}`);
    const second = waiter.manager.getAccessToken('revoked-elsewhere', 'hubspot').catch((e: unknown) => e);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toMatchObject({ reason: 'invalid_grant' });
    expect(b).toBeInstanceOf(ReauthenticationRequiredError);
    expect(b).toMatchObject({ reason: 'invalid_grant', provider: 'hubspot', userKey: 'revoked-elsewhere' });
    expect(refreshCount(sandbox) - before).toBe(1);
  });
});

describe('during a Redis failover', () => {
  test('a lock refused with READONLY is tried again within lockWaitMs: the caller gets a refreshed token once Redis takes writes', async () => {
    const client = redis.client();
    const admin = redis.client();
    const { manager, events } = makeManager({ store: new RedisTokenStore({ client, prefix: newPrefix() }), lock: new RedisLock({ client, ttlMs: 5000 }), lockWaitMs: 3000, lockPollMs: 20 });
    const tokens = await expiredUser(manager, 'failover');
    // The server becomes a replica (of nothing): reads work, the lock's SET answers READONLY; a moment
    // later it is a master again, as after a promotion.
    await admin.replicaof('127.0.0.1', 9);
    const asking = manager.getAccessToken('failover', 'hubspot');
    await sleep(150);
    await admin.replicaof('NO', 'ONE');
    const fresh = await asking;
    expect(fresh).not.toBe(tokens.accessToken);
    expect(events.refreshes).toHaveLength(1);
  });

  test('a lock refused with READONLY for longer than lockWaitMs ends in that error (not a hang)', async () => {
    const client = redis.client();
    const admin = redis.client();
    const { manager } = makeManager({ store: new RedisTokenStore({ client, prefix: newPrefix() }), lock: new RedisLock({ client, ttlMs: 5000 }), lockWaitMs: 200, lockPollMs: 20 });
    await expiredUser(manager, 'failover-long');
    await admin.replicaof('127.0.0.1', 9);
    try {
      const started = Date.now();
      await expect(manager.getAccessToken('failover-long', 'hubspot')).rejects.toThrow(/^READONLY/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await admin.replicaof('NO', 'ONE');
    }
  });

  test('a save written but not confirmed by replicas (REPLICA_ACK_TIMEOUT) goes to the background at once, not through the inline retries', async () => {
    const inner = new MemoryTokenStore();
    let replaces = 0;
    let unconfirmed = 1;
    const store: TokenStore = {
      get: (key) => inner.get(key),
      set: (key, value) => inner.set(key, value),
      delete: (key) => inner.delete(key),
      replace: async (key, from, value) => {
        replaces++;
        const written = await (inner.replace as NonNullable<TokenStore['replace']>).call(inner, key, from, value);
        if (unconfirmed-- > 0) throw Object.assign(new Error('1 of 2 replicas acknowledged the write'), { code: 'REPLICA_ACK_TIMEOUT' });
        return written;
      },
    };
    const { manager, events } = makeManager({ store });
    await expiredUser(manager, 'acks');
    const fresh = await manager.getTokenSet('acks', 'hubspot');
    expect(replaces).toBe(1);
    expect(events.errors.map((e) => e.reason)).toEqual(['save_failed']);
    await expect(manager.drain(2000)).resolves.toBe(0);
    await expect(inner.get(storeKey('acks', 'hubspot'))).resolves.toMatchObject({ accessToken: fresh.accessToken });
  });
});
