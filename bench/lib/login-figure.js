'use strict';
/**
 * Figure 4: complete logins at a fixed concurrency, through a real browser-like sequence:
 * GET app /auth/hubspot (302 + session cookie) -> GET sandbox authorize (auto-approve, 302 with a code)
 * -> GET app callback with the cookie (the app exchanges the code and builds the profile; 302 to /done).
 * Each login starts without a cookie (a new visitor). Latency: first request to the callback's answer.
 */
const { join } = require('node:path');
const { createClient, cookieOf } = require('./http-client');
const { startSandboxProcess, upstreamCalls } = require('./sandbox');
const { median, percentile, startChild } = require('./util');

async function oneLogin(client, appUrl) {
  const start = await client.get(`${appUrl}/auth/hubspot`);
  if (start.status !== 302) throw new Error(`GET /auth/hubspot answered ${start.status}`);
  const cookie = cookieOf(start);
  const authorize = await client.get(start.headers.location);
  if (authorize.status !== 302) throw new Error(`authorize answered ${authorize.status}`);
  const callback = new URL(authorize.headers.location);
  if (!callback.searchParams.get('code')) throw new Error(`authorize redirected without a code: ${callback.searchParams.get('error')}`);
  const done = await client.get(`${appUrl}${callback.pathname}${callback.search}`, cookie ? { cookie } : {});
  if (done.status !== 302 || !String(done.headers.location).endsWith('/done')) {
    throw new Error(`callback answered ${done.status} ${done.headers.location || ''}`);
  }
}

/** Runs `concurrency` login loops for `durationMs`; { logins, errors, loginsPerSec, p50, p99 }. */
async function loadLogins(appUrl, { concurrency, durationMs }) {
  const client = createClient({ maxSockets: concurrency * 2 });
  const latencies = [];
  const errors = {};
  const started = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  const loop = async () => {
    while (Date.now() < deadline) {
      const t = process.hrtime.bigint();
      try {
        await oneLogin(client, appUrl);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      } catch (err) {
        const label = String(err.message).slice(0, 80);
        errors[label] = (errors[label] || 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  client.close();
  return {
    logins: latencies.length,
    errors,
    failed: Object.values(errors).reduce((a, b) => a + b, 0),
    elapsedMs,
    loginsPerSec: (latencies.length / elapsedMs) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** options: { concurrency = 20, durationMs = 5000, rounds = 3, warmupMs = 1000 }. */
async function measureLogins({ concurrency = 20, durationMs = 5000, rounds = 3, warmupMs = 1000 } = {}) {
  const sandbox = await startSandboxProcess({ rotateRefreshTokens: true, latencyMs: 0 });
  const apps = {};
  try {
    for (const kind of ['ours', 'baseline']) {
      apps[kind] = startChild(join(__dirname, 'login-app.js'), { env: { STRATEGY: kind, SANDBOX_URL: sandbox.url } });
    }
    const urls = {};
    for (const kind of Object.keys(apps)) urls[kind] = (await apps[kind].ready).url;
    for (const kind of Object.keys(apps)) await loadLogins(urls[kind], { concurrency, durationMs: warmupMs });
    const perRound = [];
    for (let round = 0; round < rounds; round++) {
      const entry = {};
      const order = round % 2 ? ['baseline', 'ours'] : ['ours', 'baseline'];
      for (const kind of order) {
        const before = (await sandbox.stats()).hubspot;
        const cpuBefore = (await apps[kind].request({ cmd: 'cpu' })).cpu;
        const result = await loadLogins(urls[kind], { concurrency, durationMs });
        const cpuAfter = (await apps[kind].request({ cmd: 'cpu' })).cpu;
        const after = (await sandbox.stats()).hubspot;
        const cpuMs = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000;
        const upstream = upstreamCalls({ hubspot: after }) - upstreamCalls({ hubspot: before });
        entry[kind] = {
          ...result,
          upstreamCalls: upstream,
          appCpuMsPerLogin: result.logins ? cpuMs / result.logins : NaN,
          upstreamPerLogin: result.logins ? upstream / (result.logins + result.failed) : NaN,
          identityCalls: after.identity - before.identity,
          tokenCalls: after.token - before.token,
        };
      }
      perRound.push(entry);
    }
    const side = (kind) => {
      const rs = perRound.map((r) => r[kind]);
      return {
        loginsPerSec: median(rs.map((r) => r.loginsPerSec)),
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        appCpuMsPerLogin: median(rs.map((r) => r.appCpuMsPerLogin)),
        upstreamPerLogin: median(rs.map((r) => r.upstreamPerLogin)),
        upstreamPerLoginMax: Math.max(...rs.map((r) => r.upstreamPerLogin)),
        failed: rs.reduce((n, r) => n + r.failed, 0),
        errors: rs.reduce((acc, r) => {
          for (const [k, v] of Object.entries(r.errors)) acc[k] = (acc[k] || 0) + v;
          return acc;
        }, {}),
        logins: rs.reduce((n, r) => n + r.logins, 0),
      };
    };
    return { concurrency, durationMs, rounds, ours: side('ours'), baseline: side('baseline'), perRound };
  } finally {
    await Promise.all(Object.values(apps).map((a) => a.stop()));
    await sandbox.stop();
  }
}

module.exports = { measureLogins, loadLogins };
