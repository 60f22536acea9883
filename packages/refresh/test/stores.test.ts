import { randomBytes } from 'node:crypto';
import type { TokenSet } from '@passport-martech/oauth2';
import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';
import { MemoryTokenStore, RedisTokenStore, encryptionKeyId, type CorruptRecordReport, type RedisClient } from '../src';
import { startRedis, type RedisServer } from './helpers/redis';

let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis();
  client = redis.client();
});
afterAll(() => redis.stop());

// ioredis's client fits the structural RedisClient type (a compile-time check under ts-jest).
const typeCheck = (c: Redis): RedisClient => c;
const clusterTypeCheck = (c: Cluster): RedisClient => c;
void typeCheck;
void clusterTypeCheck;

const tokens = (n = 1): TokenSet => ({
  accessToken: `secret-access-token-${n}-${randomBytes(8).toString('hex')}`,
  refreshToken: `secret-refresh-token-${n}-${randomBytes(8).toString('hex')}`,
  tokenType: 'bearer',
  expiresAt: Date.now() + 1800_000,
  scope: ['oauth'],
  raw: { token_type: 'bearer', expires_in: 1800 },
});

const KEY_A = randomBytes(32);
const KEY_B = randomBytes(32);

function reporting(options: Omit<ConstructorParameters<typeof RedisTokenStore>[0], 'client' | 'onCorruptRecord'>) {
  const reports: CorruptRecordReport[] = [];
  const store = new RedisTokenStore({ client, onCorruptRecord: (r) => reports.push(r), ...options });
  return { store, reports };
}

describe('MemoryTokenStore', () => {
  test('get/set/delete, copies in and out, ttl', async () => {
    const store = new MemoryTokenStore();
    const t = tokens();
    await store.set('k', t);
    t.accessToken = 'changed';
    const got = (await store.get('k')) as TokenSet;
    expect(got.accessToken).toMatch(/^secret-access-token-1/);
    got.accessToken = 'changed again';
    expect((await store.get('k'))?.accessToken).toMatch(/^secret-access-token-1/);
    await store.delete('k');
    await expect(store.get('k')).resolves.toBeUndefined();
    await store.set('short', tokens(), 1);
    await expect(store.get('short')).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1050));
    await expect(store.get('short')).resolves.toBeUndefined();
    expect(() => new MemoryTokenStore({ ttlSeconds: 0 })).toThrow(TypeError);
  });
});

describe('RedisTokenStore without encryption', () => {
  test('stores one JSON value per token set under the prefix; ttlSeconds sets a Redis expiry', async () => {
    const store = new RedisTokenStore({ client, prefix: 'plain:', ttlSeconds: 100 });
    const t = tokens();
    await store.set('hubspot:u1', t);
    expect(JSON.parse((await client.get('plain:hubspot:u1')) as string)).toEqual(t);
    expect(await client.ttl('plain:hubspot:u1')).toBeGreaterThan(90);
    await expect(store.get('hubspot:u1')).resolves.toEqual(t);
    await store.set('hubspot:u2', t, 5);
    expect(await client.ttl('plain:hubspot:u2')).toBeLessThanOrEqual(5);
    await store.delete('hubspot:u1');
    expect(await client.exists('plain:hubspot:u1')).toBe(0);
    await expect(store.get('hubspot:u1')).resolves.toBeUndefined();
  });

  test('a record that is not JSON, or not a token set, is absent and reported', async () => {
    const { store, reports } = reporting({ prefix: 'junk:' });
    await client.set('junk:a', '{not json');
    await client.set('junk:b', JSON.stringify({ hello: 'world' }));
    await client.set('junk:c', 'v1:abc:def');
    await expect(store.get('a')).resolves.toBeUndefined();
    await expect(store.get('b')).resolves.toBeUndefined();
    await expect(store.get('c')).resolves.toBeUndefined();
    expect(reports.map((r) => [r.key, r.reason])).toEqual([
      ['junk:a', 'invalid'],
      ['junk:b', 'invalid'],
      ['junk:c', 'unknown_key'],
    ]);
  });

  test('the default report is a process warning, not a throw', async () => {
    const store = new RedisTokenStore({ client, prefix: 'warn:' });
    await client.set('warn:x', 'garbage');
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      await expect(store.get('x')).resolves.toBeUndefined();
      expect(emitWarning).toHaveBeenCalledWith(expect.stringContaining('warn:x'), { code: 'PASSPORT_MARTECH_CORRUPT_TOKEN_RECORD' });
    } finally {
      emitWarning.mockRestore();
    }
  });
});

