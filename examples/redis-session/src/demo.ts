#!/usr/bin/env node
/**
 * `npm run demo`: the provider sandbox + the example server for all five providers, with Redis from
 * REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS, else a private redis-server, else in-memory stores. Ctrl-C stops everything it started, and
 * so does the end of the process that launched it (npm, a supervisor), whatever signal that got.
 */
import { createServer } from 'node:net';
import { startSandbox } from '@passport-martech/sandbox';
import { catalogEntry, type ProviderId } from './catalog';
import { ConfigError, loadConfig } from './config';
import { watchLauncher } from './launcher';
import { describeRedisTarget, REDIS_VARIABLES } from './redis-config';
import { findOnPath, startRedisServer } from './redis-server';
import { onShutdownSignal, startServer } from './server';

const env = process.env;

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

function banner(lines: string[]): void {
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '!'.repeat(width + 4);
  console.warn(`\n${bar}\n${lines.map((l) => `! ${l.padEnd(width)} !`).join('\n')}\n${bar}\n`);
}

async function main(): Promise<void> {
  // Whoever reads our output (npm, a pipe) may be gone before we are: a write then fails with EPIPE,
  // which must not crash the demo before it has stopped what it started.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const cleanups: (() => Promise<void>)[] = [];
  let stopping = false;
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => console.error('demo: cleanup failed:', err instanceof Error ? err.message : err));
    }
  };
  // The launcher (npm, a supervisor) may go away without signalling us: stop then too. Before the demo is
  // up, the stop waits for the start to finish (so that what is being started is stopped as well).
  let started = false;
  let launcherGone = false;
  let stopped: Promise<void> | undefined;
  /** One stop, whoever asks first (a signal or the launcher's end); the other waits for the same one. */
  const stopOnce = (message: string) =>
    (stopped ??= (async () => {
      stopping = true;
      console.log(message);
      await stopAll();
    })());
  const stopForLauncher = () => void stopOnce('\nThe process that started the demo is gone: stopping the demo...').finally(() => process.exit(0));
  watchLauncher(() => {
    launcherGone = true;
    if (started) stopForLauncher();
  });

  try {
    // 1. Redis: the one the environment names (a server, a Cluster, Sentinel), else a private one.
    const redisEnv: Record<string, string> = {};
    let redisNote: string | undefined;
    // From the environment: shown once loadConfig has checked it (describeRedisTarget, never a password).
    const fromEnv = REDIS_VARIABLES.some((name) => env[name]?.trim());
    if (!fromEnv && findOnPath('redis-server')) {
      const redis = await startRedisServer();
      cleanups.push(() => redis.stop());
      redis.process.once('exit', (code, signal) => {
        if (!stopping) console.error(`demo: the private redis-server exited (${signal ?? code}); pages answer 503 now.`);
      });
      redisEnv.REDIS_URL = redis.url;
      redisNote = `private redis-server on 127.0.0.1:${redis.port} (temporary, stopped with the demo)`;
    } else if (!fromEnv) {
      redisEnv.REDIS_URL = 'memory';
      redisNote = 'IN-MEMORY stores (no Redis)';
      banner([
        'WARNING: no Redis. REDIS_URL, REDIS_CLUSTER_NODES and REDIS_SENTINELS are',
        'not set and redis-server is not on PATH.',
        'Sessions, accounts and tokens are kept in this process only: they vanish',
        'on restart and cannot be shared by several instances.',
        'Get Redis: `sudo apt-get install redis-server` (Debian/Ubuntu),',
        '`brew install redis` (macOS), or `docker run -p 6379:6379 redis`, then',
        'run the demo again (or set REDIS_URL=redis://host:6379).',
      ]);
    }

    // 2. The sandbox, showing its consent page (no auto-approve) so a person sees the provider step.
    const sandboxPort = env.SANDBOX_PORT ? Number(env.SANDBOX_PORT) : 0;
    if (!Number.isInteger(sandboxPort) || sandboxPort < 0 || sandboxPort > 65535) {
      throw new ConfigError([`SANDBOX_PORT must be an integer from 0 to 65535 (got ${JSON.stringify(env.SANDBOX_PORT)})`]);
    }
    const sandbox = await startSandbox({ port: sandboxPort, autoApprove: false });
    cleanups.push(() => sandbox.close());

    // 3. The app. Port 3000 unless PORT says otherwise; if 3000 is taken, any free port.
    const host = env.HOST?.trim() || '127.0.0.1';
    let port = env.PORT?.trim() ? Number(env.PORT) : 3000;
    if (!env.PORT?.trim() && !(await portFree(port, host))) port = 0;
    if (port === 0) {
      const probe = createServer();
      port = await new Promise<number>((resolve) => probe.listen(0, host, () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      }));
    }
    const config = loadConfig({
      ...env,
      PORT: String(port),
      HOST: host,
      SANDBOX_URL: sandbox.url,
      ...redisEnv,
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    });
    redisNote ??= `${describeRedisTarget(config.redis)} (from the environment)`;
    const running = await startServer(config);
    cleanups.push(() => running.close(3000));

    const providers = Object.keys(config.providers) as ProviderId[];
    console.log(
      [
        '',
        'passport-martech demo is running',
        '',
        `  Open:      ${running.url}`,
        `  Sandbox:   ${sandbox.url}  (emulates ${providers.map((id) => catalogEntry(id).name).join(', ')}; click Approve on its consent page)`,
        `  Redis:     ${redisNote}`,
        `  Health:    ${running.url}/readyz (Redis takes writes), ${running.url}/livez (the process runs)`,
        '',
        'Press Ctrl-C to stop (the sandbox and any private redis-server stop with it).',
        '',
      ].join('\n'),
    );
  } catch (err) {
    await stopAll();
    throw err;
  }

  onShutdownSignal(() => stopOnce('\nStopping the demo...'));
  started = true;
  if (launcherGone) stopForLauncher();
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
