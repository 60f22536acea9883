/*
 * One app process of the chaos suite, on the BUILT packages (plain Node). It serves the parent's
 * commands over IPC and streams what it does, so the parent can check the guarantees against the
 * provider's truth. Never prints a token; the parent gets them over IPC only to ask the sandbox.
 *
 * env: REDIS_PORT, SANDBOX_URL, MODE ('ours' | 'baseline'), LOCK_TTL_MS
 * parent -> { op: 'configure', prefix, scheduleKey } (a new manager for the next schedule)
 *         | { op: 'get', id, user } | { op: 'save', id, user, tokens } | { op: 'delete', id, user }
 *         | { op: 'drain' } | { op: 'quiesce' } (scheduler stopped, refreshes settled) | { op: 'close' }
 * worker -> { ev: 'ready' } | { ev: 'present', user, rt } | { ev: 'answer', user, rt, ok, code }
 *         | { ev: 'result', id, ok, token?, code?, message?, ms, stale? } | { ev: 'refresh', user, trigger }
 *         | { ev: 'schedfail', user, failures } | { ev: 'bug', what } | { ev: 'closed', left }
 */
const { sandboxEndpoints } = require('@passport-martech/sandbox');
const Redis = require('ioredis');
const { HubSpotStrategy } = require('@passport-martech/hubspot');
const { TokenManager, TokenRefresher, RedisTokenStore, RedisLock, RefreshScheduler, storeKey } = require('@passport-martech/refresh');

const url = process.env.SANDBOX_URL;
const mode = process.env.MODE || 'ours';
const send = (message) => {
  if (process.connected) process.send(message, () => undefined);
};
// The parent went away (killed, interrupted): so does this worker.
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (error) => send({ ev: 'bug', what: `unhandled rejection: ${error && error.name}` }));

const client = new Redis({ port: Number(process.env.REDIS_PORT), host: '127.0.0.1', maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 50 });
client.on('error', () => undefined);
const strategy = new HubSpotStrategy(
  {
    clientID: 'demo-hubspot-client',
    clientSecret: 'demo-hubspot-secret',
    callbackURL: 'http://127.0.0.1:3999/cb',
    authorizationURL: sandboxEndpoints(url, 'hubspot').authorizationURL,
    tokenURL: sandboxEndpoints(url, 'hubspot').tokenURL,
    pkce: false,
    timeout: 800,
  },
  (accessToken, refreshToken, profile, done) => done(null, false),
);
const refresher = new TokenRefresher().use(strategy);
let store;

// Which user a refresh token belongs to: the manager reads it from the store right before presenting it.
const owner = new Map();
const watchedStore = {
  get: async (key) => {
    const tokens = await store.get(key);
    if (tokens && tokens.refreshToken) owner.set(tokens.refreshToken, key.slice(key.indexOf(':') + 1));
    return tokens;
  },
  set: (key, tokens) => store.set(key, tokens),
  delete: (key) => store.delete(key),
  replace: (key, from, tokens) => store.replace(key, from, tokens),
  retire: (key, rt) => store.retire(key, rt),
};
const watchedRefresher = {
  timeoutFor: (name) => refresher.timeoutFor(name),
  async refresh(name, rt) {
    const user = owner.get(rt);
    send({ ev: 'present', user, rt });
    try {
      const tokens = await refresher.refresh(name, rt);
      send({ ev: 'answer', user, rt, ok: true });
      return tokens;
    } catch (error) {
      send({ ev: 'answer', user, rt, ok: false, code: error && error.code });
      throw error;
    }
  },
};

let manager;
let scheduler;
// Work that arrives before the first configure (a restarted worker) waits for it.
let markConfigured;
const configured = new Promise((resolve) => {
  markConfigured = resolve;
});
async function configure(prefix, scheduleKey) {
  if (scheduler) await scheduler.stop();
  if (manager) await manager.close(0);
  owner.clear();
  store = new RedisTokenStore({ client, prefix });
  if (mode !== 'ours') return;
  manager = new TokenManager({
    refresher: watchedRefresher,
    store: watchedStore,
    lock: new RedisLock({ client, ttlMs: Number(process.env.LOCK_TTL_MS || 400), prefix: `${prefix}lock:` }),
    skewSeconds: 1,
    lockWaitMs: 4000,
    // Longer than any write outage the schedules inject (at most 0.9 s; a restart at most 0.5 s).
    saveHoldMs: 2000,
    retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 },
    schedule: { client, key: scheduleKey },
    onRefresh: (e) => send({ ev: 'refresh', user: e.userKey, trigger: e.trigger }),
    onError: (e) => e.reason === 'save_failed' && send({ ev: 'savefailed', user: e.userKey }),
  });
  scheduler = new RefreshScheduler({
    manager,
    aheadSeconds: 1,
    intervalMs: 150,
    batchSize: 3,
    maxFailures: 1000,
    onError: (e) => e.provider === 'hubspot' && send({ ev: 'schedfail', user: e.userKey, failures: e.failures }),
  }).start();
}

