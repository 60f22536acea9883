/**
 * `npm run demo` under something that signals only npm (a supervisor, `timeout`, a container stop) must not
 * leave the demo, the sandbox and the private redis-server running. A stand-in for npm launches the built
 * demo the way npm does (through `sh -c`, with npm's environment) or directly, and is killed with SIGKILL:
 * every port the demo opened closes within a few seconds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../src/redis-server';
import { cleanEnv, DIST, killChildren, portOpen, requireBuilt, run } from './processes';

beforeAll(requireBuilt);

/** Processes the launcher started (pid and command line), killed after each test if they still run. */
let descendants: { pid: number; cmdline: string }[] = [];

afterEach(() => {
  killChildren();
  for (const { pid, cmdline } of descendants.splice(0)) {
    if (readCmdline(pid) === cmdline) process.kill(pid, 'SIGKILL');
  }
});

function readCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every process below `pid` (Linux /proc). */
function descendantsOf(pid: number): { pid: number; cmdline: string }[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [{ pid: child, cmdline: readCmdline(child) ?? '' }, ...descendantsOf(child)]);
}

/** Stands in for npm: starts the demo (through `sh -c` as npm does, or directly) and stays up. */
const LAUNCHER = `
const { spawn } = require('node:child_process');
const [mode, node, demo] = process.argv.slice(1);
const child = mode === 'shell'
  ? spawn('sh', ['-c', '"' + node + '" "' + demo + '"'], { stdio: 'inherit' })
  : spawn(node, [demo], { stdio: 'inherit' });
child.on('exit', () => process.exit(0));
setInterval(() => {}, 1000);
`;

async function closedWithin(ports: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let open = ports;
  while (Date.now() < deadline) {
    open = (await Promise.all(ports.map(async (port) => ((await portOpen(port)) ? port : undefined)))).filter((p): p is number => p !== undefined);
    if (open.length === 0) return [];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return open;
}

test.each([
  ['like npm (launcher, then sh -c, then the demo)', 'shell', { npm_lifecycle_event: 'demo' }],
  ['launched directly', 'direct', {}],
])('%s: a SIGKILL of the launcher stops the demo, the sandbox and the private redis-server', async (_how, mode, env) => {
  const launcher = run('', cleanEnv({ PORT: String(await freePort()), ...env }), ['-e', LAUNCHER, mode, process.execPath, join(DIST, 'demo.js')]);
  const [, url] = await launcher.waitFor(/Open:\s+(http:\/\/\S+)/, 20_000);
  const [, redisPort] = await launcher.waitFor(/private redis-server on 127\.0\.0\.1:(\d+)/);
  const [, sandboxUrl] = await launcher.waitFor(/Sandbox:\s+(http:\/\/\S+)/);
  descendants = descendantsOf(launcher.process.pid as number);
  expect(descendants.some((d) => d.cmdline.includes('demo.js'))).toBe(true);
  expect(descendants.some((d) => d.cmdline.includes('redis-server'))).toBe(true);
  const ports = [Number(new URL(url).port), Number(new URL(sandboxUrl).port), Number(redisPort)];
  expect(await closedWithin(ports, 0)).toEqual(ports); // all up

  launcher.process.kill('SIGKILL');
  expect(await closedWithin(ports, 5000)).toEqual([]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const { pid, cmdline } of descendants) expect({ cmdline, running: readCmdline(pid) === cmdline }).toEqual({ cmdline, running: false });
}, 40_000);
