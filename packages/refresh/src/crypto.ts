import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * A 32-byte AES-256 key: a Buffer, a 64-character hex string or a 44-character base64 string; or a
 * list `[{ id, key }]` for rotation, where the first key encrypts and every key decrypts. An entry
 * without `id` gets the id a bare key gets (see keyId), so records written with a bare key stay
 * readable once that key is moved into a list.
 */
export type EncryptionKey = Buffer | Uint8Array | string | ReadonlyArray<{ id?: string; key: Buffer | Uint8Array | string }>;

export interface Keyring {
  /** The key new records are written with. */
  readonly current: { readonly id: string; readonly key: Buffer };
  readonly byId: ReadonlyMap<string, Buffer>;
}

const RECORD_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Reads an `encryptionKey` option; throws TypeError for a wrong length, encoding or id. */
export function toKeyring(input: EncryptionKey): Keyring {
  const entries: { id: string; key: Buffer }[] = [];
  if (Array.isArray(input)) {
    if (input.length === 0) throw keyError('an empty list');
    input.forEach((entry: { id?: unknown; key?: unknown }, index: number) => {
      if (entry === null || typeof entry !== 'object') throw keyError(`entry ${index} is not an object { id, key }`);
      if (entry.id !== undefined && (typeof entry.id !== 'string' || !KEY_ID.test(entry.id))) {
        throw keyError(`entry ${index} has an invalid id (1-64 characters of A-Z a-z 0-9 . _ -)`);
      }
      const key = toKeyBytes(entry.key, `entry ${index}`);
      entries.push({ id: (entry.id as string | undefined) ?? keyId(key), key });
    });
  } else {
    const key = toKeyBytes(input, 'the key');
    entries.push({ id: keyId(key), key });
  }
  const byId = new Map<string, Buffer>();
  for (const entry of entries) {
    if (byId.has(entry.id)) throw keyError(`the key id "${entry.id}" appears twice`);
    byId.set(entry.id, entry.key);
  }
  return { current: entries[0], byId };
}

/** The id of a bare key: the first 8 hex digits of its SHA-256 (not secret, identifies the key). */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

function toKeyBytes(value: unknown, what: string): Buffer {
  let bytes: Buffer | undefined;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) bytes = Buffer.from(value);
  else if (typeof value === 'string') {
    if (/^[0-9a-fA-F]{64}$/.test(value)) bytes = Buffer.from(value, 'hex');
    else if (/^[A-Za-z0-9+/]{43}=$/.test(value)) bytes = Buffer.from(value, 'base64');
    else throw keyError(`${what} must be 64 hex characters or 44 base64 characters (32 bytes); got a string of ${value.length} characters`);
  } else throw keyError(`${what} must be a Buffer or a string`);
  if (bytes.length !== 32) throw keyError(`${what} must be 32 bytes for AES-256-GCM; got ${bytes.length}`);
  return bytes;
}

function keyError(detail: string): TypeError {
  return new TypeError(`@passport-martech/refresh: invalid encryptionKey: ${detail}`);
}

/** `v1:<keyId>:<iv b64>:<tag b64>:<ciphertext b64>`; `aad` binds the record to its key name. */
export function encryptRecord(keyring: Keyring, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [RECORD_VERSION, keyring.current.id, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(':');
}

export type DecryptFailure = 'format' | 'unknown_key' | 'decrypt_failed';

export class RecordDecryptError extends Error {
  constructor(readonly reason: DecryptFailure, message: string) {
    super(message);
    this.name = 'RecordDecryptError';
  }
}

export function isEncryptedRecord(value: string): boolean {
  return value.startsWith(`${RECORD_VERSION}:`);
}

/** The plaintext of a record made by encryptRecord; throws RecordDecryptError (never with key or plaintext). */
export function decryptRecord(keyring: Keyring, record: string, aad: string): string {
  const parts = record.split(':');
  const base64 = /^[A-Za-z0-9+/]*={0,2}$/;
  if (parts.length !== 5 || parts[0] !== RECORD_VERSION || !parts.slice(2).every((part) => base64.test(part))) {
    throw new RecordDecryptError('format', 'not a v1 encrypted record');
  }
  const [, id, ivText, tagText, ciphertextText] = parts;
  const key = keyring.byId.get(id);
  if (!key) throw new RecordDecryptError('unknown_key', `encrypted with key id "${id}", which is not among the configured keys`);
  const iv = Buffer.from(ivText, 'base64');
  const tag = Buffer.from(tagText, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new RecordDecryptError('format', 'bad IV or tag length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new RecordDecryptError('decrypt_failed', `authentication failed with key id "${id}" (wrong key, or the record was altered)`);
  }
}

/** The id a bare key gets in records (`v1:<id>:...`): for logs, and to name it in a rotation list. */
export function encryptionKeyId(key: Buffer | Uint8Array | string): string {
  return keyId(toKeyBytes(key, 'the key'));
}
