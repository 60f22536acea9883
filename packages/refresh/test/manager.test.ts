import { OAuthRequestError, OAuthTokenError, type TokenSet } from '@passport-martech/oauth2';
import type { RunningSandbox } from '@passport-martech/sandbox';
import {
  MemoryTokenStore,
  ReauthenticationRequiredError,
  RedisLock,
  RedisTokenStore,
  RefreshErrorCode,
  RefreshLockTimeoutError,
  TokenManager,
  TokenRefresher,
  storeKey,
  type RefreshErrorEvent,
  type RefreshEvent,
  type RetryEvent,
  type TokenManagerOptions,
  type TokenStore,
} from '../src';
import { startRedis, type RedisServer } from './helpers/redis';
import { expired, hubspotApiURL, hubspotStrategy, login, refreshCount, startProvider } from './helpers/provider';

let sandbox: RunningSandbox;
let redis: RedisServer;

beforeAll(async () => {
  [sandbox, redis] = await Promise.all([startProvider(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([sandbox.close(), redis.stop()]);
});
beforeEach(() => sandbox.clearFaults());

interface Recorded {
  refreshes: RefreshEvent[];
  retries: RetryEvent[];
  errors: RefreshErrorEvent[];
}

function makeManager(options: Partial<TokenManagerOptions> & { timeout?: number } = {}): { manager: TokenManager; events: Recorded } {
  const events: Recorded = { refreshes: [], retries: [], errors: [] };
  const { timeout, ...rest } = options;
  const refresher = new TokenRefresher().use(hubspotStrategy(sandbox.url, timeout ? { timeout } : {}));
  const manager = new TokenManager({
    refresher,
    store: new MemoryTokenStore(),
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    onRefresh: (e) => events.refreshes.push(e),
    onRetry: (e) => events.retries.push(e),
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

const redisBacked = () => {
  const client = redis.client();
  return { store: new RedisTokenStore({ client, prefix: `t${Math.random()}:` }), lock: new RedisLock({ client, ttlMs: 5000 }) };
};

describe('getAccessToken', () => {
  test('returns the stored token while it is valid for more than skewSeconds, with no request', async () => {
    const { manager } = makeManager({ skewSeconds: 60 });
    const tokens = await login(sandbox.url);
    await manager.save('fresh', 'hubspot', tokens);
    const before = refreshCount(sandbox);
    await expect(manager.getAccessToken('fresh', 'hubspot')).resolves.toBe(tokens.accessToken);
    expect(refreshCount(sandbox)).toBe(before);
    // Within the skew: refreshed proactively, though not yet expired.
    await manager.save('fresh', 'hubspot', { ...tokens, expiresAt: Date.now() + 30_000 });
    const next = await manager.getAccessToken('fresh', 'hubspot');
    expect(next).not.toBe(tokens.accessToken);
    expect(refreshCount(sandbox)).toBe(before + 1);
  });

  test.each([
    ['a memory store, no lock', () => ({ store: new MemoryTokenStore() })],
    ['a Redis store and a Redis lock', redisBacked],
  ])('1 000 concurrent callers with an expired token: exactly 1 refresh, one new token for all, chain intact (%s)', async (_label, backing) => {
    const { manager, events } = makeManager(backing());
    const old = await expiredUser(manager, 'u1000');
    const before = refreshCount(sandbox);
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => manager.getAccessToken('u1000', 'hubspot')));
    expect(refreshCount(sandbox) - before).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(old.accessToken);
    expect(events.refreshes).toHaveLength(1);
    expect(events.refreshes[0]).toMatchObject({ provider: 'hubspot', userKey: 'u1000', attempt: 1, trigger: 'expiry', rotated: true });
    const stored = (await manager.get('u1000', 'hubspot')) as TokenSet;
    expect(stored.accessToken).toBe(tokens[0]);
    expect(stored.refreshToken).not.toBe(old.refreshToken);
    // The chain: the rotated refresh token in the store works for the next refresh.
    await manager.save('u1000', 'hubspot', expired(stored));
    const third = await manager.getAccessToken('u1000', 'hubspot');
    expect(third).not.toBe(tokens[0]);
    expect(refreshCount(sandbox) - before).toBe(2);
  });

  test('the rotated refresh token is in the store before any caller gets the new access token', async () => {
    const log: string[] = [];
    const inner = new MemoryTokenStore();
    const store: TokenStore = {
      get: (key) => inner.get(key),
      delete: (key) => inner.delete(key),
      set: async (key, tokens) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        await inner.set(key, tokens);
        log.push(`saved ${tokens.refreshToken}`);
      },
    };
    const { manager } = makeManager({ store });
    const old = await expiredUser(manager, 'order');
    log.length = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        manager.getAccessToken('order', 'hubspot').then(async () => log.push(`answered, store has ${(await inner.get(storeKey('order', 'hubspot')))?.refreshToken}`)),
      ),
    );
    const saved = log[0];
    expect(saved).toMatch(/^saved hubspot-rt-/);
    expect(saved).not.toContain(old.refreshToken as string);
    const newRefresh = saved.slice('saved '.length);
    expect(log.slice(1)).toEqual(Array(20).fill(`answered, store has ${newRefresh}`));
  });

  test('a provider that sends no new refresh token: the old one is kept', async () => {
    const store = new MemoryTokenStore();
    const calls: string[] = [];
    const manager = new TokenManager({
      store,
      refresher: {
        refresh: async (_name, refreshToken) => {
          calls.push(refreshToken);
          return { accessToken: `at-${calls.length}`, tokenType: 'Bearer', expiresAt: Date.now() + 3600_000, raw: { access_token: `at-${calls.length}` } };
        },
      },
    });
    await manager.save('keep', 'p', { accessToken: 'at-0', refreshToken: 'rt-original', tokenType: 'Bearer', expiresAt: Date.now() - 1, raw: {} });
    await expect(manager.getAccessToken('keep', 'p')).resolves.toBe('at-1');
    await expect(manager.get('keep', 'p')).resolves.toMatchObject({ accessToken: 'at-1', refreshToken: 'rt-original' });
    expect(calls).toEqual(['rt-original']);
  });

  test('invalid_grant: tokens deleted, ReauthenticationRequiredError for every waiter, one request', async () => {
    const { manager, events } = makeManager();
    const old = await expiredUser(manager, 'revoked');
    sandbox.revoke({ provider: 'hubspot', refreshToken: old.refreshToken });
    const before = refreshCount(sandbox);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => manager.getAccessToken('revoked', 'hubspot')));
    expect(refreshCount(sandbox) - before).toBe(1);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as ReauthenticationRequiredError;
      expect(error).toBeInstanceOf(ReauthenticationRequiredError);
      expect(error).toMatchObject({ code: RefreshErrorCode.REAUTHENTICATION_REQUIRED, provider: 'hubspot', userKey: 'revoked', reason: 'invalid_grant' });
      expect(error.cause).toBeInstanceOf(OAuthTokenError);
    }
    await expect(manager.get('revoked', 'hubspot')).resolves.toBeUndefined();
    expect(events.errors).toHaveLength(1);
    // Later callers: no tokens, no request.
    await expect(manager.getAccessToken('revoked', 'hubspot')).rejects.toMatchObject({ reason: 'no_tokens' });
    expect(refreshCount(sandbox) - before).toBe(1);
  });

  test('invalid_grant from a fault on the refresh endpoint (HubSpot error shape) is recognised too', async () => {
    const { manager } = makeManager({ ...redisBacked() });
    await expiredUser(manager, 'fault-ig');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'invalid_grant', times: 1 });
    await expect(manager.getAccessToken('fault-ig', 'hubspot')).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    await expect(manager.get('fault-ig', 'hubspot')).resolves.toBeUndefined();
  });

  test('no refresh token, or nothing stored: ReauthenticationRequiredError without a request', async () => {
    const { manager } = makeManager();
    const tokens = await login(sandbox.url);
    await manager.save('no-rt', 'hubspot', { ...expired(tokens), refreshToken: undefined });
    const before = refreshCount(sandbox);
    await expect(manager.getAccessToken('no-rt', 'hubspot')).rejects.toMatchObject({ reason: 'no_refresh_token', provider: 'hubspot', userKey: 'no-rt' });
    await expect(manager.getAccessToken('nobody', 'hubspot')).rejects.toMatchObject({ reason: 'no_tokens', code: 'REAUTHENTICATION_REQUIRED' });
    expect(refreshCount(sandbox)).toBe(before);
  });

  test('503 twice, then success: succeeds on the third try after jittered backoff', async () => {
    const { manager, events } = makeManager({ retry: { attempts: 3, baseDelayMs: 30, maxDelayMs: 50 } });
    await expiredUser(manager, 'flaky');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'http503', times: 2 });
    const before = refreshCount(sandbox);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => manager.getAccessToken('flaky', 'hubspot')));
    expect(new Set(tokens).size).toBe(1);
    expect(refreshCount(sandbox) - before).toBe(3);
    expect(events.retries.map((e) => e.attempt)).toEqual([1, 2]);
    for (const retry of events.retries) {
      expect(retry.error).toMatchObject({ status: 503 });
      expect(retry.delayMs).toBeGreaterThanOrEqual(0);
      expect(retry.delayMs).toBeLessThan(50);
    }
    expect(events.refreshes).toEqual([expect.objectContaining({ attempt: 3 })]);
    expect(events.errors).toHaveLength(0);
  });

  test('503 every time: the typed error after the bounded tries; tokens kept', async () => {
    const { manager, events } = makeManager();
    const old = await expiredUser(manager, 'down');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'http503' });
    const before = refreshCount(sandbox);
    const error = await manager.getAccessToken('down', 'hubspot').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503 });
    expect(refreshCount(sandbox) - before).toBe(3);
    expect(events.errors).toHaveLength(1);
    await expect(manager.get('down', 'hubspot')).resolves.toMatchObject({ refreshToken: old.refreshToken });
  });

  test('timeout: OAUTH_TIMEOUT after the bounded retries, quickly', async () => {
    const { manager, events } = makeManager({ timeout: 100 });
    await expiredUser(manager, 'slow');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'delay', delayMs: 1000 });
    const started = Date.now();
    const error = await manager.getAccessToken('slow', 'hubspot').catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(OAuthRequestError);
    expect(error).toMatchObject({ code: 'OAUTH_TIMEOUT' });
    expect(events.retries).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(1500);
  });

  test('a permanent error (invalid_client) is not retried and does not delete the tokens', async () => {
    const { manager, events } = makeManager();
    const refresher = new TokenRefresher().use(hubspotStrategy(sandbox.url, { clientSecret: 'wrong-secret' }));
    const wrong = new TokenManager({ refresher, store: manager.store, onError: (e) => events.errors.push(e) });
    await expiredUser(manager, 'badclient');
    const before = refreshCount(sandbox);
    await expect(wrong.getAccessToken('badclient', 'hubspot')).rejects.toMatchObject({ code: 'invalid_client' });
    expect(refreshCount(sandbox) - before).toBe(1);
    await expect(manager.get('badclient', 'hubspot')).resolves.toBeDefined();
  });

  test('hook events carry no token value', async () => {
    const { manager, events } = makeManager({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const a = await expiredUser(manager, 'hooks');
    sandbox.addFault({ provider: 'hubspot', endpoint: 'refresh', fault: 'http500', times: 1 });
    const fresh = await manager.getTokenSet('hooks', 'hubspot');
    await manager.save('hooks', 'hubspot', expired(fresh));
    sandbox.revoke({ provider: 'hubspot', refreshToken: fresh.refreshToken });
    await manager.getAccessToken('hooks', 'hubspot').catch(() => undefined);
    const dump = JSON.stringify(events, (_key, value) => (value instanceof Error ? { ...value, text: `${value.message} ${String((value as { cause?: unknown }).cause)}` } : value));
    expect(events.refreshes.length + events.retries.length + events.errors.length).toBe(3);
    for (const secret of [a.accessToken, a.refreshToken, fresh.accessToken, fresh.refreshToken]) expect(dump).not.toContain(secret);
  });

  test('a hook that throws does not break the refresh', async () => {
    const { manager } = makeManager({
      onRefresh: () => {
        throw new Error('logger down');
      },
    });
    await expiredUser(manager, 'hookthrow');
    await expect(manager.getAccessToken('hookthrow', 'hubspot')).resolves.toMatch(/^hubspot-at-/);
  });
});