/**
 * passport-oauth2-refresh as its README shows it: when the stored access token has expired, ask for a
 * new one with the stored refresh token and save what comes back. No lock, no compare-and-set.
 */
const legacy = require('passport-oauth2-refresh');
legacy.use('hubspot', strategy);
async function baselineGet(user) {
  const key = storeKey(user, 'hubspot');
  const tokens = await watchedStore.get(key);
  if (!tokens) throw Object.assign(new Error('no tokens'), { code: 'REAUTHENTICATION_REQUIRED' });
  if (tokens.expiresAt === undefined || tokens.expiresAt - Date.now() > 1000) return tokens.accessToken;
  send({ ev: 'present', user, rt: tokens.refreshToken });
  const fresh = await new Promise((resolve, reject) => {
    legacy.requestNewAccessToken('hubspot', tokens.refreshToken, (err, accessToken, refreshToken, results) => {
      send({ ev: 'answer', user, rt: tokens.refreshToken, ok: !err, code: err ? err.code || 'error' : undefined });
      if (err) return reject(Object.assign(new Error('refresh failed'), { code: err.code || 'OAUTH_ERROR' }));
      resolve({ accessToken, refreshToken: refreshToken || tokens.refreshToken, tokenType: 'Bearer', expiresAt: Date.now() + Number(results.expires_in) * 1000, raw: {} });
    });
  });
  await store.set(key, fresh);
  send({ ev: 'refresh', user, trigger: 'expiry' });
  return fresh.accessToken;
}

async function get(id, user) {
  const started = Date.now();
  try {
    const token = mode === 'ours' ? await manager.getAccessToken(user, 'hubspot') : await baselineGet(user);
    // G3: the provider must accept what we hand out, unless the store has nothing newer.
    const check = await fetch(`${url}/hubspot/crm/v3/objects/contacts`, { headers: { Authorization: `Bearer ${token}` } });
    await check.arrayBuffer();
    let stale = false;
    if (check.status === 401) {
      const now = await store.get(storeKey(user, 'hubspot')).catch(() => undefined);
      if (now && now.accessToken !== token) {
        const newer = await fetch(`${url}/hubspot/crm/v3/objects/contacts`, { headers: { Authorization: `Bearer ${now.accessToken}` } });
        await newer.arrayBuffer();
        stale = newer.status === 200;
      }
    }
    send({ ev: 'result', id, user, ok: true, token, ms: Date.now() - started, stale });
  } catch (error) {
    if (process.env.CHAOS_DEBUG && error instanceof TypeError) console.error(error.stack);
    send({ ev: 'result', id, user, ok: false, code: error && error.code, message: String(error && error.message), ms: Date.now() - started });
  }
}

process.on('message', async (m) => {
  if (!m) return;
  if (m.op === 'configure') {
    return configure(m.prefix, m.scheduleKey).then(() => {
      markConfigured();
      send({ ev: 'configured' });
    });
  }
  await configured;
  if (m.op === 'drain') return (manager ? manager.drain(4000) : Promise.resolve(0)).then((left) => send({ ev: 'drained', left }));
  if (m.op === 'quiesce') {
    // Before the checks: no refresh may rotate a token between the checker's store read and its question
    // to the provider.
    if (scheduler) await scheduler.stop();
    const left = manager ? await manager.drain(4000) : 0;
    return send({ ev: 'quiesced', left });
  }
  if (m.op === 'get') return get(m.id, m.user);
  if (m.op === 'save') {
    const done = mode === 'ours' ? manager.save(m.user, 'hubspot', m.tokens) : store.set(storeKey(m.user, 'hubspot'), m.tokens);
    return done.then(() => send({ ev: 'saved', id: m.id }), (e) => send({ ev: 'saved', id: m.id, code: e && e.code, failed: true }));
  }
  if (m.op === 'delete') {
    const done = mode === 'ours' ? manager.delete(m.user, 'hubspot') : store.delete(storeKey(m.user, 'hubspot'));
    return done.then(() => send({ ev: 'deleted', id: m.id }), (e) => send({ ev: 'deleted', id: m.id, code: e && e.code, failed: true }));
  }
  if (m.op === 'close') {
    if (scheduler) await scheduler.stop();
    const left = manager ? await manager.close(4000) : 0;
    send({ ev: 'closed', left });
    client.disconnect();
    setTimeout(() => process.exit(0), 20);
  }
});

client.once('ready', () => send({ ev: 'ready' }));
