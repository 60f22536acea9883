import diagnosticsChannel from 'node:diagnostics_channel';
import { CHANNELS } from '@passport-martech/oauth2';
import {
  MemoryTokenStore,
  REFRESH_CHANNELS,
  RedisLock,
  RedisTokenStore,
  RefreshScheduler,
  TokenManager,
  TokenRefresher,
  storeKey,
  type LockEvent,
  type RefreshFlightEvent,
  type SchedulerPassEvent,
} from '../src';
import { expired, hubspotStrategy, login, providerAndRedisForFile } from './helpers/provider';

const world = providerAndRedisForFile();

type Phase = 'start' | 'asyncEnd' | 'error';

/** Records copies of a tracing channel's contexts at start, asyncEnd and error. */
function traceOf<T>(name: string): { events: { phase: Phase; context: T }[]; stop(): void } {
  const channel = diagnosticsChannel.tracingChannel(name);
  const events: { phase: Phase; context: T }[] = [];
  const copy = (phase: Phase) => (context: unknown) => void events.push({ phase, context: { ...(context as T) } });
  const handlers = { start: copy('start'), end: () => undefined, asyncStart: () => undefined, asyncEnd: copy('asyncEnd'), error: copy('error') };
  channel.subscribe(handlers);
  return { events, stop: () => channel.unsubscribe(handlers) };
}

function messagesOf<T>(name: string): { messages: T[]; stop(): void } {
  const messages: T[] = [];
  const listener = (message: unknown) => void messages.push({ ...(message as T) });
  diagnosticsChannel.subscribe(name, listener);
  return { messages, stop: () => diagnosticsChannel.unsubscribe(name, listener) };
}

function manager(options: { lock?: RedisLock; store?: MemoryTokenStore | RedisTokenStore; schedule?: boolean } = {}): TokenManager {
  const client = world.redis.client();
  return new TokenManager({
    refresher: new TokenRefresher().use(hubspotStrategy(world.sandbox.url)),
    store: options.store ?? new MemoryTokenStore(),
    lock: options.lock,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    schedule: options.schedule ? { client, key: `schedule:${Math.random()}` } : undefined,
  });
}

async function expiredUser(m: TokenManager, userKey: string) {
  const tokens = await login(world.sandbox.url);
  world.sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
  await m.save(userKey, 'hubspot', expired(tokens));
  return tokens;
}

test('one flight: its trace counts the joined callers, the lock wait, the attempts and the outcome; its lock and token request events follow', async () => {
  const client = world.redis.client();
  const m = manager({ lock: new RedisLock({ client, ttlMs: 5000 }), store: new RedisTokenStore({ client, prefix: `d${Math.random()}:` }) });
  const tokens = await expiredUser(m, 'ada');
  const flights = traceOf<RefreshFlightEvent>(REFRESH_CHANNELS.refresh);
  const locks = messagesOf<LockEvent>(REFRESH_CHANNELS.lock);
  const requests = traceOf<{ kind: string; grantType?: string; provider?: string; status?: number }>(CHANNELS.providerRequest);
  let fresh: string[];
  try {
    fresh = await Promise.all(Array.from({ length: 5 }, () => m.getAccessToken('ada', 'hubspot')));
  } finally {
    flights.stop();
    locks.stop();
    requests.stop();
  }
  expect(new Set(fresh)).toEqual(new Set([fresh[0]]));
  expect(flights.events.map((e) => e.phase)).toEqual(['start', 'asyncEnd']);
  const done = flights.events[1].context;
  expect(done).toMatchObject({ provider: 'hubspot', trigger: 'expiry', joined: 4, attempts: 1, rotated: true, outcome: 'refreshed' });
  expect(done.lockWaitMs).toBeGreaterThanOrEqual(0);
  expect(done.durationMs).toBeGreaterThan(0);
  expect(locks.messages).toEqual([{ provider: 'hubspot', outcome: 'acquired' }]);
  const tokenRequests = requests.events.filter((e) => e.phase === 'asyncEnd' && e.context.kind === 'token');
  expect(tokenRequests.map((e) => e.context)).toEqual([expect.objectContaining({ provider: 'hubspot', grantType: 'refresh_token', status: 200 })]);
  const published = JSON.stringify([flights.events, locks.messages, requests.events]);
  for (const value of [tokens.accessToken, tokens.refreshToken, fresh[0], 'ada']) expect(published).not.toContain(value);
});

