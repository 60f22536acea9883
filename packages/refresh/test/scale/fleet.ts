/** Forks test/scale/worker.js app processes (the BUILT packages) and collects their results. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Topology } from './clients';

export interface Worker<R> {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<R>;
  exited: Promise<void>;
}

const children = new Set<ChildProcess>();

/** Kills (by PID) every worker still running: for afterAll, whatever the test did. */
export function killWorkers(): void {
  for (const child of children) child.kill('SIGKILL');
}

export function startWorker<R>(topology: Topology, sandboxURL: string, env: Record<string, string>): Worker<R> {
  const child = fork(join(__dirname, 'worker.js'), [], {
    env: { ...process.env, TOPOLOGY: JSON.stringify(topology), SANDBOX_URL: sandboxURL, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean }) => m.ready && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready`)));
  });
  const result = new Promise<R>((resolve, reject) => {
    child.on('message', (m: R & { ready?: boolean }) => !m.ready && resolve(m));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) without a result`)));
  });
  result.catch(() => undefined);
  ready.catch(() => undefined);
  return { child, ready, result, exited };
}
