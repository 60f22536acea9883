/** Forks test/scale/worker.js app processes (the BUILT packages) and collects their results. */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { forkWorker, type Worker } from '../helpers/workers';
import type { Topology } from './clients';

export type { Worker };

const children = new Set<ChildProcess>();

/** Kills (by PID) every worker still running: for afterAll, whatever the test did. */
export function killWorkers(): void {
  for (const child of children) child.kill('SIGKILL');
}

export function startWorker<R>(topology: Topology, sandboxURL: string, env: Record<string, string>): Worker<R> {
  return forkWorker<R>(join(__dirname, 'worker.js'), { TOPOLOGY: JSON.stringify(topology), SANDBOX_URL: sandboxURL, ...env }, children);
}
