/**
 * A real browser (Debian's chromium driven by playwright-core) clicks through the app for every
 * provider: home, Sign in, Approve on the sandbox consent page, account page with the profile, Call the
 * API, Log out. Saves screenshots of the account page to test-artifacts/ (and docs/account.png when it is
 * missing or UPDATE_DOCS_SCREENSHOT=1).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunningSandbox } from '@passport-martech/sandbox';
import { catalogEntry, PROVIDER_IDS } from '../src/catalog';
import { startServer, type RunningServer } from '../src/server';
import { freePort } from '../src/redis-server';
import { demoEmail, sandboxFor, startRedisServer, testConfig, type PrivateRedis } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(__dirname, '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');

// Under CI=true the suite never skips: a missing browser fails it (npm test checks for it first).
const suite = existsSync(CHROMIUM) || process.env.CI === 'true' ? describe : describe.skip;
if (!existsSync(CHROMIUM) && process.env.CI !== 'true') {
  console.warn(`Browser suite skipped: ${CHROMIUM} not found (install Debian's chromium package to run it).`);
}

jest.setTimeout(90_000);

suite('in a real browser (chromium)', () => {
  let redis: PrivateRedis;
  let sandbox: RunningSandbox;
  let server: RunningServer;
  let context: BrowserContext;
  let profileDir: string;
  let url: string;

  beforeAll(async () => {
    redis = await startRedisServer();
    sandbox = await sandboxFor({ autoApprove: false });
    const port = await freePort();
    url = `http://localhost:${port}`;
    server = await startServer(testConfig(sandbox, redis.url, { PORT: String(port), BASE_URL: url }));
    profileDir = mkdtempSync(join(tmpdir(), 'martech-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
      viewport: { width: 1100, height: 900 },
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await context?.close();
    await server?.close(1000);
    await sandbox?.close();
    await redis?.stop();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  async function signIn(page: Page, provider: (typeof PROVIDER_IDS)[number], button: string): Promise<void> {
    // Sign in is a link; Link is a form's button (a CSRF-checked POST).
    await page.getByRole(button === 'Link' ? 'button' : 'link', { name: `${button} ${catalogEntry(provider).name}` }).click();
    // The sandbox's consent page (another origin).
    await page.waitForURL(`${sandbox.url}/${provider}/**`);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${url}/account`);
  }

  test.each(PROVIDER_IDS)('%s: sign in, approve, profile, call the API, log out', async (provider) => {
    const page = await context.newPage();
    try {
      await page.goto(url);
      await expectText(page, 'Sign in with your marketing or CRM account');
      await signIn(page, provider, 'Sign in with');

      const card = page.locator(`#provider-${provider}`);
      await expectText(page, demoEmail(provider), card);
      await card.getByRole('button', { name: 'Call the API' }).click();
      await page.locator('#api-result').waitFor();
      expect(await page.locator('#api-status').textContent()).toBe('200');
      expect(await page.locator('#api-result pre').textContent()).toContain('ada@example.com');
      // The countdown script runs (CSP allows our own script).
      await page.locator('time[data-expires-at]', { hasText: 'expires in' }).first().waitFor();
      await page.screenshot({ path: join(ARTIFACTS, `account-${provider}.png`), fullPage: true });

      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await page.waitForURL(`${url}/`);
      await expectText(page, `Sign in with ${catalogEntry(provider).name}`);
      await page.goto(`${url}/account`);
      expect(new URL(page.url()).pathname).toBe('/');
    } finally {
      await page.close();
    }
  });

  test('linking: HubSpot, then Marketo and BoomTown on the same account (screenshot for the README)', async () => {
    const page = await context.newPage();
    try {
      await page.goto(url);
      await signIn(page, 'hubspot', 'Sign in with');
      await signIn(page, 'marketo', 'Link');
      await signIn(page, 'boomtown', 'Link');
      for (const id of ['hubspot', 'marketo', 'boomtown']) await page.locator(`#provider-${id}`).waitFor();
      await page.locator('#provider-hubspot').getByRole('button', { name: 'Call the API' }).click();
      await page.locator('#api-result').waitFor();
      await page.locator('time[data-expires-at]', { hasText: 'expires in' }).first().waitFor();
      const shot = join(ARTIFACTS, 'account.png');
      await page.screenshot({ path: shot, fullPage: true });
      // The README's screenshot: written when missing, or refreshed with UPDATE_DOCS_SCREENSHOT=1 (so a
      // test run does not change a tracked file every time).
      const docsShot = join(ROOT, 'docs', 'account.png');
      if (!existsSync(docsShot) || process.env.UPDATE_DOCS_SCREENSHOT === '1') {
        mkdirSync(join(ROOT, 'docs'), { recursive: true });
        copyFileSync(shot, docsShot);
      }
      await page.getByRole('button', { name: 'Log out', exact: true }).click();
      await page.waitForURL(`${url}/`);
    } finally {
      await page.close();
    }
  });
});

async function expectText(page: Page, text: string, within?: ReturnType<Page['locator']>): Promise<void> {
  await (within ?? page.locator('body')).getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}
