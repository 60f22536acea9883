'use strict';
/** Small helpers shared by the figures: statistics, ports, timing, child processes. */
const { createServer } = require('node:net');
const { fork } = require('node:child_process');
const { setTimeout: sleep } = require('node:timers/promises');
const os = require('node:os');

function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of raw samples (p in 0..100). */
function percentile(values, p) {
  const sorted = values.slice().sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Every child process the bench started, so that an interrupted run still stops them. */
const children = new Set();

/**
 * Forks a Node script with an IPC channel and waits for its first message `{ ready: true, ... }`.
 * Returns { child, info, exited, request(message) }; request() sends a message with an id and resolves
 * with the reply carrying the same id.
 */
function startChild(script, { env = {}, args = [], timeoutMs = 20000, execArgv = [] } = {}) {
  const child = fork(script, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  let nextId = 1;
  const pending = new Map();
  child.on('message', (message) => {
    if (message && message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(message.error));
      else resolve(message);
    }
  });
  void exited.then(({ code, signal }) => {
    for (const { reject } of pending.values()) reject(new Error(`${script} exited (${code ?? signal})`));
    pending.clear();
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready after ${timeoutMs} ms`)), timeoutMs);
    child.on('message', (message) => {
      if (message && message.ready) {
        clearTimeout(timer);
        resolve(message);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready`));
    });
  });
  return {
    child,
    exited,
    ready,
    request(message) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...message, id });
      });
    },
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function killAllChildren() {
  for (const child of children) child.kill('SIGKILL');
}

/** The child side of startChild: answer requests by id. */
function serveRequests(handler) {
  process.on('message', (message) => {
    if (!message || !message.id) return;
    Promise.resolve()
      .then(() => handler(message))
      .then(
        (reply) => process.send({ ...(reply || {}), id: message.id }),
        (err) => process.send({ id: message.id, error: (err && err.stack) || String(err) }),
      );
  });
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    availableParallelism: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    model: cpus[0] ? cpus[0].model.trim() : 'unknown',
    memoryBytes: os.totalmem(),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    loadavg: os.loadavg().map((n) => Number(n.toFixed(2))),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

function round(value, digits = 2) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

module.exports = { median, percentile, nowMs, freePort, sleep, startChild, killAllChildren, serveRequests, machine, round };
