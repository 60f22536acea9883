/**
 * Readiness: can Redis take a write right now? `/readyz` (and `/healthz`) answer from this probe, so that
 * a load balancer stops sending users to an instance that would answer 503.
 *
 * A PING is not enough: a demoted master (READONLY), a master without its replicas under
 * `min-replicas-to-write` (NOREPLICAS), a single-server client pointed at a Cluster node (MOVED) all answer
 * PING. The probe writes a short-lived key instead: on a Cluster one key on every master (each master owns
 * other slots, and any of them may be the one a request needs); on one server or behind Sentinel one key,
 * after checking once per connection that the server is not a Cluster node.
 */
import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './redis';

export interface Readiness {
  ready: boolean;
  /** Why not: `no connection`, `timeout`, or the error reply's code (READONLY, NOREPLICAS, MOVED, ...). Never a key or value. */
  reason?: string;
}

const SLOTS = 16384;
/** A probe key expires by itself: nothing to clean up. */
const PROBE_TTL_MS = 10_000;

/** CRC16/XMODEM, the checksum Redis Cluster maps keys to slots with. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The cluster slot of a key: only the part inside the first non-empty `{...}` counts (a hash tag). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open === -1 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(Buffer.from(hashed)) % SLOTS;
}

/** The code of an error reply (`READONLY You can't write...` -> READONLY), or how the command failed. */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/timed out/i.test(message)) return 'timeout';
  const code = /^([A-Z][A-Z_]+)\b/.exec(message)?.[1];
  if (code && code !== 'ERR') return code;
  return /closed|enableOfflineQueue|ECONNREFUSED|Stream isn't writeable/i.test(message) ? 'no connection' : 'error';
}

/** One probe key per master the client knows of (by the slot table ioredis keeps). */
function clusterProbeKeys(cluster: Cluster, prefix: string): string[] {
  const owners = new Map<string, string>();
  const masters = new Set(cluster.slots.map((nodes) => nodes?.[0]).filter((n): n is string => n !== undefined));
  for (let i = 0; owners.size < masters.size && i < 100 * SLOTS; i++) {
    const key = `${prefix}readyz:{${i}}`;
    const owner = cluster.slots[keySlot(key)]?.[0];
    if (owner !== undefined && !owners.has(owner)) owners.set(owner, key);
  }
  return owners.size ? [...owners.values()] : [`${prefix}readyz:{0}`];
}

/**
 * A probe function for `client`. Concurrent calls share one probe; keys are `<prefix>readyz:{n}` strings
 * that expire after 10 s.
 */
export function writeProbe(client: RedisClient, prefix: string): () => Promise<Readiness> {
  /** Per connection of a single-server client: is that server a Cluster node? (Checked once per `ready`.) */
  let clusterNode: Promise<boolean> | undefined;
  if (client instanceof Redis) client.on('ready', () => (clusterNode = undefined));
  let running: Promise<Readiness> | undefined;

  const probe = async (): Promise<Readiness> => {
    if (client.status !== 'ready') return { ready: false, reason: 'no connection' };
    try {
      const value = String(Date.now());
      if (client instanceof Cluster) {
        await Promise.all(clusterProbeKeys(client, prefix).map((key) => client.set(key, value, 'PX', PROBE_TTL_MS)));
        return { ready: true };
      }
      clusterNode ??= client.info('cluster').then((info) => /cluster_enabled:1/.test(info));
      // A write may succeed on the node that owns the probe key's slot; every other key would get MOVED.
      if (await clusterNode) return { ready: false, reason: 'MOVED' };
      await client.set(`${prefix}readyz:{0}`, value, 'PX', PROBE_TTL_MS);
      return { ready: true };
    } catch (err) {
      clusterNode = undefined;
      return { ready: false, reason: reasonOf(err) };
    }
  };
  return () => (running ??= probe().finally(() => (running = undefined)));
}
