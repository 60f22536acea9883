/** Test helpers for the built entry points as processes: run one, read its output, probe ports. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canConnect } from '../src/redis-server';

export const DIST = join(__dirname, '..', 'dist');

/** Throws when the example is not built (these tests run dist/, as a person would). */
export function requireBuilt(): void {
  if (!existsSync(join(DIST, 'demo.js')) || !existsSync(join(DIST, 'main.js'))) {
    throw new Error('examples/redis-session/dist is missing: run `npx tsc -b examples/redis-session` (or `npm run build`) first');
  }
}

export interface Child {
  process: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

/** SIGKILLs every process started with `run` that is still running (call it in afterEach). */
export function killChildren(): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Runs `node dist/<script>` (or, with `argv`, `node <argv...>`) with exactly `env`, output collected. */
export function run(script: string, env: Record<string, string | undefined>, argv?: string[]): Child {
  const child = spawn(process.execPath, argv ?? [join(DIST, script)], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    process: child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            done();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern} in:\n${output}`));
        }, timeoutMs);
        const onExit = () => {
          done();
          reject(new Error(`process exited before ${pattern}:\n${output}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** The environment without anything that would change the demo's choices. */
export function cleanEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, ...extra };
}

/** True when something listens on 127.0.0.1:`port`. */
export const portOpen = canConnect;
