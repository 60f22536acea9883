import { isRecord } from '@passport-martech/oauth2';
import type { TokenSet } from '@passport-martech/oauth2';
import { EncryptionKey, Keyring, RecordDecryptError, decryptRecord, encryptRecord, isEncryptedRecord, toKeyring } from '../crypto';
import type { RedisClient } from '../redis';
import { fingerprint } from '../fingerprint';
import { RETIRED_TTL_SECONDS, checkTtl } from './memory';
import type { TokenStore } from './types';

/** Why a record was treated as absent. */
export type CorruptRecordReason =
  /** Not JSON, or JSON that is not a token set. */
  | 'invalid'
  /** Encrypted with a key id that is not configured (or the store has no key at all). */
  | 'unknown_key'
  /** The auth tag did not verify: wrong key, truncated or tampered record. */
  | 'decrypt_failed'
  /** Not a well-formed encrypted record. */
  | 'format'
  /** Plain JSON while encryption is on (set `readPlaintext: true` while migrating to encryption). */
  | 'plaintext';

/** Passed to `onCorruptRecord`. Carries no token and no key, only what identifies the record. */
export interface CorruptRecordReport {
  /** The Redis key (prefix included). */
  key: string;
  reason: CorruptRecordReason;
  message: string;
}

export interface RedisTokenStoreOptions {
  /** An ioredis client (or anything with the same promise methods). */
  client: RedisClient;
  /** Prepended to every key; default `tokens:`. */
  prefix?: string;
  /**
   * Encrypts every record with AES-256-GCM: a 32-byte Buffer, a 64-char hex or 44-char base64 string,
   * or `[{ id, key }, ...]` for rotation (the first encrypts, all decrypt).
   */
  encryptionKey?: EncryptionKey;
  /** Redis expiry of each record (seconds) when `set` is given none; default: no expiry. */
  ttlSeconds?: number;
  /** Called for a record that cannot be read (it is then treated as absent). Default: a process warning. */
  onCorruptRecord?: (report: CorruptRecordReport) => void;
  /** With encryption on, still accept plain JSON records (written before encryption was turned on). Default false. */
  readPlaintext?: boolean;
  /**
   * For a replicated Redis (Sentinel): after writing a refreshed set, `WAIT` until this many replicas
   * have it, or `replace` throws ReplicaAckError (the manager then keeps the set and saves it again
   * until a write is acknowledged). 1 is the README's recommendation (with two replicas and its
   * runbook for planned failovers); the number of replicas would make every save fail once one replica
   * is down. Default 0 (no WAIT).
   * Needs a client with `wait` (an ioredis `Redis`); refused with a `Cluster` client.
   */
  replicaAcks?: number;
  /** How long that WAIT may hold the connection, in milliseconds (at least 1; keep it below the client's commandTimeout); default 500. */
  replicaAckTimeoutMs?: number;
}

/** A refreshed set was written but fewer replicas than `replicaAcks` confirmed it in time. */
export class ReplicaAckError extends Error {
  readonly code = 'REPLICA_ACK_TIMEOUT';

  constructor(readonly key: string, readonly acknowledged: number, readonly required: number) {
    super(`token record ${key}: ${acknowledged} of ${required} replicas acknowledged the write; it may not survive a failover`);
    this.name = 'ReplicaAckError';
  }
}

interface WaitingClient {
  wait(numReplicas: number, timeoutMs: number): Promise<number>;
}

