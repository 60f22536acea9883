'use strict';
/**
 * Figure 3: requests/s and latency of an authenticated GET of a small JSON page with sessions in Redis,
 * under autocannon (in this process), the example's stack vs a bare express-session + connect-redis app
 * (session-app.js). Each app gets its session first (ours: a real login through the sandbox) and every
 * request reuses that cookie. Redis commands per request: INFO commandstats before and after.
 */
const { join } = require('node:path');
const autocannon = require('autocannon');
const { createClient, cookieOf } = require('./http-client');
const { startSandboxProcess } = require('./sandbox');
const { startRedis, diffCommandStats } = require('./redis');
const { median, startChild } = require('./util');

/** A signed-in session cookie: follows redirects from loginPath, keeping the latest cookie. */
async function signIn(appUrl, loginPath) {
  const client = createClient();
  let cookie;
  let url = `${appUrl}${loginPath}`;
  try {
    for (let hops = 0; hops < 6; hops++) {
      const sameOrigin = url.startsWith(appUrl);
      const response = await client.get(url, sameOrigin && cookie ? { cookie } : {});
      if (sameOrigin) cookie = cookieOf(response) || cookie;
      if (response.status < 300 || response.status >= 400) break;
      url = new URL(response.headers.location, url).toString();
    }
    if (!cookie) throw new Error(`no session cookie from ${loginPath}`);
    const me = await client.get(`${appUrl}/bench/me`, { cookie });
    if (me.status !== 200) throw new Error(`GET /bench/me with the session answered ${me.status}`);
    return cookie;
  } finally {
    client.close();
  }
}

function cannon({ url, cookie, connections, durationSec }) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: durationSec, headers: { cookie } }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** options: { rounds = 3, durationSec = 10, connections = 50, warmupSec = 1 }. */
async function measureSessions({ rounds = 3, durationSec = 10, connections = 50, warmupSec = 1 } = {}) {
  const [sandbox, redis] = await Promise.all([startSandboxProcess({ latencyMs: 0 }), startRedis()]);
  const apps = {};
  try {
    for (const kind of ['ours', 'baseline']) {
      apps[kind] = startChild(join(__dirname, 'session-app.js'), { env: { STACK: kind, REDIS_URL: redis.url, SANDBOX_URL: sandbox.url } });
    }
    const targets = {};
    for (const kind of Object.keys(apps)) {
      const { url, loginPath } = await apps[kind].ready;
      targets[kind] = { url: `${url}/bench/me`, cookie: await signIn(url, loginPath) };
    }
    for (const kind of Object.keys(apps)) await cannon({ ...targets[kind], connections, durationSec: warmupSec });
    const perRound = [];
    for (let round = 0; round < rounds; round++) {
      const entry = {};
      const order = round % 2 ? ['baseline', 'ours'] : ['ours', 'baseline'];
      for (const kind of order) {
        const statsBefore = await redis.commandStats();
        const cpuBefore = (await apps[kind].request({ cmd: 'cpu' })).cpu;
        const r = await cannon({ ...targets[kind], connections, durationSec });
        const cpuAfter = (await apps[kind].request({ cmd: 'cpu' })).cpu;
        const commands = diffCommandStats(statsBefore, await redis.commandStats());
        const total = r.requests.total;
        const commandCount = Object.values(commands).reduce((a, b) => a + b, 0);
        entry[kind] = {
          requestsPerSec: r.requests.average,
          requests: total,
          p50: r.latency.p50,
          p99: r.latency.p99,
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
          redisCommands: commands,
          redisPerRequest: total ? commandCount / total : NaN,
          appCpuUsPerRequest: total ? (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / total : NaN,
        };
      }
      perRound.push(entry);
    }
    const side = (kind) => {
      const rs = perRound.map((r) => r[kind]);
      const perRequest = {};
      for (const r of rs) for (const [name, n] of Object.entries(r.redisCommands)) perRequest[name] = (perRequest[name] || 0) + n;
      const requests = rs.reduce((n, r) => n + r.requests, 0);
      for (const name of Object.keys(perRequest)) perRequest[name] = Math.round((perRequest[name] / requests) * 1000) / 1000;
      return {
        requestsPerSec: median(rs.map((r) => r.requestsPerSec)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        redisPerRequest: median(rs.map((r) => r.redisPerRequest)),
        redisCommandsPerRequest: perRequest,
        appCpuUsPerRequest: median(rs.map((r) => r.appCpuUsPerRequest)),
        failed: rs.reduce((n, r) => n + r.non2xx + r.errors, 0),
        requests,
      };
    };
    return {
      connections,
      durationSec,
      rounds,
      redis: redis.external ? 'REDIS_URL' : 'private redis-server',
      ours: side('ours'),
      baseline: side('baseline'),
      perRound,
    };
  } finally {
    await Promise.all(Object.values(apps).map((a) => a.stop()));
    await Promise.all([sandbox.stop(), redis.stop()]);
  }
}

module.exports = { measureSessions, signIn };
