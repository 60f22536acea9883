/*
 * One "app process" for the scale tests, on the BUILT packages, talking to a Redis Cluster or a
 * Sentinel-managed Redis (TOPOLOGY, see clients.js).
 * env: TOPOLOGY, SANDBOX_URL, PREFIX, USERS (comma-separated user keys), CALLERS, MODE ('once' | 'burst'),
 * REPLICA_ACKS (RedisTokenStore replicaAcks), SCALE_DEBUG (a timeline on stderr every 500 ms)
 * Messages: parent -> { go: true } (and { stop: true } in burst mode); worker -> { ready: true }, then its result.
 * - once: CALLERS concurrent getAccessToken for each user -> { tokens, errors, refreshes }
 * - burst: per user, CALLERS loops of forced refreshes until { stop } -> { refreshes, calls, errors, unsaved }
 */
const { TokenManager, TokenRefresher, RedisTokenStore, RedisLock } = require('@passport-martech/refresh');
const { HubSpotStrategy } = require('@passport-martech/hubspot');
const { connect } = require('./clients');

const url = process.env.SANDBOX_URL;
const users = process.env.USERS.split(',');
const callers = Number(process.env.CALLERS || 1);
const client = connect(JSON.parse(process.env.TOPOLOGY));
const strategy = new HubSpotStrategy(
  {
    clientID: 'demo-hubspot-client',
    clientSecret: 'demo-hubspot-secret',
    callbackURL: 'http://127.0.0.1:3999/cb',
    authorizationURL: `${url}/hubspot/oauth/authorize`,
    tokenURL: `${url}/hubspot/oauth/2026-03/token`,
    pkce: false,
  },
  (accessToken, refreshToken, profile, done) => done(null, false),
);
let refreshes = 0;
const manager = new TokenManager({
  refresher: new TokenRefresher().use(strategy),
  store: new RedisTokenStore({ client, prefix: process.env.PREFIX, replicaAcks: Number(process.env.REPLICA_ACKS || 0) }),
  lock: new RedisLock({ client, ttlMs: 5000 }),
  onRefresh: () => refreshes++,
});

const errorName = (error) => (error && (error.code || error.message)) || String(error);

async function once() {
  const calls = users.flatMap((user) => Array.from({ length: callers }, () => manager.getAccessToken(user, 'hubspot')));
  const tokens = {};
  const errors = [];
  for (const result of await Promise.allSettled(calls)) {
    if (result.status === 'fulfilled') tokens[result.value] = (tokens[result.value] || 0) + 1;
    else errors.push(errorName(result.reason));
  }
  return { tokens, errors, refreshes };
}

let stopping = false;
async function burst() {
  let calls = 0;
  const errors = {};
  const loop = async (user) => {
    while (!stopping) {
      calls++;
      try {
        await manager.refresh(user, 'hubspot');
      } catch (error) {
        const name = errorName(error).slice(0, 80);
        errors[name] = (errors[name] || 0) + 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  if (process.env.SCALE_DEBUG) {
    let last = { calls: 0, refreshes: 0 };
    const timer = setInterval(() => {
      const errs = Object.entries(errors).map(([k, v]) => `${k.slice(0, 12)}=${v}`).join(' ');
      console.error(`[${process.pid}] ${Date.now() % 100000} port=${client.stream && client.stream.remotePort} calls+${calls - last.calls} refreshes+${refreshes - last.refreshes} ${errs}`);
      last = { calls, refreshes };
    }, 500);
    timer.unref();
  }
  await Promise.all(users.flatMap((user) => Array.from({ length: callers }, () => loop(user))));
  // What a well-behaved app does on SIGTERM: save what the store refused so far.
  const unsaved = await manager.close(20_000);
  return { refreshes, calls, errors, unsaved };
}

process.on('message', async (message) => {
  if (message && message.stop) stopping = true;
  if (!message || !message.go) return;
  const result = await (process.env.MODE === 'burst' ? burst() : once());
  process.send(result, () => {
    client.quit().finally(() => process.exit(0));
  });
});

client.once('ready', () => process.send({ ready: true }));