/** Writes ARGV[2] (with EX ARGV[3] unless empty) only if the key still holds exactly ARGV[1]. */
const SWAP = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] ~= '' then redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) else redis.call('set', KEYS[1], ARGV[2]) end
return 1`;
/**
 * A retired record (TokenStore.retire) is `x1:<fingerprint of the refresh token>`: it reads as absent,
 * and only a `replace` from that refresh token can overwrite it. The fingerprint is of a token the
 * provider has just rejected, and one-way.
 */
const RETIRED = 'x1:';

/**
 * TokenStore on Redis: one string value per token set, `<prefix><key>`, optionally encrypted at rest.
 * An encrypted record is `v1:<keyId>:<iv>:<tag>:<ciphertext>` (base64 parts, random 12-byte IV, 16-byte
 * tag, the key name as additional authenticated data so a record cannot be moved to another user).
 */
export class RedisTokenStore implements TokenStore {
  readonly prefix: string;
  readonly #client: RedisClient;
  readonly #keyring: Keyring | undefined;
  readonly #ttlSeconds: number | undefined;
  readonly #onCorruptRecord: (report: CorruptRecordReport) => void;
  readonly #readPlaintext: boolean;
  readonly #replicaAcks: number;
  readonly #replicaAckTimeoutMs: number;

  constructor(options: RedisTokenStoreOptions) {
    if (!options || typeof options !== 'object' || !options.client) {
      throw new TypeError('@passport-martech/refresh: RedisTokenStore needs { client } (an ioredis client)');
    }
    this.#client = options.client;
    this.prefix = options.prefix ?? 'tokens:';
    if (typeof this.prefix !== 'string') throw new TypeError('@passport-martech/refresh: prefix must be a string');
    this.#keyring = options.encryptionKey === undefined ? undefined : toKeyring(options.encryptionKey);
    this.#ttlSeconds = checkTtl(options.ttlSeconds);
    this.#onCorruptRecord = options.onCorruptRecord ?? defaultCorruptRecordHandler;
    this.#readPlaintext = options.readPlaintext === true;
    this.#replicaAcks = count('replicaAcks', options.replicaAcks ?? 0);
    this.#replicaAckTimeoutMs = count('replicaAckTimeoutMs', options.replicaAckTimeoutMs ?? 500);
    // WAIT with a timeout of 0 waits for ever: a replica that is down would hold the connection.
    if (this.#replicaAckTimeoutMs < 1) throw new TypeError('@passport-martech/refresh: RedisTokenStore replicaAckTimeoutMs must be at least 1');
    if (this.#replicaAcks > 0 && (typeof (this.#client as Partial<WaitingClient>).wait !== 'function' || (this.#client as { isCluster?: boolean }).isCluster === true)) {
      // A Cluster client sends a keyless WAIT to any node, not the one that took the write.
      throw new TypeError('@passport-martech/refresh: RedisTokenStore replicaAcks needs a client with wait() on one master (an ioredis Redis, not a Cluster)');
    }
  }

  /** True when records are encrypted. */
  get encrypted(): boolean {
    return this.#keyring !== undefined;
  }

  async get(key: string): Promise<TokenSet | undefined> {
    const redisKey = this.prefix + key;
    const value = await this.#client.get(redisKey);
    if (value === null || value === undefined || value.startsWith(RETIRED)) return undefined;
    try {
      return this.decode(value, key);
    } catch (error) {
      const reason: CorruptRecordReason = error instanceof RecordDecryptError ? error.reason : error instanceof CorruptRecord ? error.reason : 'invalid';
      const message = error instanceof Error ? error.message : 'unreadable record';
      try {
        this.#onCorruptRecord({ key: redisKey, reason, message });
      } catch {
        // a reporting hook must not turn a missing token into a crash
      }
      return undefined;
    }
  }

  async set(key: string, tokenSet: TokenSet, ttlSeconds?: number): Promise<void> {
    const ttl = checkTtl(ttlSeconds) ?? this.#ttlSeconds;
    const value = this.encode(tokenSet, key);
    if (ttl === undefined) await this.#client.set(this.prefix + key, value);
    else await this.#client.set(this.prefix + key, value, 'EX', ttl);
  }

  async delete(key: string): Promise<void> {
    await this.#client.del(this.prefix + key);
  }

  /**
   * Compare-and-set on the whole stored value: the record is read and checked here (it may be
   * encrypted, which Lua cannot see into), then written by a script only if it is still that exact
   * value. Any write in between — a login, a logout, another refresh — makes it resolve false.
   */
  async replace(key: string, fromRefreshToken: string, tokenSet: TokenSet): Promise<boolean> {
    const current = await this.#client.get(this.prefix + key);
    if (typeof current !== 'string') return false;
    if (this.#holds(current, key, fromRefreshToken, true)) {
      if (!(await this.#swap(key, current, this.encode(tokenSet, key), this.#ttlSeconds))) return false;
    } else if (!this.#isSame(current, key, tokenSet)) return false;
    // Written now, or by this very save's earlier try (whose acknowledgement failed): confirmed only once replicated.
    await this.#acknowledged(key);
    return true;
  }

  async retire(key: string, refreshToken: string): Promise<boolean> {
    const current = await this.#client.get(this.prefix + key);
    if (typeof current !== 'string' || !this.#holds(current, key, refreshToken, false)) return false;
    return this.#swap(key, current, RETIRED + fingerprint(refreshToken), RETIRED_TTL_SECONDS);
  }

  /** The record is this exact refreshed set (the same access and refresh token). */
  #isSame(stored: string, key: string, tokenSet: TokenSet): boolean {
    if (stored.startsWith(RETIRED)) return false;
    try {
      const decoded = this.decode(stored, key);
      return decoded.accessToken === tokenSet.accessToken && decoded.refreshToken === tokenSet.refreshToken;
    } catch {
      return false;
    }
  }

  async #acknowledged(key: string): Promise<void> {
    if (this.#replicaAcks === 0) return;
    const acknowledged = Number(await (this.#client as unknown as WaitingClient).wait(this.#replicaAcks, this.#replicaAckTimeoutMs));
    if (acknowledged < this.#replicaAcks) throw new ReplicaAckError(this.prefix + key, acknowledged, this.#replicaAcks);
  }

  #holds(stored: string, key: string, refreshToken: string, retiredCounts: boolean): boolean {
    if (stored.startsWith(RETIRED)) return retiredCounts && stored.slice(RETIRED.length) === fingerprint(refreshToken);
    try {
      return this.decode(stored, key).refreshToken === refreshToken;
    } catch {
      return false;
    }
  }

  async #swap(key: string, expected: string, value: string, ttlSeconds: number | undefined): Promise<boolean> {
    return Number(await this.#client.eval(SWAP, 1, this.prefix + key, expected, value, ttlSeconds ?? '')) === 1;
  }

  /** The stored form of a token set (exposed for tooling and tests). */
  encode(tokenSet: TokenSet, key: string): string {
    const json = JSON.stringify(tokenSet);
    return this.#keyring ? encryptRecord(this.#keyring, json, key) : json;
  }

  /** A token set from its stored form; throws for anything unreadable. */
  decode(value: string, key: string): TokenSet {
    let json: string;
    if (isEncryptedRecord(value)) {
      if (!this.#keyring) throw new CorruptRecord('unknown_key', 'the record is encrypted but the store has no encryptionKey');
      json = decryptRecord(this.#keyring, value, key);
    } else {
      if (this.#keyring && !this.#readPlaintext) {
        throw new CorruptRecord('plaintext', 'the record is not encrypted but encryption is on (readPlaintext: true accepts it)');
      }
      json = value;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new CorruptRecord('invalid', 'the record is not JSON');
    }
    if (!isTokenSet(parsed)) throw new CorruptRecord('invalid', 'the record is not a token set (no accessToken)');
    return parsed;
  }
}

class CorruptRecord extends Error {
  constructor(readonly reason: CorruptRecordReason, message: string) {
    super(message);
  }
}

function isTokenSet(value: unknown): value is TokenSet {
  return (
    isRecord(value) &&
    typeof value.accessToken === 'string' &&
    value.accessToken !== '' &&
    (value.refreshToken === undefined || typeof value.refreshToken === 'string') &&
    (value.expiresAt === undefined || typeof value.expiresAt === 'number') &&
    typeof value.tokenType === 'string' &&
    isRecord(value.raw)
  );
}

function count(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TypeError(`@passport-martech/refresh: RedisTokenStore ${name} must be an integer >= 0`);
  return value;
}

function defaultCorruptRecordHandler(report: CorruptRecordReport): void {
  process.emitWarning(`token record ${report.key} treated as absent (${report.reason}): ${report.message}`, {
    code: 'PASSPORT_MARTECH_CORRUPT_TOKEN_RECORD',
  });
}
