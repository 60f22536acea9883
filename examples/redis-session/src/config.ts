/**
 * Configuration from environment variables, validated once at start. Every wrong value gets its own
 * line in one ConfigError, so a person fixes them all in one go.
 */
import { randomBytes } from 'node:crypto';
import { encryptionKeyId } from '@passport-martech/refresh';

export const PROVIDER_IDS = ['hubspot', 'marketo', 'ontraport', 'customerio', 'boomtown'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === 'string' && (PROVIDER_IDS as readonly string[]).includes(value);
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What every provider takes; URLs override the package defaults ("only URLs change" for a sandbox). */
export interface ProviderSettings {
  clientID: string;
  /** Absent only for public clients of an MCP authorization server. */
  clientSecret?: string;
  scope?: string[];
  authorizationURL?: string;
  tokenURL?: string;
  userProfileURL?: string;
  /** Base of the provider's REST API, used by "Call the API". */
  apiBaseURL: string;
  /** Milliseconds per request to the provider (token, profile, API call). */
  timeoutMs: number;
  /** HubSpot */
  region?: string;
  accountId?: string;
  apiVersion?: '2026-03' | 'v3' | 'v1';
  /** Marketo */
  instanceURL?: string;
  /** Ontraport, Customer.io */
  authServer?: 'guide' | 'mcp';
}

export interface AppConfig {
  port: number;
  host: string;
  /** Origin the browser uses, without a trailing slash; callback URLs are built from it. */
  baseUrl: string;
  sessionSecret: string;
  sessionTtlSeconds: number;
  /** A session's expiry in Redis is pushed at most this often per instance (0 = on every request). */
  sessionTouchSeconds: number;
  /** `redis://` / `rediss://` URL, or `memory` for in-process stores (one process, development only). */
  redisUrl: string;
  redisConnectTimeoutMs: number;
  redisCommandTimeoutMs: number;
  /** 32-byte key as 64 hex chars or base64; tokens are stored encrypted when set. */
  tokenEncryptionKey?: string;
  /** Express `trust proxy`. */
  trustProxy: boolean | number;
  /** Requests to /auth/* per minute per client address (0 = no limit). */
  authRateLimit: number;
  /** HTTP server limits (server.ts): all of a request's headers / the whole request must arrive within these. */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; further ones are closed at once (0 = no cap). */
  maxConnections: number;
  logLevel: LogLevel;
  /** Demo mode: providers point at this sandbox with its demo clients. */
  sandboxUrl?: string;
  providers: Partial<Record<ProviderId, ProviderSettings>>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Display names and env prefixes, in page order. */
export const PROVIDER_INFO: Record<ProviderId, { name: string; env: string }> = {
  hubspot: { name: 'HubSpot', env: 'HUBSPOT' },
  marketo: { name: 'Marketo', env: 'MARKETO' },
  ontraport: { name: 'Ontraport', env: 'ONTRAPORT' },
  customerio: { name: 'Customer.io', env: 'CUSTOMERIO' },
  boomtown: { name: 'BoomTown', env: 'BOOMTOWN' },
};

/** What a provider needs to be switched on, for the home page's "not configured" list. */
export function enablingVariables(id: ProviderId): string[] {
  const env = PROVIDER_INFO[id].env;
  const vars = [`${env}_CLIENT_ID`, `${env}_CLIENT_SECRET`];
  if (id === 'marketo') vars.push('MARKETO_INSTANCE_URL');
  return vars;
}

/** Every variable the app reads, with a one-line description (README and .env.example follow it). */
export const ENV_VARS: { name: string; description: string }[] = [
  { name: 'PORT', description: 'Port to listen on (default 3000).' },
  { name: 'HOST', description: 'Address to listen on (default 127.0.0.1; 0.0.0.0 in a container).' },
  { name: 'BASE_URL', description: 'Public origin of the app (default http://localhost:<PORT>); https turns on secure cookies and trust proxy.' },
  { name: 'SESSION_SECRET', description: 'Secret that signs the session cookie, 32+ characters. Required outside demo mode.' },
  { name: 'SESSION_TTL_SECONDS', description: 'Session lifetime in Redis and of the cookie (default 86400).' },
  {
    name: 'SESSION_TOUCH_SECONDS',
    description: "Refresh an unchanged session's expiry in Redis at most this often, per instance (default 60, or SESSION_TTL_SECONDS / 10 if less; at most SESSION_TTL_SECONDS / 2; 0 = on every request).",
  },
  { name: 'REDIS_URL', description: 'redis:// or rediss:// URL for sessions, accounts and tokens (default redis://127.0.0.1:6379); `memory` = in-process stores.' },
  { name: 'REDIS_CONNECT_TIMEOUT_MS', description: 'Give up a Redis connection attempt after this long (default 1000).' },
  { name: 'REDIS_COMMAND_TIMEOUT_MS', description: 'Fail a Redis command after this long (default 800), so a hung Redis gives 503, not a hang.' },
  { name: 'TOKEN_ENCRYPTION_KEY', description: 'AES-256-GCM key for tokens at rest: 64 hex characters or 44 base64 characters (generated in demo mode).' },
  { name: 'TRUST_PROXY', description: 'Express trust proxy: true, false or a hop count (default 1 when BASE_URL is https, else false).' },
  { name: 'AUTH_RATE_LIMIT', description: 'Requests to /auth/* (login starts and callbacks) per minute per client address, per instance (default 30; 0 = no limit). Set TRUST_PROXY behind a proxy.' },
  { name: 'HTTP_HEADERS_TIMEOUT_MS', description: "A request's headers must all arrive within this long, or the connection is closed (default 10000)." },
  { name: 'HTTP_REQUEST_TIMEOUT_MS', description: 'A whole request, body included, must arrive within this long, or it gets 408 and the connection is closed (default 30000).' },
  { name: 'HTTP_KEEP_ALIVE_TIMEOUT_MS', description: "An idle keep-alive connection is closed after this long (default 65000: longer than a proxy's idle timeout; 5000 without a proxy)." },
  { name: 'MAX_CONNECTIONS', description: 'Connections open at once; further ones are closed at once (default 1000; 0 = no cap).' },
  { name: 'LOG_LEVEL', description: 'pino level: fatal, error, warn, info, debug, trace or silent (default info).' },
  { name: 'PROVIDER_TIMEOUT_MS', description: 'Timeout of each request to a provider: token, profile and API calls (default 10000).' },
  { name: 'SANDBOX_URL', description: 'Demo mode: point every provider at this @passport-martech/sandbox with its demo clients.' },
  { name: 'SANDBOX_PORT', description: '`npm run demo` only: port of the sandbox it starts (default: a free port).' },
  ...PROVIDER_IDS.flatMap((id) => providerVars(id)),
];

function providerVars(id: ProviderId): { name: string; description: string }[] {
  const { env, name } = PROVIDER_INFO[id];
  const vars = [
    { name: `${env}_CLIENT_ID`, description: `${name} OAuth client id; setting it enables ${name}.` },
    { name: `${env}_CLIENT_SECRET`, description: `${name} OAuth client secret.` },
    { name: `${env}_SCOPE`, description: `${name} scopes, space- or comma-separated (default: the strategy's).` },
    { name: `${env}_API_BASE_URL`, description: `${name} REST API base used by "Call the API".` },
    { name: `${env}_AUTHORIZATION_URL`, description: `Override the ${name} authorization endpoint.` },
    { name: `${env}_TOKEN_URL`, description: `Override the ${name} token endpoint.` },
    { name: `${env}_USER_PROFILE_URL`, description: `${name} identity endpoint (default: the strategy's).` },
  ];
  if (id === 'hubspot') {
    vars.push(
      { name: 'HUBSPOT_REGION', description: 'na1 (default) or eu1: the authorization host.' },
      { name: 'HUBSPOT_ACCOUNT_ID', description: 'Pin the install to one HubSpot account (digits).' },
      { name: 'HUBSPOT_API_VERSION', description: '2026-03 (default), v3 or v1: token and identity endpoints.' },
    );
  }
  if (id === 'marketo') vars.push({ name: 'MARKETO_INSTANCE_URL', description: 'Required with MARKETO_CLIENT_ID: https://<instance>.marketo.com.' });
  if (id === 'ontraport' || id === 'customerio') {
    vars.push({ name: `${env}_AUTH_SERVER`, description: `guide (default) or mcp: which ${name} authorization server.` });
  }
  if (id === 'customerio') vars.push({ name: 'CUSTOMERIO_REGION', description: 'us (default) or eu.' });
  return vars;
}

/** Paths of each provider inside a sandbox (`${SANDBOX_URL}/<id>`), per flow. */
function sandboxSettings(id: ProviderId, sandbox: string, authServer: 'guide' | 'mcp', apiVersion: string): Partial<ProviderSettings> {
  const base = `${sandbox}/${id}`;
  switch (id) {
    case 'hubspot': {
      const token = { '2026-03': '/oauth/2026-03/token', v3: '/oauth/v3/token', v1: '/oauth/v1/token' }[apiVersion] ?? '/oauth/2026-03/token';
      const identity =
        { '2026-03': '/oauth/2026-03/token/introspect', v3: '/oauth/v3/token/introspect', v1: '/oauth/v1/access-tokens' }[apiVersion] ??
        '/oauth/2026-03/token/introspect';
      return { authorizationURL: `${base}/oauth/authorize`, tokenURL: `${base}${token}`, userProfileURL: `${base}${identity}`, apiBaseURL: base };
    }
    case 'marketo':
      return { instanceURL: base, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/rest` };
    case 'ontraport':
      return authServer === 'mcp'
        ? { authorizationURL: `${base}/oauth/authorize`, tokenURL: `${base}/oauth/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/1` }
        : { authorizationURL: `${base}/oauth2/auth`, tokenURL: `${base}/oauth2/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/1` };
    case 'customerio':
      return authServer === 'mcp'
        ? { authorizationURL: `${base}/oauth2/authorize`, tokenURL: `${base}/oauth2/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/v1` }
        : { authorizationURL: `${base}/oauth/authorize`, tokenURL: `${base}/v1/oauth/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/v1` };
    case 'boomtown':
      return { authorizationURL: `${base}/oauth/authorize`, tokenURL: `${base}/oauth/token`, userProfileURL: `${base}/userinfo`, apiBaseURL: `${base}/v1` };
  }
}

/** Default REST bases of the real providers (from the strategy packages' documentation). */
function defaultApiBase(id: ProviderId, s: Partial<ProviderSettings>): string {
  switch (id) {
    case 'hubspot':
      return 'https://api.hubapi.com';
    case 'marketo':
      return `${(s.instanceURL ?? '').replace(/\/+$/, '')}/rest`;
    case 'ontraport':
      return 'https://api.ontraport.com/1';
    case 'customerio':
      return s.region === 'eu' ? 'https://api-eu.customer.io/v1' : 'https://api.customer.io/v1';
    case 'boomtown':
      return 'https://api.boomtownroi.com/v1';
  }
}

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  /** The value, or undefined when unset or blank. */
  get(name: string): string | undefined {
    const value = this.env[name];
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  problem(name: string, message: string, value?: string): void {
    const masked = value === undefined ? undefined : maskUserinfo(value);
    const shown = masked === undefined ? '' : ` (got ${JSON.stringify(masked.length > 60 ? `${masked.slice(0, 60)}...` : masked)})`;
    this.problems.push(`${name} ${message}${shown}`);
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(name, `must be an integer from ${min} to ${max}`, value);
      return fallback;
    }
    return n;
  }

  url(name: string, options: { protocols?: string[]; originOnly?: boolean } = {}): string | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    const protocols = options.protocols ?? ['http:', 'https:'];
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.problem(name, `must be an absolute URL (${protocols.map((p) => `${p}//`).join(' or ')}...)`, value);
      return undefined;
    }
    if (!protocols.includes(url.protocol)) {
      this.problem(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`, value);
      return undefined;
    }
    if (options.originOnly && (url.pathname !== '/' || url.search || url.hash || url.username || url.password)) {
      this.problem(name, 'must be an origin only, like https://app.example.com (no path, query or credentials)', value);
      return undefined;
    }
    return options.originOnly ? url.origin : value.replace(/\/+$/, '');
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.get(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problem(name, `must be one of ${allowed.join(', ')}`, value);
      return fallback;
    }
    return value as T;
  }
}

/**
 * A value as it may be shown in an error message: the userinfo of anything URL-like (`scheme://user:pass@`,
 * also a malformed `http//:pass@host`) replaced by `***`, so that a config error never prints a password.
 */
export function maskUserinfo(value: string): string {
  return value.replace(/(\/\/|^)\S*@/g, '$1***@');
}

/** The refresh package's own key check (hex or base64, 32 bytes), so the two cannot disagree. */
function isEncryptionKey(value: string): boolean {
  try {
    encryptionKeyId(value);
    return true;
  } catch {
    return false;
  }
}

function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const scopes = value.split(/[\s,]+/).filter(Boolean);
  return scopes.length ? scopes : undefined;
}

