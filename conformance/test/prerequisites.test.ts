/** `npm test` stops at once, in one line, when redis-server or chromium is missing. */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '../../scripts/check-prerequisites.js');

function check(env: Record<string, string>) {
  const result = spawnSync(process.execPath, [SCRIPT], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: result.status, lines: result.stderr.trim().split('\n').filter(Boolean) };
}

describe('scripts/check-prerequisites.js', () => {
  it('names both Debian packages and the apt command when both are missing', () => {
    const { status, lines } = check({ PREREQ_PATH: '/nonexistent', PREREQ_CHROMIUM: '/nonexistent/chromium' });
    expect(status).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('sudo apt-get install -y redis-server chromium');
  });

  it('names only chromium when redis-server is on PATH', () => {
    const redisDir = dirname(spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim());
    const { status, lines } = check({ PREREQ_PATH: redisDir, PREREQ_CHROMIUM: '/nonexistent/chromium' });
    expect([status, lines]).toEqual([1, [expect.stringMatching(/needs chromium .*apt-get install -y chromium$/)]]);
  });

  it('passes silently when both are there', () => {
    expect(check({ PREREQ_CHROMIUM: process.execPath })).toEqual({ status: 0, lines: [] });
  });
});
