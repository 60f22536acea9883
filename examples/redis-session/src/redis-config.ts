/**
 * Which Redis the app uses, from the environment: one server (`REDIS_URL`), a Redis Cluster
 * (`REDIS_CLUSTER_NODES`), a Sentinel-managed master (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`), or
 * in-process stores (`REDIS_URL=memory`). At most one of the three may be set; none = redis://127.0.0.1:6379.
 */
import type { EnvReader } from './env';

export interface RedisNode {
  host: string;
  port: number;
}

/** Credentials and TLS for the data servers (a Cluster's nodes, the master and replicas behind Sentinel). */
export interface RedisAuth {
  username?: string;
  password?: string;
  /** TLS to every server (with Sentinel: to the sentinels too). */
  tls: boolean;
}

export type RedisTarget =
  | { kind: 'memory' }
  | { kind: 'url'; url: string }
  | ({ kind: 'cluster'; nodes: RedisNode[] } & RedisAuth)
  | ({ kind: 'sentinel'; sentinels: RedisNode[]; name: string; sentinelUsername?: string; sentinelPassword?: string } & RedisAuth);

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The variables that each name a Redis (at most one may be set). */
export const REDIS_VARIABLES = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const;

/** `host:port,host:port` (IPv6 as `[::1]:6379`); a problem per bad entry. */
function readNodes(r: EnvReader, name: string): RedisNode[] {
  const value = r.get(name) as string;
  const nodes: RedisNode[] = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/@[\]]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) {
      r.problem(name, 'must be a comma-separated list of host:port (like 10.0.0.1:6379,10.0.0.2:6379)', entry);
      continue;
    }
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  if (nodes.length === 0 && r.problems.every((p) => !p.startsWith(name))) r.problem(name, 'must name at least one host:port');
  return nodes;
}

function readBoolean(r: EnvReader, name: string): boolean {
  return r.oneOf(name, ['true', 'false'] as const, 'false') === 'true';
}

/** Read only with REDIS_SENTINELS: set with anything else they are refused, not silently ignored. */
const SENTINEL_ONLY = ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_SENTINEL_PASSWORD'];

export function readRedisTarget(r: EnvReader): RedisTarget {
  const given = REDIS_VARIABLES.filter((name) => r.get(name) !== undefined);
  if (given.length > 1) r.problems.push(`${given.join(' and ')} are both set: use one (a single server, a Cluster, or Sentinel)`);
  const auth = (): RedisAuth => ({ username: r.get('REDIS_USERNAME'), password: r.get('REDIS_PASSWORD'), tls: readBoolean(r, 'REDIS_TLS') });
  // Set beside REDIS_URL they would be ignored silently: the URL carries its own credentials and scheme.
  const urlOnly = () => {
    for (const name of ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS', ...SENTINEL_ONLY]) {
      if (r.get(name) !== undefined) r.problem(name, 'applies to REDIS_CLUSTER_NODES or REDIS_SENTINELS only (REDIS_URL carries its own: rediss://user:password@host:port)');
    }
  };

  if (given[0] === 'REDIS_CLUSTER_NODES') {
    for (const name of SENTINEL_ONLY) if (r.get(name) !== undefined) r.problem(name, 'applies to REDIS_SENTINELS only');
    return { kind: 'cluster', nodes: readNodes(r, 'REDIS_CLUSTER_NODES'), ...auth() };
  }
  if (given[0] === 'REDIS_SENTINELS') {
    const name = r.matching('REDIS_SENTINEL_NAME', /^[\w.-]{1,100}$/, 'the master name the sentinels monitor (letters, digits, . _ -)');
    if (r.get('REDIS_SENTINEL_NAME') === undefined) r.problem('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS (the master name the sentinels monitor)');
    return {
      kind: 'sentinel',
      sentinels: readNodes(r, 'REDIS_SENTINELS'),
      name: name ?? '',
      sentinelUsername: r.get('REDIS_SENTINEL_USERNAME'),
      sentinelPassword: r.get('REDIS_SENTINEL_PASSWORD'),
      ...auth(),
    };
  }
  urlOnly();
  const value = r.get('REDIS_URL') ?? DEFAULT_REDIS_URL;
  if (value === 'memory') return { kind: 'memory' };
  return { kind: 'url', url: r.url('REDIS_URL', { protocols: ['redis:', 'rediss:'] }) ?? value };
}

/**
 * REDIS_REPLICA_ACKS: the refresh package's `replicaAcks` (a refreshed token set counts as saved once that
 * many replicas have it, `WAIT`). For a master with replicas (Sentinel); a Cluster client cannot `WAIT` on
 * the master that took the write, so it is refused there.
 */
export function readReplicaAcks(r: EnvReader, target: RedisTarget): number {
  const acks = r.integer('REDIS_REPLICA_ACKS', 0, 0, 10);
  if (acks > 0 && target.kind === 'cluster') r.problem('REDIS_REPLICA_ACKS', 'cannot be used with REDIS_CLUSTER_NODES (WAIT would not reach the master that took the write)', String(acks));
  if (acks > 0 && target.kind === 'memory') r.problem('REDIS_REPLICA_ACKS', 'needs Redis (not REDIS_URL=memory)', String(acks));
  return acks;
}

/** How the target is shown in logs and the demo's banner: never a password. */
export function describeRedisTarget(target: RedisTarget): string {
  const list = (nodes: RedisNode[]) => nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',');
  switch (target.kind) {
    case 'memory':
      return 'in-process memory';
    case 'url':
      return target.url.replace(/\/\/[^@/]*@/, '//***@');
    case 'cluster':
      return `Redis Cluster via ${list(target.nodes)}${target.tls ? ' (TLS)' : ''}`;
    case 'sentinel':
      return `master "${target.name}" via sentinels ${list(target.sentinels)}${target.tls ? ' (TLS)' : ''}`;
  }
}
