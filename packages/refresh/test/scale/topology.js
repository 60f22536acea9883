/*
 * Real scale-out Redis topologies for the scale tests and scripts: a 3-master Redis Cluster and a
 * Sentinel group (one master, replicas, sentinels), each server a redis-server child process on a free
 * 127.0.0.1 port with its own temp dir. Every process started here is remembered by PID and killed by
 * stop() (and, should the test process die first, on its exit), so a failing test leaves nothing behind.
 * Needs redis-server and redis-cli (Debian: redis-server, which depends on redis-tools).
 */
const { execFile, spawn } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const Redis = require('ioredis');

const HOST = '127.0.0.1';
/** Every child still running, across topologies: killed on process exit whatever happened. */
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it resolves truthy; rejects with `what` after `timeoutMs`. */
async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(50);
  }
}

/** One redis-server (args after the optional config file); resolves once it accepts connections. */
function launch(args, readyText) {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server ${args.join(' ')} did not start: ${output.slice(-400)}`));
    }, 10_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes(readyText)) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve(child);
      }
    });
    child.stderr.resume();
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code ?? signal}): ${output.slice(-400)}`));
    });
  });
}

/** Resolves once `child` has exited, after SIGKILL. */
function kill(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** A data server on a free port (retried if the port was taken meanwhile). */
async function startServer(dir, extra) {
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    // No diskless-sync delay: a replica's first sync takes milliseconds instead of 5 s (the default).
    const args = ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0', ...extra(port)];
    try {
      return { port, child: await launch(args, 'Ready to accept connections') };
    } catch (error) {
      if (tries >= 3) throw error;
    }
  }
}

/** A short-lived connection for one admin command. */
async function command(port, ...args) {
  const client = new Redis({ port, host: HOST, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(...args);
  } finally {
    client.disconnect();
  }
}

/** Whether `replicas` replicas of the master on `port` acknowledge a write within 100 ms. */
async function replicated(port, replicas) {
  const client = new Redis({ port, host: HOST, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.set('topology:probe', String(Date.now()));
    return Number(await client.wait(replicas, 100)) >= replicas;
  } finally {
    client.disconnect();
  }
}

function redisCli(args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout)));
  });
}

