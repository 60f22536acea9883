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

/**
 * options: { concurrency = 20, durationMs = 5000, rounds = 3, warmupMs = 1000 }.
 *
 * Each round starts a fresh pair of apps and loads both at the same time, `concurrency` logins each,
 * each against its own sandbox. Both sides then run on the same machine at the same moment: this
 * machine's speed drifts by 10% and more within seconds, and a process keeps a cost of its own for its
 * whole life (the JIT's choices, memory layout). The baseline against itself, rounds of 4 s: one pair
 * of processes, sides alternating, 0.90-1.25x per round; fresh pairs, alternating, 0.83-1.17x; fresh
 * pairs at the same time, 0.96-1.07x (2 s warm-up; with 8 s and fresh sandboxes, 0.93-1.04x; bench README,
 * "Figure 4's method"). BENCH_AA=1 runs the baseline
 * on both sides, to see that spread on the machine at hand.
 */
async function measureLogins({ concurrency = 20, durationMs = 5000, rounds = 3, warmupMs = 1000 } = {}) {
  const kinds = ['ours', 'baseline'];
  let sandboxes = {};
  let apps = {};
  try {
    const perRound = [];
    for (let round = 0; round < rounds; round++) {
      // One sandbox per side, so that each side's upstream calls are counted apart; fresh each round, as the
      // apps are: a sandbox keeps every token it issued, and one that served tens of thousands of logins
      // answers more slowly than a new one (logins/s fell by a third over 16 rounds on one sandbox).
      sandboxes = {};
      await Promise.all(kinds.map(async (kind) => (sandboxes[kind] = await startSandboxProcess({ rotateRefreshTokens: true, latencyMs: 0 }))));
      apps = {};
      // Started in alternating order: the first process of a round has the machine to itself a moment longer.
      for (const kind of round % 2 ? [...kinds].reverse() : kinds) {
        apps[kind] = startChild(join(__dirname, 'login-app.js'), { env: { STRATEGY: process.env.BENCH_AA ? 'baseline' : kind, SANDBOX_URL: sandboxes[kind].url } });
      }
      const urls = {};
      for (const kind of kinds) urls[kind] = (await apps[kind].ready).url;
      await Promise.all(kinds.map((kind) => loadLogins(urls[kind], { concurrency, durationMs: warmupMs })));
      const statsBefore = await Promise.all(kinds.map((kind) => sandboxes[kind].stats()));
      const cpuBefore = await Promise.all(kinds.map((kind) => apps[kind].request({ cmd: 'cpu' })));
      const results = await Promise.all(kinds.map((kind) => loadLogins(urls[kind], { concurrency, durationMs })));
      const cpuAfter = await Promise.all(kinds.map((kind) => apps[kind].request({ cmd: 'cpu' })));
      const statsAfter = await Promise.all(kinds.map((kind) => sandboxes[kind].stats()));
      const entry = {};
      kinds.forEach((kind, i) => {
        const result = results[i];
        const cpuMs = (cpuAfter[i].cpu.user + cpuAfter[i].cpu.system - cpuBefore[i].cpu.user - cpuBefore[i].cpu.system) / 1000;
        const before = statsBefore[i].hubspot;
        const after = statsAfter[i].hubspot;
        const upstream = upstreamCalls({ hubspot: after }) - upstreamCalls({ hubspot: before });
        entry[kind] = {
          ...result,
          upstreamCalls: upstream,
          appCpuMsPerLogin: result.logins ? cpuMs / result.logins : NaN,
          upstreamPerLogin: result.logins ? upstream / (result.logins + result.failed) : NaN,
          identityCalls: after.identity - before.identity,
          tokenCalls: after.token - before.token,
        };
      });
      perRound.push(entry);
      await Promise.all(Object.values(apps).map((app) => app.stop()));
      await Promise.all(Object.values(sandboxes).map((sandbox) => sandbox.stop()));
      apps = {};
      sandboxes = {};
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
    return { concurrency, durationMs, rounds, warmupMs, simultaneous: true, aa: Boolean(process.env.BENCH_AA), ours: side('ours'), baseline: side('baseline'), perRound };
  } finally {
    await Promise.all(Object.values(apps).map((a) => a.stop()));
    await Promise.all(Object.values(sandboxes).map((sandbox) => sandbox.stop()));
  }
}

module.exports = { measureLogins, loadLogins };
