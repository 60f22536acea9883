'use strict';
/**
 * Figure 1 (refresh de-duplication in one process) and figure 2 (across processes sharing Redis).
 * Both are counts first (upstream refresh calls at the sandbox), times second.
 */
const { join } = require('node:path');
const { ourClient, baselineClient, runCallers } = require('./refresh-clients');
const { startSandboxProcess, hubspotLogin, expiredTokenSet, refreshTokenWorks } = require('./sandbox');
const { startRedis } = require('./redis');
const { median, startChild } = require('./util');

const SANDBOX_LATENCY_MS = 20;

function mergeFailures(target, source) {
  for (const [label, n] of Object.entries(source)) target[label] = (target[label] || 0) + n;
  return target;
}

function sumFailures(failures) {
  return Object.values(failures).reduce((a, b) => a + b, 0);
}

async function refreshCalls(sandbox) {
  return (await sandbox.stats()).hubspot.refresh;
}

/** A signed-in user whose access token expired (in our store and at the provider). */
async function expiredUser(sandbox, client, userKey) {
  const raw = await hubspotLogin(sandbox.url);
  await sandbox.expire({ provider: 'hubspot', accessToken: raw.access_token });
  await client.save(userKey, expiredTokenSet(raw));
  return raw;
}

/** Is the user still signed in afterwards: does the stored refresh token still work at the provider? */
async function stillSignedIn(sandbox, client, userKey) {
  const stored = await client.stored(userKey);
  return Boolean(stored && stored.refreshToken && (await refreshTokenWorks(sandbox.url, stored.refreshToken)));
}

function summarize(rounds, callers) {
  const pick = (kind, key) => rounds.map((r) => r[kind][key]);
  const side = (kind) => ({
    refreshCalls: median(pick(kind, 'refreshCalls')),
    refreshCallsMax: Math.max(...pick(kind, 'refreshCalls')),
    refreshCallsMin: Math.min(...pick(kind, 'refreshCalls')),
    wallMs: median(pick(kind, 'wallMs')),
    failedCallers: median(pick(kind, 'failed')),
    failures: rounds.reduce((acc, r) => mergeFailures(acc, r[kind].failures), {}),
    distinctTokens: median(pick(kind, 'distinctTokens')),
    stillSignedIn: rounds.every((r) => r[kind].stillSignedIn),
    stillSignedInRounds: pick(kind, 'stillSignedIn').filter(Boolean).length,
  });
  return { callers, rounds: rounds.length, ours: side('ours'), baseline: side('baseline'), perRound: rounds };
}

function withSummary(result) {
  return {
    refreshCalls: result.refreshCalls,
    wallMs: Math.round(result.wallMs * 10) / 10,
    ok: result.ok,
    failed: sumFailures(result.failures),
    failures: result.failures,
    distinctTokens: result.distinctTokens.length,
    stillSignedIn: result.stillSignedIn,
  };
}

/**
 * Figure 1. options: { callers = 1000, rounds = 5, latencyMs, sandbox? (a running one) }.
 * Returns the raw summary; figure() in run.js turns it into rows.
 */
async function measureDedup({ callers = 1000, rounds = 5, latencyMs = SANDBOX_LATENCY_MS, sandbox: given } = {}) {
  const sandbox = given || (await startSandboxProcess({ rotateRefreshTokens: true, latencyMs }));
  try {
    const results = [];
    for (let round = 0; round < rounds; round++) {
      const entry = {};
      // Alternate which side goes first, so a drift of the machine's load does not favour one.
      const order = round % 2 ? ['baseline', 'ours'] : ['ours', 'baseline'];
      for (const kind of order) {
        const client = kind === 'ours' ? ourClient({ url: sandbox.url }) : baselineClient({ url: sandbox.url });
        const userKey = `dedup-${kind}-${round}`;
        await expiredUser(sandbox, client, userKey);
        const before = await refreshCalls(sandbox);
        const result = await runCallers(client, userKey, callers);
        result.refreshCalls = (await refreshCalls(sandbox)) - before;
        result.stillSignedIn = await stillSignedIn(sandbox, client, userKey);
        entry[kind] = withSummary(result);
      }
      results.push(entry);
    }
    return { ...summarize(results, callers), sandboxLatencyMs: latencyMs };
  } finally {
    if (!given) await sandbox.stop();
  }
}

/**
 * Figure 2. options: { processes = 4, callersPerProcess = 250, rounds = 3, latencyMs, withoutLock = true }.
 * Every process is a fork of refresh-worker.js; they share one Redis (REDIS_URL or a private one).
 */
async function measureProcesses({
  processes = 4,
  callersPerProcess = 250,
  rounds = 3,
  latencyMs = SANDBOX_LATENCY_MS,
  withoutLock = true,
  sandbox: given,
  redis: givenRedis,
} = {}) {
  const sandbox = given || (await startSandboxProcess({ rotateRefreshTokens: true, latencyMs }));
  const redis = givenRedis || (await startRedis());
  const workers = [];
  try {
    for (let i = 0; i < processes; i++) {
      workers.push(startChild(join(__dirname, 'refresh-worker.js'), { env: { REDIS_URL: redis.url } }));
    }
    await Promise.all(workers.map((w) => w.ready));
    const client = redis.client();
    const runId = `${process.pid}-${Date.now().toString(36)}`;
    const kinds = withoutLock ? ['ours', 'baseline', 'ours-nolock'] : ['ours', 'baseline'];
    const results = [];
    for (let round = 0; round < rounds; round++) {
      const entry = {};
      const order = round % 2 ? kinds.slice().reverse() : kinds;
      for (const kind of order) {
        const prefix = `bench:${runId}:${kind}:${round}:`;
        const userKey = `shared-user-${round}`;
        const parentClient =
          kind === 'baseline' ? baselineClient({ url: sandbox.url, redis: client, prefix }) : ourClient({ url: sandbox.url, redis: client, prefix });
        await expiredUser(sandbox, parentClient, userKey);
        const before = await refreshCalls(sandbox);
        const started = process.hrtime.bigint();
        const answers = await Promise.all(
          workers.map((w) => w.request({ mode: kind, url: sandbox.url, prefix, userKey, callers: callersPerProcess })),
        );
        const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
        const tokens = new Set(answers.flatMap((a) => a.distinctTokens));
        const result = {
          wallMs,
          ok: answers.reduce((n, a) => n + a.ok, 0),
          failures: answers.reduce((acc, a) => mergeFailures(acc, a.failures), {}),
          distinctTokens: [...tokens],
          refreshCalls: (await refreshCalls(sandbox)) - before,
        };
        result.stillSignedIn = await stillSignedIn(sandbox, parentClient, userKey);
        entry[kind] = withSummary(result);
      }
      results.push(entry);
    }
    const summary = summarize(results, processes * callersPerProcess);
    if (withoutLock) {
      const pick = (key) => results.map((r) => r['ours-nolock'][key]);
      summary.oursWithoutLock = {
        refreshCalls: median(pick('refreshCalls')),
        wallMs: median(pick('wallMs')),
        failedCallers: median(pick('failed')),
        failures: results.reduce((acc, r) => mergeFailures(acc, r['ours-nolock'].failures), {}),
        stillSignedIn: results.every((r) => r['ours-nolock'].stillSignedIn),
      };
    }
    return { ...summary, processes, callersPerProcess, sandboxLatencyMs: latencyMs, redis: redis.external ? 'REDIS_URL' : 'private redis-server' };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    if (!givenRedis) await redis.stop();
    if (!given) await sandbox.stop();
  }
}

module.exports = { measureDedup, measureProcesses, SANDBOX_LATENCY_MS };
