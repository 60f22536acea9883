/**
 * Every variable the app reads, with a one-line description: the server's own (SERVER_VARS, which
 * .env.example and the README list) and each catalog provider's (generated from the catalog; printed by
 * `node dist/main.js --print-env`, see envTemplate).
 */
import { catalog } from './catalog';
import { providerVariables, type VariableDoc } from './provider-variables';

export const SERVER_VARS: readonly VariableDoc[] = [
  { name: 'PORT', description: 'Port to listen on (default 3000).', example: '3000' },
  { name: 'HOST', description: 'Address to listen on (default 127.0.0.1; 0.0.0.0 in a container).', example: '127.0.0.1' },
  { name: 'BASE_URL', description: 'Public origin of the app (default http://localhost:<PORT>); https turns on secure cookies and trust proxy.', example: 'http://localhost:3000' },
  { name: 'SESSION_SECRET', description: 'Secret that signs the session cookie, 32+ characters. Required outside demo mode.' },
  { name: 'SESSION_TTL_SECONDS', description: 'Session lifetime in Redis and of the cookie (default 86400).', example: '86400' },
  {
    name: 'SESSION_TOUCH_SECONDS',
    description: "Refresh an unchanged session's expiry in Redis at most this often, per instance (default 60, or SESSION_TTL_SECONDS / 10 if less; at most SESSION_TTL_SECONDS / 2; 0 = on every request).",
    example: '60',
  },
  {
    name: 'REDIS_URL',
    description: 'One Redis server for sessions, accounts and tokens: redis://[user:password@]host:port, rediss:// for TLS (default redis://127.0.0.1:6379); `memory` = in-process stores. Set only one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS.',
    example: 'redis://127.0.0.1:6379',
  },
  { name: 'REDIS_CLUSTER_NODES', description: 'A Redis Cluster instead: some of its nodes as host:port,host:port (the rest are discovered).', example: '10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379' },
  { name: 'REDIS_SENTINELS', description: 'Redis Sentinel instead: the sentinels as host:port,host:port; the app follows the master they name through a failover.', example: '10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379' },
  { name: 'REDIS_SENTINEL_NAME', description: 'With REDIS_SENTINELS: the master name the sentinels monitor (required).', example: 'mymaster' },
  { name: 'REDIS_USERNAME', description: 'With REDIS_CLUSTER_NODES or REDIS_SENTINELS: ACL user of the data servers (REDIS_URL carries its own).', example: 'app' },
  { name: 'REDIS_PASSWORD', description: 'With REDIS_CLUSTER_NODES or REDIS_SENTINELS: password of the data servers (requirepass, or the ACL user\'s).' },
  { name: 'REDIS_TLS', description: 'With REDIS_CLUSTER_NODES or REDIS_SENTINELS: true = TLS to every node, sentinels included (default false; extra CAs: NODE_EXTRA_CA_CERTS).', example: 'false' },
  { name: 'REDIS_SENTINEL_USERNAME', description: 'With REDIS_SENTINELS: ACL user of the sentinels themselves, when they require one.' },
  { name: 'REDIS_SENTINEL_PASSWORD', description: 'With REDIS_SENTINELS: password of the sentinels themselves (their requirepass), when set.' },
  {
    name: 'REDIS_REPLICA_ACKS',
    description: 'A refreshed token set counts as saved once this many replicas have it (WAIT; default 0). With Sentinel and 2+ replicas, 1 is recommended (refresh README "Running on Redis Cluster / Sentinel"); not with a Cluster.',
    example: '0',
  },
  { name: 'REDIS_CONNECT_TIMEOUT_MS', description: 'Give up a Redis connection attempt after this long (default 1000).', example: '1000' },
  { name: 'REDIS_COMMAND_TIMEOUT_MS', description: 'Fail a Redis command after this long (default 800), so a hung Redis gives 503, not a hang.', example: '800' },
  {
    name: 'TOKEN_ENCRYPTION_KEY',
    description: 'AES-256-GCM key for tokens at rest: 64 hex characters or 44 base64 characters (generated in demo mode).',
    example: '<output of: openssl rand -hex 32>',
  },
  { name: 'TRUST_PROXY', description: 'Express trust proxy: true, false or a hop count (default 1 when BASE_URL is https, else false).', example: 'false' },
  {
    name: 'AUTH_RATE_LIMIT',
    description: 'Requests to /auth/* (login starts and callbacks) per minute per client address, per instance (default 30; 0 = no limit). Set TRUST_PROXY behind a proxy.',
    example: '30',
  },
  { name: 'HTTP_HEADERS_TIMEOUT_MS', description: "A request's headers must all arrive within this long, or the connection is closed (default 10000).", example: '10000' },
  {
    name: 'HTTP_REQUEST_TIMEOUT_MS',
    description: 'A whole request, body included, must arrive within this long, or it gets 408 and the connection is closed (default 30000).',
    example: '30000',
  },
  {
    name: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
    description: "An idle keep-alive connection is closed after this long (default 65000: longer than a proxy's idle timeout; 5000 without a proxy).",
    example: '65000',
  },
  { name: 'MAX_CONNECTIONS', description: 'Connections open at once; further ones are closed at once (default 1000; 0 = no cap).', example: '1000' },
  { name: 'LOG_LEVEL', description: 'pino level: fatal, error, warn, info, debug, trace or silent (default info).', example: 'info' },
  {
    name: 'METRICS_TOKEN',
    description: 'Serve token-traffic counters (Prometheus text format) at GET /metrics to `Authorization: Bearer <token>`; 32+ characters. Unset: no /metrics.',
  },
  { name: 'PROVIDER_TIMEOUT_MS', description: 'Timeout of each request to a provider: token, profile and API calls (default 10000).', example: '10000' },
  { name: 'SANDBOX_URL', description: 'Demo mode: point every provider at this @passport-martech/sandbox with its demo clients.', example: 'http://127.0.0.1:4000' },
  { name: 'SANDBOX_PORT', description: '`npm run demo` only: port of the sandbox it starts (default: a free port).', example: '4000' },
];

/** Every variable the app reads: the server's, then each provider's in catalog order. */
export const ENV_VARS: readonly VariableDoc[] = [...SERVER_VARS, ...catalog.flatMap((entry) => providerVariables(entry))];

function lines(vars: readonly VariableDoc[], required: ReadonlySet<string>): string[] {
  return vars.flatMap((v) => [`# ${v.description}`, `${required.has(v.name) ? '' : '# '}${v.name}=${v.example ?? ''}`]);
}

/**
 * A complete `.env` template: every variable, commented out with its default or an example, the
 * server's first, then one section per catalog provider. `--print-env` prints it.
 */
export function envTemplate(): string {
  const sections = [
    ['# --- server, sessions, Redis ---', ...lines(SERVER_VARS, new Set(['SESSION_SECRET']))],
    ...catalog.map((entry) => [`# --- ${entry.name} (${entry.id}) ---`, ...lines(providerVariables(entry), new Set())]),
  ];
  return `${sections.map((section) => section.join('\n')).join('\n\n')}\n`;
}
