/** Test worker processes (child_process.fork with IPC): a `ready` message, then one result message. */
import { fork, type ChildProcess } from 'node:child_process';

export interface Worker<R> {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<R>;
  exited: Promise<void>;
}

/** Forks `script` with `env`; the child is in `children` until it exits (for a kill-all in afterAll). */
export function forkWorker<R>(script: string, env: Record<string, string>, children: Set<ChildProcess>): Worker<R> {
  const child = fork(script, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
