'use strict';
/**
 * Redis for the bench: REDIS_URL when set, else a private redis-server on a free port of 127.0.0.1
 * with a temporary directory and no persistence, stopped by stop().
 */
const { join } = require('node:path');
const Redis = require('ioredis');
const { startRedisServer } = require(join(__dirname, '..', '..', 'examples', 'redis-session', 'dist', 'redis-server.js'));

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
  // The example server's private redis-server (loopback, temp dir, no persistence), as the demo uses it.
  const server = await startRedisServer();
  process.once('exit', () => {
    if (server.process.exitCode === null) server.process.kill('SIGKILL');
  });
  return { external: false, port: server.port, ...common(server.url, () => server.stop()) };
}

module.exports = { startRedis, parseCommandStats, diffCommandStats };