describe('with a RedisLock (in one process)', () => {
  test('a lock held elsewhere that never yields a token: REFRESH_LOCK_TIMEOUT after lockWaitMs, no refresh', async () => {
    const { store, lock } = redisBacked();
    const { manager } = makeManager({ store, lock, lockWaitMs: 300, lockPollMs: 20 });
    await expiredUser(manager, 'stuck');
    const other = new RedisLock({ client: redis.client(), ttlMs: 60_000 });
    const held = await other.acquire(`refresh:${storeKey('stuck', 'hubspot')}`);
    expect(held).not.toBeNull();
    const before = refreshCount(sandbox);
    const started = Date.now();
    const error = (await manager.getAccessToken('stuck', 'hubspot').catch((e: unknown) => e)) as RefreshLockTimeoutError;
    expect(error).toBeInstanceOf(RefreshLockTimeoutError);
    expect(error.code).toBe('REFRESH_LOCK_TIMEOUT');
    expect(error.message).toMatch(/waiting for another process to refresh the "hubspot" token/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(refreshCount(sandbox)).toBe(before);
    await other.release(`refresh:${storeKey('stuck', 'hubspot')}`, held as string);
  });

  test('waiters read the holder’s result from the store instead of refreshing', async () => {
    const { store, lock } = redisBacked();
    const { manager } = makeManager({ store, lock, lockPollMs: 10 });
    const old = await expiredUser(manager, 'waiter');
    const name = `refresh:${storeKey('waiter', 'hubspot')}`;
    const holder = new RedisLock({ client: redis.client(), ttlMs: 5000 });
    const held = (await holder.acquire(name)) as string;
    const waiting = Promise.all(Array.from({ length: 100 }, () => manager.getAccessToken('waiter', 'hubspot')));
    // The "other process": refreshes with the real provider, saves, releases.
    const fresh = await new TokenRefresher().use(hubspotStrategy(sandbox.url)).refresh('hubspot', old.refreshToken as string);
    const before = refreshCount(sandbox);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await manager.save('waiter', 'hubspot', fresh);
    await holder.release(name, held);
    const tokens = await waiting;
    expect(new Set(tokens)).toEqual(new Set([fresh.accessToken]));
    expect(refreshCount(sandbox)).toBe(before);
  });

  test('the lock is released after the refresh (success and failure)', async () => {
    const { store, lock } = redisBacked();
    const { manager } = makeManager({ store, lock });
    const old = await expiredUser(manager, 'release');
    await manager.getAccessToken('release', 'hubspot');
    const client = redis.client();
    expect(await client.exists(`lock:refresh:${storeKey('release', 'hubspot')}`)).toBe(0);
    await manager.save('release', 'hubspot', expired(old));
    await expect(manager.getAccessToken('release', 'hubspot')).rejects.toBeInstanceOf(ReauthenticationRequiredError);
    expect(await client.exists(`lock:refresh:${storeKey('release', 'hubspot')}`)).toBe(0);
  });
});

describe('fetch', () => {
  const api = () => hubspotApiURL(sandbox.url);

  test('sends Authorization: Bearer; on a 401 refreshes once and retries once', async () => {
    const { manager, events } = makeManager();
    const tokens = await login(sandbox.url);
    await manager.save('api', 'hubspot', tokens);
    const ok = await manager.fetch('api', 'hubspot', api());
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { results: unknown[] }).results).toHaveLength(2);
    // The provider stops accepting the token before our clock says it expires.
    sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
    const before = refreshCount(sandbox);
    const responses = await Promise.all(Array.from({ length: 5 }, () => manager.fetch('api', 'hubspot', api(), { headers: { Accept: 'application/json' } })));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(refreshCount(sandbox) - before).toBe(1);
    expect(events.refreshes).toEqual([expect.objectContaining({ trigger: 'rejected' })]);
  });

  test('a 401 that persists is returned after one retry (no loop)', async () => {
    const { manager } = makeManager();
    await manager.save('api2', 'hubspot', await login(sandbox.url));
    const before = refreshCount(sandbox);
    const response = await manager.fetch('api2', 'hubspot', api(), {}, { isTokenRejected: () => true });
    expect(response.status).toBe(200);
    expect(refreshCount(sandbox) - before).toBe(1);
  });

  test('a provider rejection hook (e.g. a 200 carrying an error code) triggers the refresh', async () => {
    const { manager } = makeManager({ isTokenRejected: { hubspot: (r) => r.headers.get('x-never') === null && r.status === 200 } });
    await manager.save('api3', 'hubspot', await login(sandbox.url));
    const before = refreshCount(sandbox);
    await manager.fetch('api3', 'hubspot', api());
    expect(refreshCount(sandbox) - before).toBe(1);
  });
});

test('options are checked', () => {
  const refresher = new TokenRefresher();
  const store = new MemoryTokenStore();
  expect(() => new TokenManager({ refresher, store, skewSeconds: -1 })).toThrow(TypeError);
  expect(() => new TokenManager({ refresher, store, retry: { attempts: 0 } })).toThrow(TypeError);
  expect(() => new TokenManager({ store } as never)).toThrow(/refresher/);
  expect(() => new TokenManager({ refresher } as never)).toThrow(/store/);
});
