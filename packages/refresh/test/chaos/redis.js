/*
 * The chaos suite's Redis: a real redis-server on a free port, with an append-only file synced on
 * every write so a restart keeps the data (as a production Redis with persistence does), and the
 * faults a production Redis really produces, made by Redis itself.
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const Redis = require('ioredis');

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

function launch(port, dir) {
  return new Promise((resolve, reject) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--enable-debug-command', 'local'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start: ${output.slice(-400)}`));
    }, 10_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve(child);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Resolves once `child` has exited (at once if it already has), after sending it `signal`. */
function stopped(child, signal) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill(signal);
  });
}

async function startChaosRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-redis-'));
  const port = await freePort();
  let child = await launch(port, dir);
  let restarting;
  const admin = () => new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, lazyConnect: false, retryStrategy: () => 50 });
  let control = admin();
  control.on('error', () => undefined);
  const command = (...args) => control.call(...args).catch(() => undefined);
  return {
    port,
    client: admin,
    /** Writes refused: `READONLY` (a demoted master), `OOM` (maxmemory reached), `NOREPLICAS`. */
    async refuseWrites(kind) {
      if (kind === 'READONLY') await command('REPLICAOF', '127.0.0.1', '9');
      if (kind === 'OOM') await command('CONFIG', 'SET', 'maxmemory', '1');
      if (kind === 'NOREPLICAS') await command('CONFIG', 'SET', 'min-replicas-to-write', '1');
    },
    async acceptWrites() {
      await command('REPLICAOF', 'NO', 'ONE');
      await command('CONFIG', 'SET', 'maxmemory', '0');
      await command('CONFIG', 'SET', 'min-replicas-to-write', '0');
    },
    /** Every client's next command waits `ms` (DEBUG SLEEP blocks the server). */
    slow(ms) {
      const sleeper = admin();
      sleeper.on('error', () => undefined);
      return sleeper.call('DEBUG', 'SLEEP', String(ms / 1000)).catch(() => undefined).finally(() => sleeper.disconnect());
    },
    /** Cuts every client connection (the workers reconnect by themselves). */
    cut: () => command('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'),
    /**
     * Stops the server (its data is on disk) and starts it again on the same port after `downMs`. A
     * restart asked for while one is under way joins it (the server is already down).
     */
    restart(downMs) {
      restarting ??= (async () => {
        control.disconnect();
        await stopped(child, 'SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, downMs));
        child = await launch(port, dir);
        control = admin();
        control.on('error', () => undefined);
      })().finally(() => {
        restarting = undefined;
      });
      return restarting;
    },
    async stop() {
      await restarting?.catch(() => undefined);
      control.disconnect();
      await stopped(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

module.exports = { startChaosRedis, freePort };