describe('RedisTokenStore with encryption (AES-256-GCM)', () => {
  test('the Redis value does not contain the token text; it round-trips', async () => {
    const store = new RedisTokenStore({ client, prefix: 'enc:', encryptionKey: KEY_A });
    const t = tokens();
    await store.set('hubspot:u1', t);
    const raw = (await client.get('enc:hubspot:u1')) as string;
    expect(raw).not.toContain(t.accessToken);
    expect(raw).not.toContain(t.refreshToken);
    expect(raw).not.toContain('secret');
    expect(raw).toMatch(new RegExp(`^v1:${encryptionKeyId(KEY_A)}:[A-Za-z0-9+/=]{16}:[A-Za-z0-9+/=]{24}:[A-Za-z0-9+/=]+$`));
    await expect(store.get('hubspot:u1')).resolves.toEqual(t);
    // A random IV: the same token set never gives the same record twice.
    await store.set('hubspot:u1', t);
    expect(await client.get('enc:hubspot:u1')).not.toBe(raw);
    expect(store.encrypted).toBe(true);
  });

  test('keys as hex and base64 strings are the same key as the Buffer', async () => {
    const writer = new RedisTokenStore({ client, prefix: 'enc:', encryptionKey: KEY_A.toString('hex') });
    const t = tokens();
    await writer.set('hex', t);
    await expect(new RedisTokenStore({ client, prefix: 'enc:', encryptionKey: KEY_A.toString('base64') }).get('hex')).resolves.toEqual(t);
  });

  test('a wrong key, a truncated, tampered or moved record: absent and reported, never thrown', async () => {
    const store = new RedisTokenStore({ client, prefix: 'bad:', encryptionKey: [{ id: 'k1', key: KEY_A }] });
    const t = tokens();
    await store.set('u1', t);
    const record = (await client.get('bad:u1')) as string;

    const { store: wrongKey, reports: wrongReports } = reporting({ prefix: 'bad:', encryptionKey: KEY_B });
    await expect(wrongKey.get('u1')).resolves.toBeUndefined();
    const { store: wrongSameId, reports: sameIdReports } = reporting({ prefix: 'bad:', encryptionKey: [{ id: 'k1', key: KEY_B }] });
    await expect(wrongSameId.get('u1')).resolves.toBeUndefined();
    expect(wrongReports).toEqual([expect.objectContaining({ key: 'bad:u1', reason: 'unknown_key' })]);
    expect(sameIdReports).toEqual([expect.objectContaining({ key: 'bad:u1', reason: 'decrypt_failed' })]);

    const { store: reader, reports } = reporting({ prefix: 'bad:', encryptionKey: [{ id: 'k1', key: KEY_A }] });
    const parts = record.split(':');
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const variants: Record<string, string> = {
      truncatedEnd: record.slice(0, record.length - 8),
      truncatedMiddle: record.slice(0, Math.floor(record.length / 2)),
      truncatedHeader: parts.slice(0, 3).join(':'),
      tamperedCiphertext: [...parts.slice(0, 4), flip(parts[4], 5)].join(':'),
      tamperedTag: [...parts.slice(0, 3), flip(parts[3], 2), parts[4]].join(':'),
      tamperedIv: [parts[0], parts[1], flip(parts[2], 1), ...parts.slice(3)].join(':'),
      empty: '',
    };
    for (const [name, value] of Object.entries(variants)) await client.set(`bad:${name}`, value);
    // The intact record copied to another user's key does not decrypt there (the key name is authenticated).
    await client.set('bad:moved', record);
    for (const name of [...Object.keys(variants), 'moved']) await expect(reader.get(name)).resolves.toBeUndefined();
    expect(reports.map((r) => r.key)).toEqual([...Object.keys(variants), 'moved'].map((n) => `bad:${n}`));
    expect(new Set(reports.map((r) => r.reason))).toEqual(new Set(['decrypt_failed', 'format', 'plaintext']));
    for (const report of reports) expect(JSON.stringify(report)).not.toMatch(/secret|[0-9a-f]{64}/);
    await expect(reader.get('u1')).resolves.toEqual(t);
  });

  test('key rotation: the first key writes, every key reads; old records stay readable', async () => {
    const old = new RedisTokenStore({ client, prefix: 'rot:', encryptionKey: KEY_A });
    const t1 = tokens(1);
    await old.set('u1', t1);
    const rotated = new RedisTokenStore({ client, prefix: 'rot:', encryptionKey: [{ id: 'new', key: KEY_B }, { key: KEY_A }] });
    await expect(rotated.get('u1')).resolves.toEqual(t1);
    const t2 = tokens(2);
    await rotated.set('u2', t2);
    expect(await client.get('rot:u2')).toMatch(/^v1:new:/);
    await expect(rotated.get('u2')).resolves.toEqual(t2);
    // The old key alone cannot read what the new key wrote.
    const { store: oldOnly, reports } = reporting({ prefix: 'rot:', encryptionKey: KEY_A });
    await expect(oldOnly.get('u2')).resolves.toBeUndefined();
    expect(reports[0].reason).toBe('unknown_key');
  });

  test('plain JSON while encryption is on: absent unless readPlaintext (migration)', async () => {
    const plain = new RedisTokenStore({ client, prefix: 'mig:' });
    const t = tokens();
    await plain.set('u1', t);
    const { store: strict, reports } = reporting({ prefix: 'mig:', encryptionKey: KEY_A });
    await expect(strict.get('u1')).resolves.toBeUndefined();
    expect(reports[0].reason).toBe('plaintext');
    const migrating = new RedisTokenStore({ client, prefix: 'mig:', encryptionKey: KEY_A, readPlaintext: true });
    await expect(migrating.get('u1')).resolves.toEqual(t);
    await migrating.set('u1', t);
    expect(await client.get('mig:u1')).toMatch(/^v1:/);
  });

  test.each([
    ['a 16-byte Buffer', randomBytes(16)],
    ['a 62-char hex string', 'ab'.repeat(31)],
    ['base64 of 16 bytes', randomBytes(16).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
    ['an empty list', []],
    ['a list with a duplicate id', [{ id: 'a', key: KEY_A }, { id: 'a', key: KEY_B }]],
    ['a list with an id containing ":"', [{ id: 'a:b', key: KEY_A }]],
    ['a number', 42],
  ])('a bad encryptionKey (%s) is a TypeError at construction', (_label, key) => {
    expect(() => new RedisTokenStore({ client, encryptionKey: key as never })).toThrow(TypeError);
  });

  test('a bad key never appears in the TypeError', () => {
    const almost = 'ab'.repeat(31);
    try {
      new RedisTokenStore({ client, encryptionKey: almost });
    } catch (error) {
      expect((error as Error).message).not.toContain(almost);
      expect((error as Error).message).toMatch(/64 hex characters or 44 base64 characters/);
    }
    expect.assertions(2);
  });
});

describe.each([
  ['MemoryTokenStore', () => new MemoryTokenStore()],
  ['RedisTokenStore', () => new RedisTokenStore({ client, prefix: `cas${randomBytes(4).toString('hex')}:` })],
  ['RedisTokenStore, encrypted', () => new RedisTokenStore({ client, prefix: `casenc${randomBytes(4).toString('hex')}:`, encryptionKey: KEY_A })],
])('%s: replace and retire (atomic compare-and-set)', (_name, make) => {
  test('replace writes only over the refresh token it was refreshed from', async () => {
    const store = make();
    const [first, second, third] = [tokens(1), tokens(2), tokens(3)];
    await expect(store.replace('k', first.refreshToken as string, second)).resolves.toBe(false); // nothing stored: a logout wins
    await expect(store.get('k')).resolves.toBeUndefined();
    await store.set('k', first);
    await expect(store.replace('k', 'another-refresh-token', second)).resolves.toBe(false);
    expect((await store.get('k'))?.accessToken).toBe(first.accessToken);
    await expect(store.replace('k', first.refreshToken as string, second)).resolves.toBe(true);
    expect((await store.get('k'))?.accessToken).toBe(second.accessToken);
    await expect(store.replace('k', first.refreshToken as string, third)).resolves.toBe(false);
  });

  test('retire: reads as absent, a replace from the same refresh token still writes, another does not, a delete ends it', async () => {
    const store = make();
    const [first, second] = [tokens(1), tokens(2)];
    await store.set('k', first);
    await expect(store.retire('k', 'another-refresh-token')).resolves.toBe(false);
    await expect(store.get('k')).resolves.toBeDefined();
    await expect(store.retire('k', first.refreshToken as string)).resolves.toBe(true);
    await expect(store.get('k')).resolves.toBeUndefined();
    await expect(store.retire('k', first.refreshToken as string)).resolves.toBe(false);
    await expect(store.replace('k', 'another-refresh-token', second)).resolves.toBe(false);
    await expect(store.replace('k', first.refreshToken as string, second)).resolves.toBe(true);
    expect((await store.get('k'))?.accessToken).toBe(second.accessToken);
    await store.retire('k', second.refreshToken as string);
    await store.delete('k');
    await expect(store.replace('k', second.refreshToken as string, first)).resolves.toBe(false);
  });
});

test('RedisTokenStore: a retired record holds no token, expires within a day, and is not reported as corrupt', async () => {
  const { store, reports } = reporting({ prefix: 'retired:', encryptionKey: KEY_A });
  const t = tokens();
  await store.set('k', t);
  await store.retire('k', t.refreshToken as string);
  const raw = (await client.get('retired:k')) as string;
  expect(raw).toMatch(/^x1:[A-Za-z0-9_-]{22}$/);
  expect(raw).not.toContain(t.refreshToken);
  const ttl = await client.ttl('retired:k');
  expect(ttl).toBeGreaterThan(86_000);
  expect(ttl).toBeLessThanOrEqual(86_400);
  await expect(store.get('k')).resolves.toBeUndefined();
  expect(reports).toEqual([]);
});

test('RedisTokenStore.replace: a write by another client between its read and its write makes it fail (the compare covers the whole value)', async () => {
  const prefix = 'race:';
  const race: { between?: () => Promise<unknown> } = {};
  const racing = new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (property === 'eval') {
        return async (...args: unknown[]) => {
          await race.between?.();
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as RedisClient;
  const store = new RedisTokenStore({ client: racing, prefix });
  const other = new RedisTokenStore({ client, prefix });
  const [first, second, login] = [tokens(1), tokens(2), tokens(3)];
  await other.set('k', first);
  race.between = () => other.set('k', login);
  await expect(store.replace('k', first.refreshToken as string, second)).resolves.toBe(false);
  expect((await other.get('k'))?.accessToken).toBe(login.accessToken);
});