/** Tracks clients made for a topology so stop() can close them before killing the servers. */
function clientList() {
  const clients = [];
  return {
    add(client) {
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    close: () => Promise.all(clients.map((c) => c.disconnect())),
  };
}

/**
 * `masters` cluster-enabled servers joined by `redis-cli --cluster create` (no replicas), resolved once
 * every node reports `cluster_state:ok` and agrees on all 16 384 slots.
 */
async function startCluster({ masters = 3 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'refresh-cluster-'));
  const servers = [];
  const clients = clientList();
  const stop = async () => {
    await clients.close();
    await Promise.all(servers.map((s) => kill(s.child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      servers.push(await startServer(dir, (port) => ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000']));
    }
    await redisCli(['--cluster', 'create', ...servers.map((s) => `${HOST}:${s.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const { port } of servers) {
      await until(`cluster_state:ok on ${port}`, async () => /cluster_state:ok/.test(await command(port, 'CLUSTER', 'INFO')));
      await until(`all slots known on ${port}`, async () => {
        const slots = await command(port, 'CLUSTER', 'SLOTS');
        return slots.reduce((n, [from, to]) => n + to - from + 1, 0) === 16384;
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = servers.map((s) => ({ host: HOST, port: s.port }));
  return {
    nodes,
    pids: servers.map((s) => s.child.pid),
    /** A new ioredis Cluster client; closed by stop(). */
    client: (options = {}) => clients.add(new Redis.Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 }, ...options })),
    stop,
  };
}

/**
 * One master, `replicas` replicas and `sentinels` sentinels (quorum 2) watching it under `name`. With
 * `minReplicasToWrite`, every data server refuses writes (NOREPLICAS) unless that many replicas are
 * connected with a lag of at most `minReplicasMaxLag` seconds. Resolves once the replicas are in sync
 * and every sentinel knows every replica and every other sentinel.
 */
async function startSentinel({ name = 'scale', replicas = 2, sentinels = 3, minReplicasToWrite = 0, minReplicasMaxLag = 10, downAfterMs = 1000, failoverTimeoutMs = 5000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'refresh-sentinel-'));
  const data = [];
  const watchers = [];
  const clients = clientList();
  const stop = async () => {
    await clients.close();
    await Promise.all([...data, ...watchers].map((s) => kill(s.child)));
    rmSync(dir, { recursive: true, force: true });
  };
  const durability = minReplicasToWrite > 0 ? ['--min-replicas-to-write', String(minReplicasToWrite), '--min-replicas-max-lag', String(minReplicasMaxLag)] : [];
  try {
    const master = await startServer(dir, () => durability);
    data.push(master);
    for (let i = 0; i < replicas; i++) data.push(await startServer(dir, () => [...durability, '--replicaof', HOST, String(master.port)]));
    // Online, and acknowledging: a replica that just loaded its first sync has not acknowledged anything yet.
    await until('replicas online', () => replicated(master.port, replicas));
    for (let i = 0; i < sentinels; i++) {
      for (let tries = 0; ; tries++) {
        const port = await freePort();
        const conf = join(dir, `sentinel-${port}.conf`);
        writeFileSync(
          conf,
          [
            `port ${port}`,
            `bind ${HOST}`,
            `dir ${dir}`,
            `sentinel monitor ${name} ${HOST} ${master.port} 2`,
            `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
            `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
            `sentinel parallel-syncs ${name} 1`,
            '',
          ].join('\n'),
        );
        try {
          watchers.push({ port, child: await launch([conf, '--sentinel'], 'Sentinel ID is') });
          break;
        } catch (error) {
          if (tries >= 3) throw error;
        }
      }
    }
    for (const { port } of watchers) {
      await until(`sentinel ${port} to see the whole group`, async () => {
        const [seenReplicas, seenSentinels] = await Promise.all([command(port, 'SENTINEL', 'REPLICAS', name), command(port, 'SENTINEL', 'SENTINELS', name)]);
        return seenReplicas.length === replicas && seenSentinels.length === sentinels - 1;
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const sentinelNodes = watchers.map((s) => ({ host: HOST, port: s.port }));
  /** The port of the master the sentinels agree on now. */
  const masterPort = async () => Number((await command(sentinelNodes[0].port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name))[1]);
  return {
    name,
    sentinels: sentinelNodes,
    dataPorts: data.map((s) => s.port),
    pids: [...data, ...watchers].map((s) => s.child.pid),
    masterPort,
    /** A new ioredis client through the sentinels; closed by stop(). */
    client: (options = {}) => clients.add(new Redis({ sentinels: sentinelNodes, name, ...options })),
    /** SENTINEL FAILOVER (no agreement needed, the old master stays up); resolves with the new master's port. */
    async failover() {
      const before = await masterPort();
      await command(sentinelNodes[0].port, 'SENTINEL', 'FAILOVER', name);
      return until('a new master', async () => {
        const port = await masterPort();
        return port !== before && port;
      });
    },
    /** SIGKILL to the current master; resolves with the new master's port once the sentinels agree on one. */
    async killMaster() {
      const before = await masterPort();
      await kill(data.find((s) => s.port === before).child);
      return until('a new master', async () => {
        const port = await masterPort();
        return port !== before && port;
      });
    },
    /** Resolves once every data server still running has the role the sentinels give it, replicas in sync. */
    async settled() {
      const master = await masterPort();
      await until('the old master to rejoin as a replica', async () => {
        const info = await command(master, 'INFO', 'replication');
        const alive = data.filter((s) => s.child.exitCode === null && s.child.signalCode === null).length;
        return /role:master/.test(info) && (info.match(/state=online/g) || []).length === alive - 1;
      }, 30_000);
    },
    stop,
  };
}

module.exports = { HOST, startCluster, startSentinel, command, replicated, until, sleep };
