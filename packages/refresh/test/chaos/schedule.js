/* A schedule of one chaos run, drawn from a seed: the same seed gives the same schedule. */

/** mulberry32: small, fast, and the same sequence on every machine. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const POLICIES = ['revoke', 'revoke-grant', { graceSeconds: 1 }];
const REDIS_FAULTS = ['READONLY', 'OOM', 'NOREPLICAS', 'slow', 'cut', 'restart'];
const PROVIDER_FAULTS = ['http500', 'http503', 'drop', 'delay', 'lost_answer', 'revoked'];
const PROCESS_FAULTS = ['kill', 'pause'];

/**
 * Events at offsets (ms) within `durationMs`: caller bursts, logins, logouts and 2-5 faults.
 * Users are `u0`..`u<users-1>`; workers are indexes.
 */
function makeSchedule(seed, { users = 4, workers = 3, durationMs = 2000 } = {}) {
  const r = rng(seed);
  const policy = POLICIES[seed % POLICIES.length];
  const events = [];
  for (let at = 0; at < durationMs; at += r.int(20, 70)) {
    events.push({ at, kind: 'callers', user: `u${r.int(0, users - 1)}`, worker: r.int(0, workers - 1), count: r.int(1, 6) });
  }
  if (r.chance(0.4)) events.push({ at: r.int(200, durationMs - 200), kind: 'login', user: `u${r.int(0, users - 1)}`, worker: r.int(0, workers - 1) });
  if (r.chance(0.25)) events.push({ at: r.int(200, durationMs - 200), kind: 'logout', user: `u${r.int(0, users - 1)}`, worker: r.int(0, workers - 1) });
  const faults = r.int(2, 5);
  for (let i = 0; i < faults; i++) {
    const family = r.pick(['redis', 'redis', 'provider', 'provider', 'process']);
    const at = r.int(0, durationMs - 300);
    if (family === 'redis') {
      const fault = r.pick(REDIS_FAULTS);
      events.push({ at, kind: 'redis', fault, ms: fault === 'restart' ? r.int(100, 500) : fault === 'slow' ? r.int(100, 600) : r.int(100, 900) });
    } else if (family === 'provider') {
      const fault = r.pick(PROVIDER_FAULTS);
      events.push({ at, kind: 'provider', fault, times: r.int(1, 3), ms: r.int(500, 1200), user: `u${r.int(0, users - 1)}` });
    } else {
      events.push({ at, kind: 'process', fault: r.pick(PROCESS_FAULTS), worker: r.int(0, workers - 1), ms: r.int(500, 1000) });
    }
  }
  events.sort((a, b) => a.at - b.at);
  return { seed, policy, users, workers, durationMs, events };
}

module.exports = { makeSchedule, rng };
