/** Types of topology.js (plain JS so a script or child process can start the same servers). */
import type Redis from 'ioredis';
import type { Cluster, ClusterOptions, RedisOptions } from 'ioredis';

export interface Node {
  host: string;
  port: number;
}
export interface RunningCluster {
  nodes: Node[];
  pids: number[];
  client(options?: ClusterOptions): Cluster;
  stop(): Promise<void>;
}
export interface SentinelOptions {
  name?: string;
  replicas?: number;
  sentinels?: number;
  minReplicasToWrite?: number;
  minReplicasMaxLag?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
}
export interface RunningSentinel {
  name: string;
  sentinels: Node[];
  dataPorts: number[];
  pids: number[];
  masterPort(): Promise<number>;
  client(options?: RedisOptions): Redis;
  failover(): Promise<number>;
  killMaster(): Promise<number>;
  settled(): Promise<void>;
  stop(): Promise<void>;
}
export const HOST: string;
export function startCluster(options?: { masters?: number }): Promise<RunningCluster>;
export function startSentinel(options?: SentinelOptions): Promise<RunningSentinel>;
export function command(port: number, ...args: (string | number)[]): Promise<unknown>;
export function replicated(port: number, replicas: number): Promise<boolean>;
export function until<T>(what: string, check: () => Promise<T>, timeoutMs?: number): Promise<T>;
export function sleep(ms: number): Promise<void>;