/**
 * Reads and checks the configuration. Throws ConfigError listing every problem. With SANDBOX_URL set
 * (demo mode) every provider is configured against the sandbox, and a missing SESSION_SECRET or
 * TOKEN_ENCRYPTION_KEY is generated.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  const r = new Reader(env);
  const sandboxUrl = r.url('SANDBOX_URL', { protocols: ['http:', 'https:'] });
  const demo = sandboxUrl !== undefined || r.get('SANDBOX_URL') !== undefined;

  const port = r.integer('PORT', 3000, 0, 65535);
  const host = r.get('HOST') ?? '127.0.0.1';
  let baseUrl = r.url('BASE_URL', { originOnly: true });
  if (baseUrl === undefined && r.get('BASE_URL') === undefined) {
    if (port === 0) r.problem('BASE_URL', 'is required when PORT is 0 (the callback URLs need the real port)');
    baseUrl = `http://localhost:${port}`;
  }
  const https = baseUrl?.startsWith('https:') ?? false;

  let sessionSecret = r.get('SESSION_SECRET');
  if (sessionSecret === undefined) {
    if (demo) sessionSecret = randomBytes(32).toString('base64url');
    else r.problem('SESSION_SECRET', 'is required (32+ random characters, e.g. `openssl rand -base64 32`); only demo mode generates one');
  } else if (sessionSecret.length < 32) {
    r.problems.push(`SESSION_SECRET must be at least 32 characters (got ${sessionSecret.length})`);
  }
  const sessionTtlSeconds = r.integer('SESSION_TTL_SECONDS', 86400, 60, 365 * 86400);
  // An idle session expires between TTL - touch and TTL after its last request: keep the touch small.
  const touchDefault = Math.min(60, Math.floor(sessionTtlSeconds / 10));
  let sessionTouchSeconds = r.integer('SESSION_TOUCH_SECONDS', touchDefault, 0, 365 * 86400);
  if (sessionTouchSeconds > sessionTtlSeconds / 2) {
    r.problem('SESSION_TOUCH_SECONDS', `must be at most half of SESSION_TTL_SECONDS, here ${Math.floor(sessionTtlSeconds / 2)}`, String(sessionTouchSeconds));
    sessionTouchSeconds = touchDefault;
  }

  let redisUrl = r.get('REDIS_URL') ?? 'redis://127.0.0.1:6379';
  if (redisUrl !== 'memory') redisUrl = r.url('REDIS_URL', { protocols: ['redis:', 'rediss:'] }) ?? redisUrl;
  const redisConnectTimeoutMs = r.integer('REDIS_CONNECT_TIMEOUT_MS', 1000, 50, 60_000);
  const redisCommandTimeoutMs = r.integer('REDIS_COMMAND_TIMEOUT_MS', 800, 50, 60_000);

  let tokenEncryptionKey = r.get('TOKEN_ENCRYPTION_KEY');
  if (tokenEncryptionKey !== undefined && !isEncryptionKey(tokenEncryptionKey)) {
    r.problems.push('TOKEN_ENCRYPTION_KEY must be 32 bytes as 64 hex characters or 44 base64 characters (e.g. `openssl rand -hex 32`)');
    tokenEncryptionKey = undefined;
  }
  if (tokenEncryptionKey === undefined && demo) tokenEncryptionKey = randomBytes(32).toString('hex');

  let trustProxy: boolean | number = https ? 1 : false;
  const trust = r.get('TRUST_PROXY');
  if (trust !== undefined) {
    if (trust === 'true') trustProxy = true;
    else if (trust === 'false') trustProxy = false;
    else if (/^\d{1,2}$/.test(trust)) trustProxy = Number(trust);
    else r.problem('TRUST_PROXY', 'must be true, false or a number of proxy hops', trust);
  }
  const logLevel = r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info');
  const authRateLimit = r.integer('AUTH_RATE_LIMIT', 30, 0, 1_000_000);
  const headersTimeoutMs = r.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = r.integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000);
  if (requestTimeoutMs < headersTimeoutMs) {
    r.problem('HTTP_REQUEST_TIMEOUT_MS', `must be at least HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs})`, String(requestTimeoutMs));
  }
  const keepAliveTimeoutMs = r.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 65_000, 100, 600_000);
  const maxConnections = r.integer('MAX_CONNECTIONS', 1000, 0, 1_000_000);

  const providerTimeoutMs = r.integer('PROVIDER_TIMEOUT_MS', 10_000, 100, 120_000);
  const providers: Partial<Record<ProviderId, ProviderSettings>> = {};
  for (const id of PROVIDER_IDS) {
    const settings = readProvider(r, id, sandboxUrl, providerTimeoutMs);
    if (settings) providers[id] = settings;
  }

  if (r.problems.length) throw new ConfigError(r.problems);
  return {
    port,
    host,
    baseUrl: baseUrl as string,
    sessionSecret: sessionSecret as string,
    sessionTtlSeconds,
    sessionTouchSeconds,
    redisUrl,
    redisConnectTimeoutMs,
    redisCommandTimeoutMs,
    tokenEncryptionKey,
    trustProxy,
    authRateLimit,
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    maxConnections,
    logLevel,
    sandboxUrl,
    providers,
  };
}

function readProvider(r: Reader, id: ProviderId, sandboxUrl: string | undefined, timeoutMs: number): ProviderSettings | undefined {
  const env = PROVIDER_INFO[id].env;
  const v = (suffix: string) => `${env}_${suffix}`;
  let clientID = r.get(v('CLIENT_ID'));
  let clientSecret = r.get(v('CLIENT_SECRET'));
  if (clientID === undefined && sandboxUrl !== undefined) {
    // The sandbox's default client (demo credentials, not secrets).
    clientID = `demo-${id}-client`;
    clientSecret ??= `demo-${id}-secret`;
  }
  if (clientID === undefined) {
    if (clientSecret !== undefined) r.problems.push(`${v('CLIENT_SECRET')} is set but ${v('CLIENT_ID')} is not: set both to enable ${PROVIDER_INFO[id].name}`);
    return undefined;
  }

  const authServer = id === 'ontraport' || id === 'customerio' ? r.oneOf(v('AUTH_SERVER'), ['guide', 'mcp'] as const, 'guide') : undefined;
  if (clientSecret === undefined && authServer !== 'mcp') {
    r.problems.push(`${v('CLIENT_SECRET')} is required when ${v('CLIENT_ID')} is set`);
  }
  const settings: Partial<ProviderSettings> = { clientID, clientSecret, authServer, timeoutMs };
  if (id === 'hubspot') {
    settings.region = r.oneOf('HUBSPOT_REGION', ['na1', 'eu1'] as const, 'na1');
    settings.apiVersion = r.oneOf('HUBSPOT_API_VERSION', ['2026-03', 'v3', 'v1'] as const, '2026-03');
    const accountId = r.get('HUBSPOT_ACCOUNT_ID');
    if (accountId !== undefined && !/^\d+$/.test(accountId)) r.problem('HUBSPOT_ACCOUNT_ID', 'must be a HubSpot account id (digits only)', accountId);
    else settings.accountId = accountId;
  }
  if (id === 'customerio') settings.region = r.oneOf('CUSTOMERIO_REGION', ['us', 'eu'] as const, 'us');

  const sandbox = sandboxUrl ? sandboxSettings(id, sandboxUrl, authServer ?? 'guide', settings.apiVersion ?? '2026-03') : {};
  const instanceURL = r.url('MARKETO_INSTANCE_URL');
  if (id === 'marketo') {
    settings.instanceURL = instanceURL ?? sandbox.instanceURL;
    if (settings.instanceURL === undefined && r.get('MARKETO_INSTANCE_URL') === undefined) {
      r.problems.push('MARKETO_INSTANCE_URL is required when MARKETO_CLIENT_ID is set (your instance, e.g. https://app-ab12.marketo.com)');
    }
  }
  settings.scope = parseScope(r.get(v('SCOPE')));
  settings.authorizationURL = r.url(v('AUTHORIZATION_URL')) ?? sandbox.authorizationURL;
  settings.tokenURL = r.url(v('TOKEN_URL')) ?? sandbox.tokenURL;
  settings.userProfileURL = r.url(v('USER_PROFILE_URL')) ?? sandbox.userProfileURL;
  settings.apiBaseURL = r.url(v('API_BASE_URL')) ?? sandbox.apiBaseURL ?? defaultApiBase(id, settings);
  return settings as ProviderSettings;
}
