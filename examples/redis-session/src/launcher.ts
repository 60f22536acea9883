/**
 * Notices when the process that launched this one goes away, whatever signal it got.
 *
 * `npm run demo` runs `sh -c "npm run build && node .../demo.js"`: npm, then a shell, then the demo. A
 * supervisor, `timeout 60 npm run demo` or a container stop signals npm alone; npm forwards SIGTERM to the
 * shell, which dies without passing it on, and a SIGKILL of npm reaches nobody. Either way the demo (and
 * the sandbox and the redis-server it started) would run on, orphaned. So the demo watches:
 *
 * - its parent: when it dies, the demo is re-parented and `process.ppid` changes;
 * - when run by npm (`npm_lifecycle_event` is set): the ancestors up to the first one that is not a shell,
 *   i.e. npm itself, which may die while the shell between stays.
 *
 * A poll every half second (an unref'd timer: no cost worth measuring, and it never keeps the process
 * alive). Ancestors are read from /proc on Linux, else with one `ps` per ancestor at start.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ash', 'ksh', 'fish', 'cmd.exe', 'powershell.exe', 'pwsh']);

/** `{ ppid, name }` of a process, or undefined when it cannot be read. */
function processInfo(pid: number): { ppid: number; name: string } | undefined {
  try {
    // /proc/<pid>/stat: "<pid> (<comm>) <state> <ppid> ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? { ppid, name } : undefined;
  } catch {
    // not Linux (or no /proc): ask ps
  }
  try {
    const out = execFileSync('ps', ['-o', 'ppid=,comm=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const match = /^(\d+)\s+(.+)$/.exec(out);
    return match ? { ppid: Number(match[1]), name: match[2].split('/').pop() as string } : undefined;
  } catch {
    return undefined;
  }
}

/** The processes whose end means "the launcher is gone": the parent, and through shells up to npm. */
export function launcherPids(env: NodeJS.ProcessEnv = process.env): number[] {
  const pids = [process.ppid];
  if (!env.npm_lifecycle_event) return pids;
  let pid = process.ppid;
  for (let depth = 0; depth < 4; depth++) {
    const info = processInfo(pid);
    if (!info || !SHELLS.has(info.name) || info.ppid <= 1) break;
    pid = info.ppid;
    pids.push(pid);
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Calls `onGone` once, when the launcher is gone. Returns a function that stops watching. */
export function watchLauncher(onGone: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const ancestors = launcherPids().slice(1);
  const timer = setInterval(() => {
    if (process.ppid === parent && ancestors.every(alive)) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