test('a refresh the provider refuses ends in the error event, with the reauthentication reason as its code', async () => {
  const m = manager();
  const tokens = await expiredUser(m, 'bob');
  // Spend the refresh token elsewhere: the manager then presents a revoked one.
  const other = manager();
  await other.save('x', 'hubspot', expired(tokens));
  await other.getAccessToken('x', 'hubspot');
  const flights = traceOf<RefreshFlightEvent>(REFRESH_CHANNELS.refresh);
  try {
    await expect(m.getAccessToken('bob', 'hubspot')).rejects.toMatchObject({ code: 'REAUTHENTICATION_REQUIRED' });
  } finally {
    flights.stop();
  }
  const failed = flights.events.find((e) => e.phase === 'error')?.context;
  expect(failed).toMatchObject({ outcome: 'failed', attempts: 1, errorCode: 'REAUTHENTICATION_REQUIRED:invalid_grant' });
});

test('a busy lock and a Redis that refuses it are published as such', async () => {
  const client = world.redis.client();
  const lock = new RedisLock({ client, ttlMs: 5000 });
  const m = manager({ lock, store: new RedisTokenStore({ client, prefix: `e${Math.random()}:` }) });
  await expiredUser(m, 'cy');
  const lockName = `refresh:${storeKey('cy', 'hubspot')}`;
  const held = await lock.acquire(lockName);
  expect(held).not.toBeNull();
  const locks = messagesOf<LockEvent>(REFRESH_CHANNELS.lock);
  const waiting = m.getAccessToken('cy', 'hubspot');
  await new Promise((resolve) => setTimeout(resolve, 120));
  await lock.release(lockName, held as string);
  await waiting;
  // The same Redis turned into a replica (of nothing): reads work, the lock's SET answers READONLY.
  const admin = world.redis.client();
  const refusing = manager({ lock, store: new RedisTokenStore({ client, prefix: `f${Math.random()}:` }) });
  await expiredUser(refusing, 'dee');
  await admin.replicaof('127.0.0.1', 9);
  try {
    await expect(refusing.refresh('dee', 'hubspot')).rejects.toThrow(/READONLY/);
  } finally {
    await admin.replicaof('NO', 'ONE');
  }
  locks.stop();
  const outcomes = locks.messages.map((e) => e.outcome);
  expect(outcomes[0]).toBe('busy');
  expect(outcomes).toContain('acquired');
  expect(locks.messages.find((e) => e.outcome === 'refused')).toEqual({ provider: 'hubspot', outcome: 'refused', errorCode: 'READONLY' });
});

test('a scheduler pass is traced with its counts', async () => {
  const m = manager({ schedule: true });
  await expiredUser(m, 'eve');
  const scheduler = new RefreshScheduler({ manager: m, aheadSeconds: 300, intervalMs: 60_000 });
  const passes = traceOf<SchedulerPassEvent>(REFRESH_CHANNELS.schedulerPass);
  try {
    await scheduler.tick();
  } finally {
    passes.stop();
    await scheduler.stop();
  }
  expect(passes.events.map((e) => e.phase)).toEqual(['start', 'asyncEnd']);
  expect(passes.events[1].context).toMatchObject({ due: 1, refreshed: 1, failed: 0 });
});

test('with no subscriber no flight or pass is traced and no lock message is built', async () => {
  const m = manager({ lock: new RedisLock({ client: world.redis.client(), ttlMs: 5000 }) });
  await expiredUser(m, 'fay');
  traceOf(REFRESH_CHANNELS.refresh).stop();
  const traces = jest.spyOn(diagnosticsChannel.tracingChannel(REFRESH_CHANNELS.refresh), 'tracePromise');
  const lockPublish = jest.spyOn(diagnosticsChannel.channel(REFRESH_CHANNELS.lock), 'publish');
  try {
    await m.getAccessToken('fay', 'hubspot');
    expect(traces).not.toHaveBeenCalled();
    expect(lockPublish).not.toHaveBeenCalled();
  } finally {
    traces.mockRestore();
    lockPublish.mockRestore();
  }
});
