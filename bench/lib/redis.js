'use strict';
/**
 * Redis for the bench: REDIS_URL when set, else a private redis-server on a free port of 127.0.0.1
 * with a temporary directory and no persistence, stopped by stop().
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const Redis = require('ioredis');
const { freePort } = require('./util');

function launch(port, dir) {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on port ${port}: ${output}`));
    }, 10000);
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        child.stderr.resume();
        child.removeAllListeners('exit');
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}) on port ${port}: ${output}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Parses `INFO commandstats` into { command: calls }. */
function parseCommandStats(text) {
  const calls = {};
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls[match[1]] = Number(match[2]);
  }
  return calls;
}

/** Commands run between two commandstats snapshots, INFO itself left out. */
function diffCommandStats(before, after) {
  const diff = {};
  for (const [name, calls] of Object.entries(after)) {
    if (name === 'info') continue;
    const n = calls - (before[name] || 0);
    if (n > 0) diff[name] = n;
  }
  return diff;
}

async function startRedis() {
  const clients = [];
  const makeClient = (url) => (extra = {}) => {
    const client = new Redis(url, { maxRetriesPerRequest: 1, ...extra });
    clients.push(client);
    return client;
  };
  const common = (url, stopServer) => {
    const admin = makeClient(url)();
    return {
      url,
      client: makeClient(url),
      async commandStats() {
        return parseCommandStats(await admin.info('commandstats'));
      },
      async stop() {
        await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
        await stopServer();
      },
    };
  };
  if (process.env.REDIS_URL) {
    return { external: true, ...common(process.env.REDIS_URL, async () => undefined) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  let child;
  let port = 0;
  for (let tries = 0; !child; tries++) {
    port = await freePort();
    try {
      child = await launch(port, dir);
    } catch (error) {
      if (tries >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const proc = child;
  const stopServer = async () => {
    await new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  return { external: false, port, ...common(`redis://127.0.0.1:${port}`, stopServer) };
}

module.exports = { startRedis, parseCommandStats, diffCommandStats };
