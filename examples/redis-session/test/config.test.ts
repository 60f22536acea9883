/** Configuration checks, returnTo, escaping and log redaction: the pure parts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROVIDER_IDS } from '../src/catalog';
import { ConfigError, loadConfig } from '../src/config';
import { ENV_VARS, envTemplate, SERVER_VARS } from '../src/env-vars';
import { COMMON_VARIABLES } from '../src/provider-variables';
import { escapeHtml, html } from '../src/html';
import { redactUrl } from '../src/logging';
import { safeReturnTo } from '../src/security';

const SECRET = 'x'.repeat(40);

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  test('defaults outside demo mode: no provider configured, Redis on localhost', () => {
    const config = loadConfig({ SESSION_SECRET: SECRET });
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', baseUrl: 'http://localhost:3000', redis: { kind: 'url', url: 'redis://127.0.0.1:6379' }, trustProxy: false, logLevel: 'info' });
    expect(config.providers).toEqual({});
    expect(config.tokenEncryptionKey).toBeUndefined();
  });

  test('SESSION_SECRET is required outside demo mode, generated in demo mode', () => {
    expect(problems({})).toEqual([expect.stringMatching(/^SESSION_SECRET is required/)]);
    const demo = loadConfig({ SANDBOX_URL: 'http://127.0.0.1:4000' });
    expect(demo.sessionSecret.length).toBeGreaterThanOrEqual(32);
    expect(demo.tokenEncryptionKey).toMatch(/^[0-9a-f]{64}$/);
  });

  test('one clear message per wrong value', () => {
    const found = problems({
      PORT: 'eighty',
      BASE_URL: 'ftp://example.com',
      SESSION_SECRET: 'short',
      SESSION_TTL_SECONDS: '-5',
      REDIS_URL: 'http://localhost:6379',
      TOKEN_ENCRYPTION_KEY: 'abc',
      TRUST_PROXY: 'maybe',
      LOG_LEVEL: 'loud',
      HUBSPOT_CLIENT_ID: 'id',
      HUBSPOT_REGION: 'mars',
      MARKETO_CLIENT_ID: 'id',
      MARKETO_CLIENT_SECRET: 'secret',
      BOOMTOWN_CLIENT_SECRET: 'orphan',
      CUSTOMERIO_CLIENT_ID: 'id',
      CUSTOMERIO_CLIENT_SECRET: 'secret',
      CUSTOMERIO_API_BASE_URL: 'not a url',
    });
    expect(found).toEqual([
      'PORT must be an integer from 0 to 65535 (got "eighty")',
      'BASE_URL must start with http:// or https:// (got "ftp://example.com")',
      'SESSION_SECRET must be at least 32 characters (got 5)',
      'SESSION_TTL_SECONDS must be an integer from 60 to 31536000 (got "-5")',
      'REDIS_URL must start with redis:// or rediss:// (got "http://localhost:6379")',
      expect.stringMatching(/^TOKEN_ENCRYPTION_KEY must be 32 bytes/),
      'TRUST_PROXY must be true, false or a number of proxy hops (got "maybe")',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'HUBSPOT_CLIENT_SECRET is required when HUBSPOT_CLIENT_ID is set',
      'HUBSPOT_REGION must be one of na1, eu1 (got "mars")',
      expect.stringMatching(/^MARKETO_INSTANCE_URL is required when MARKETO_CLIENT_ID is set/),
      'CUSTOMERIO_API_BASE_URL must be an absolute URL (http:// or https://...) (got "not a url")',
      'BOOMTOWN_CLIENT_SECRET is set but BOOMTOWN_CLIENT_ID is not: set both to enable BoomTown',
    ]);
    expect(() => loadConfig({ PORT: 'x' })).toThrow(/Invalid configuration:\n {2}- PORT must be/);
  });

  test('SESSION_TOUCH_SECONDS: 60 by default, a tenth of a short TTL, at most half the TTL', () => {
    expect(loadConfig({ SESSION_SECRET: SECRET }).sessionTouchSeconds).toBe(60);
    expect(loadConfig({ SESSION_SECRET: SECRET, SESSION_TTL_SECONDS: '300' }).sessionTouchSeconds).toBe(30);
    expect(loadConfig({ SESSION_SECRET: SECRET, SESSION_TOUCH_SECONDS: '0' }).sessionTouchSeconds).toBe(0);
    expect(problems({ SESSION_SECRET: SECRET, SESSION_TTL_SECONDS: '600', SESSION_TOUCH_SECONDS: '301' })).toEqual([
      'SESSION_TOUCH_SECONDS must be at most half of SESSION_TTL_SECONDS, here 300 (got "301")',
    ]);
  });

  test('BASE_URL must be an origin; https turns on trust proxy', () => {
    expect(problems({ SESSION_SECRET: SECRET, BASE_URL: 'https://app.example.com/path' })).toEqual([expect.stringMatching(/^BASE_URL must be an origin only/)]);
    const config = loadConfig({ SESSION_SECRET: SECRET, BASE_URL: 'https://app.example.com/' });
    expect(config.baseUrl).toBe('https://app.example.com');
    expect(config.trustProxy).toBe(1);
  });

  test('a real provider from env: HubSpot EU with its defaults', () => {
    const config = loadConfig({ SESSION_SECRET: SECRET, HUBSPOT_CLIENT_ID: 'id', HUBSPOT_CLIENT_SECRET: 's', HUBSPOT_REGION: 'eu1', HUBSPOT_SCOPE: 'oauth crm.objects.contacts.read' });
    expect(config.providers.hubspot).toMatchObject({ clientID: 'id', region: 'eu1', apiBaseURL: 'https://api.hubapi.com', scope: ['oauth', 'crm.objects.contacts.read'] });
    expect(config.providers.hubspot?.authorizationURL).toBeUndefined();
  });

  test('demo mode points every catalog provider at the sandbox with its demo clients', () => {
    const config = loadConfig({ SANDBOX_URL: 'http://127.0.0.1:4000' });
    expect(Object.keys(config.providers)).toEqual([...PROVIDER_IDS]);
    expect(config.providers.marketo).toMatchObject({ clientID: 'demo-marketo-client', clientSecret: 'demo-marketo-secret', instanceURL: 'http://127.0.0.1:4000/marketo' });
    expect(config.providers.hubspot).toMatchObject({ tokenURL: 'http://127.0.0.1:4000/hubspot/oauth/2026-03/token', apiBaseURL: 'http://127.0.0.1:4000/hubspot' });
    expect(config.providers.boomtown?.userProfileURL).toBe('http://127.0.0.1:4000/boomtown/userinfo');
  });

  test('every variable read is documented in ENV_VARS (and so in .env.example)', () => {
    const names = ENV_VARS.map((v) => v.name);
    for (const name of ['PORT', 'BASE_URL', 'SESSION_SECRET', 'REDIS_URL', 'TOKEN_ENCRYPTION_KEY', 'HUBSPOT_REGION', 'MARKETO_INSTANCE_URL', 'CUSTOMERIO_REGION']) {
      expect(names).toContain(name);
    }
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('safeReturnTo', () => {
  test.each([
    ['/account', '/account'],
    ['/account?tab=1#top', '/account?tab=1#top'],
    ['/a/../b', '/b'],
    ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
  ])('accepts %j', (value, expected) => expect(safeReturnTo(value)).toBe(expected));

  test.each(['//evil.example', '///evil.example', '/\\evil.example', '\\/evil.example', 'https://evil.example', 'evil.example', '', ' /x', '/\r\n/evil', 'javascript:alert(1)', '/x\u0000', '/.//evil.example', '/a/..//evil.example', '/%2e//evil.example'])(
    'refuses %j',
    (value) => expect(safeReturnTo(value)).toBeUndefined(),
  );

  test('refuses non-strings (repeated query parameters)', () => {
    expect(safeReturnTo(['/a', '/b'])).toBeUndefined();
    expect(safeReturnTo({ toString: () => '/a' })).toBeUndefined();
  });
});

describe('html', () => {
  test('escapes every interpolation, keeps nested html', () => {
    const name = `<img src=x onerror="alert('1')">&`;
    expect(escapeHtml(name)).toBe('&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;');
    expect(html`<p title="${name}">${[name, html`<b>ok</b>`]}</p>`.value).toBe(
      `<p title="${escapeHtml(name)}">${escapeHtml(name)}<b>ok</b></p>`,
    );
  });
});

describe('redactUrl', () => {
  test('replaces code, state and tokens, keeps the rest', () => {
    expect(redactUrl('/auth/hubspot/callback?code=abc&state=def&x=1')).toBe('/auth/hubspot/callback?code=%5BRedacted%5D&state=%5BRedacted%5D&x=1');
    expect(redactUrl('http://p/authorize?client_id=c&state=s&code_challenge=cc')).not.toMatch(/=s&|=cc/);
    expect(redactUrl('/account')).toBe('/account');
  });
});

test('.env.example lists every server variable and says how to list the providers\' (no per-provider lines)', () => {
  const text = readFileSync(join(__dirname, '..', '.env.example'), 'utf8');
  for (const { name } of SERVER_VARS) expect(text).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  expect(text).toContain('--print-env');
  for (const id of PROVIDER_IDS) expect(text.toLowerCase()).not.toContain(id);
});

test('--print-env: a .env template with every variable, a section per provider', () => {
  const text = envTemplate();
  for (const { name } of ENV_VARS) expect(text).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  expect(text).toMatch(/^SESSION_SECRET=$/m);
  // Nothing switched on by copying it: provider variables are commented out.
  for (const { name } of ENV_VARS.filter((v) => !SERVER_VARS.includes(v))) expect(text).not.toMatch(new RegExp(`^${name}=`, 'm'));
});

test('README documents every server variable and the provider variables by their suffix', () => {
  const text = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  for (const { name } of SERVER_VARS) expect(text).toContain(`\`${name}\``);
  for (const { suffix } of COMMON_VARIABLES) expect(text).toContain(`\`<PREFIX>_${suffix}\``);
});
