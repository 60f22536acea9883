/** Types of clients.js. */
import type Redis from 'ioredis';
import type { Cluster, RedisOptions } from 'ioredis';
import type { Node } from './topology';

export type Topology = { kind: 'cluster'; nodes: Node[] } | { kind: 'sentinel'; sentinels: Node[]; name: string; options: 'recommended' | 'default' };
export const RECOMMENDED_SENTINEL_OPTIONS: RedisOptions;
export function connect(topology: Topology): Redis | Cluster;
