/**
 * The app's own user accounts: an account has one or more linked provider identities. A real app keeps
 * these in its database; the example keeps them in Redis (or memory), next to the sessions.
 *
 * Redis layout (prefix `app:`), every key in ONE hash slot, `{accounts}` (README "Redis Cluster: key layout"):
 *   app:{accounts}:account:<accountId>               hash: `createdAt`, and one field `identity:<provider>` (JSON) per link
 *   app:{accounts}:identity:<provider>:<providerId>  string: the account id that identity is linked to
 * Linking keeps an invariant across keys (an identity points at exactly one account, which lists it; an
 * account absorbed by a link disappears with it), so it is one Lua script, and on a Redis Cluster a script
 * may only touch keys of one slot. Accounts are small and touched only at sign-in, linking and on the
 * account page (sessions and tokens, the per-request traffic, spread over the whole cluster); a real app
 * keeps them in its database.
 */
import { randomBytes } from 'node:crypto';
import type { Profile } from '@passport-martech/oauth2';
import { isProviderId, type ProviderId } from './catalog';
import type { RedisClient } from './redis';

export interface LinkedIdentity {
  provider: ProviderId;
  /** The provider's user id. */
  id: string;
  displayName?: string;
  emails: string[];
  /** Provider-specific scalar profile fields (HubSpot `hubId`, `hubDomain`, ...). */
  details: Record<string, string | number | boolean>;
  /** The identity document as received (tokens never included), shortened. */
  raw: string;
  linkedAt: number;
}

export interface Account {
  id: string;
  createdAt: number;
  identities: Partial<Record<ProviderId, LinkedIdentity>>;
}

/**
 * The account as the session keeps it (and as `req.user` shows it): who the user is and which providers
 * are linked, enough for every page but the account page. The profile details and raw identity documents
 * stay in the store, so that every request's session read stays small.
 */
export interface AccountSummary {
  id: string;
  createdAt: number;
  identities: Partial<Record<ProviderId, IdentitySummary>>;
}

export type IdentitySummary = Pick<LinkedIdentity, 'provider' | 'id' | 'displayName' | 'emails' | 'linkedAt'>;

export function accountSummary(account: Account): AccountSummary {
  const identities: AccountSummary['identities'] = {};
  for (const identity of Object.values(account.identities)) {
    if (!identity) continue;
    const { provider, id, displayName, emails, linkedAt } = identity;
    identities[provider] = { provider, id, displayName, emails, linkedAt };
  }
  return { id: account.id, createdAt: account.createdAt, identities };
}

/** The provider identity is already linked to another account. */
export class LinkConflictError extends Error {
  readonly code = 'LINK_CONFLICT';
  constructor(readonly provider: ProviderId) {
    super(`This ${provider} identity is already linked to another account`);
    this.name = 'LinkConflictError';
  }
}

export interface AccountStore {
  get(accountId: string): Promise<Account | undefined>;
  /** The account an identity is linked to. */
  findByIdentity(provider: ProviderId, providerUserId: string): Promise<string | undefined>;
  /**
   * Links (or updates) an identity on the account. When another account holds the identity and has no
   * other identity, that account is absorbed (deleted; its id returned) — its only credential is the one
   * the user just proved. When it has others: LinkConflictError, and nothing changes.
   * `replaces`: the provider user id linked here before (another user of the same provider); its pointer is
   * dropped only once the new identity is linked, so a conflict leaves the old link in place.
   * `create`: the account is new (an id from newAccountId()); it is created by the same atomic step, so a
   * sign-in that fails leaves no empty account behind. Without it, a missing account is an error.
   */
  link(accountId: string, identity: LinkedIdentity, options?: { replaces?: string; create?: boolean }): Promise<{ absorbed?: string }>;
  unlink(accountId: string, provider: ProviderId): Promise<void>;
}

const RAW_LIMIT = 4000;
const STANDARD_FIELDS = new Set(['provider', 'id', 'displayName', 'emails', 'photos', '_raw', '_json']);

/** What the app keeps of a passport profile: who the user is, never a token. */
export function identityFromProfile(provider: ProviderId, profile: Profile): LinkedIdentity {
  const details: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(profile)) {
    if (STANDARD_FIELDS.has(key)) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') details[key] = value;
  }
  let raw = JSON.stringify(profile._json ?? {}, null, 2);
  if (raw.length > RAW_LIMIT) raw = `${raw.slice(0, RAW_LIMIT)}\n...`;
  return {
    provider,
    id: profile.id,
    displayName: profile.displayName,
    emails: (profile.emails ?? []).map((e) => e.value).filter((v): v is string => typeof v === 'string'),
    details,
    raw,
    linkedAt: Date.now(),
  };
}

/** A name to greet the user with. */
export function accountName(account: AccountSummary): string {
  const identities = Object.values(account.identities).sort((a, b) => (a?.linkedAt ?? 0) - (b?.linkedAt ?? 0));
  // A real name first (some providers give only an email as the display name).
  for (const identity of identities) {
    if (identity?.displayName && !identity.displayName.includes('@')) return identity.displayName;
  }
  for (const identity of identities) {
    if (identity?.displayName) return identity.displayName;
  }
  for (const identity of identities) {
    if (identity?.emails[0]) return identity.emails[0];
  }
  return `Account ${account.id.slice(0, 8)}`;
}

/** An id for a new account (link(..., { create: true }) creates it). */
export function newAccountId(): string {
  return randomBytes(16).toString('base64url');
}

/** The hash tag that puts every account key in one cluster slot (see the file comment). */
const ACCOUNTS_SLOT = '{accounts}';

/**
 * Link atomically. KEYS: 1 identity pointer, 2 account, 3 the identity it replaces (or KEYS[1]), 4 the
 * account the pointer named when the caller read it (or KEYS[2]). ARGV: 1 account id, 2 hash field,
 * 3 identity JSON, 4 that owner ('' = none), 5 createdAt when creating the account ('' = must exist).
 * Returns -1 when the pointer changed since it was read (the caller reads it again and retries), -2 when
 * the account does not exist, 0 on a conflict (the owner has other identities), else 1 or the absorbed
 * account's id. Every key it touches is declared: the owner's account is read by the caller first.
 */
const LINK = `
local owner = redis.call('GET', KEYS[1]) or ''
if owner ~= ARGV[4] then return -1 end
if ARGV[5] == '' and redis.call('EXISTS', KEYS[2]) == 0 then return -2 end
local result = 1
if owner ~= '' and owner ~= ARGV[1] and redis.call('EXISTS', KEYS[4]) == 1 then
  for _, field in ipairs(redis.call('HKEYS', KEYS[4])) do
    if string.sub(field, 1, 9) == 'identity:' and field ~= ARGV[2] then return 0 end
  end
  redis.call('DEL', KEYS[4])
  result = owner
end
if KEYS[3] ~= KEYS[1] and redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if ARGV[5] ~= '' then redis.call('HSETNX', KEYS[2], 'createdAt', ARGV[5]) end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return result`;

/** Unlink: drop the identity from the account (KEYS[2]), and its pointer (KEYS[1]) if it still points here. */
const UNLINK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('HDEL', KEYS[2], ARGV[2])`;

/** A pointer that keeps changing under a link (other sign-ins of the same identity) gives up after this. */
const LINK_ATTEMPTS = 5;

export class RedisAccountStore implements AccountStore {
  constructor(
    private readonly client: RedisClient,
    private readonly prefix = 'app:',
  ) {}

  private accountKey(id: string): string {
    return `${this.prefix}${ACCOUNTS_SLOT}:account:${id}`;
  }

  private identityKey(provider: ProviderId, providerUserId: string): string {
    return `${this.prefix}${ACCOUNTS_SLOT}:identity:${provider}:${encodeURIComponent(providerUserId)}`;
  }

  async get(accountId: string): Promise<Account | undefined> {
    const hash = await this.client.hgetall(this.accountKey(accountId));
    if (!hash || !hash.createdAt) return undefined;
    const identities: Account['identities'] = {};
    for (const [field, value] of Object.entries(hash)) {
      const provider = field.startsWith('identity:') ? field.slice('identity:'.length) : undefined;
      if (!isProviderId(provider)) continue;
      try {
        identities[provider] = JSON.parse(value) as LinkedIdentity;
      } catch {
        // an unreadable entry is dropped from the view; the user can link again
      }
    }
    return { id: accountId, createdAt: Number(hash.createdAt), identities };
  }

  async findByIdentity(provider: ProviderId, providerUserId: string): Promise<string | undefined> {
    const id = await this.client.get(this.identityKey(provider, providerUserId));
    if (!id) return undefined;
    return (await this.client.exists(this.accountKey(id))) ? id : undefined;
  }

  async link(accountId: string, identity: LinkedIdentity, options: { replaces?: string; create?: boolean } = {}): Promise<{ absorbed?: string }> {
    const identityKey = this.identityKey(identity.provider, identity.id);
    const replacedKey = options.replaces === undefined ? identityKey : this.identityKey(identity.provider, options.replaces);
    const createdAt = options.create ? String(Date.now()) : '';
    for (let attempt = 0; attempt < LINK_ATTEMPTS; attempt++) {
      // The script must declare the owner's account key, so the owner is read first; the script checks
      // that the pointer still names it (else -1: read again).
      const owner = (await this.client.get(identityKey)) ?? '';
      const ownerKey = owner === '' ? this.accountKey(accountId) : this.accountKey(owner);
      const keys = [identityKey, this.accountKey(accountId), replacedKey, ownerKey];
      const linked = await this.client.eval(LINK, keys.length, ...keys, accountId, `identity:${identity.provider}`, JSON.stringify(identity), owner, createdAt);
      if (typeof linked === 'string') return { absorbed: linked };
      const code = Number(linked);
      if (code === 1) return {};
      if (code === 0) throw new LinkConflictError(identity.provider);
      if (code === -2) throw new Error('The account was removed while signing in');
    }
    throw new Error('The identity kept changing owner while linking; try again');
  }

  async unlink(accountId: string, provider: ProviderId): Promise<void> {
    const field = `identity:${provider}`;
    const stored = await this.client.hget(this.accountKey(accountId), field);
    if (!stored) return;
    let providerUserId: string | undefined;
    try {
      providerUserId = (JSON.parse(stored) as LinkedIdentity).id;
    } catch {
      providerUserId = undefined;
    }
    if (providerUserId === undefined) {
      await this.client.hdel(this.accountKey(accountId), field);
      return;
    }
    await this.client.eval(UNLINK, 2, this.identityKey(provider, providerUserId), this.accountKey(accountId), accountId, field);
  }
}

/** The same in this process's memory (demo without Redis, single process only). */
export class MemoryAccountStore implements AccountStore {
  private readonly accounts = new Map<string, Account>();
  private readonly owners = new Map<string, string>();

  async get(accountId: string): Promise<Account | undefined> {
    const account = this.accounts.get(accountId);
    return account ? structuredClone(account) : undefined;
  }

  async findByIdentity(provider: ProviderId, providerUserId: string): Promise<string | undefined> {
    const id = this.owners.get(`${provider}:${providerUserId}`);
    return id && this.accounts.has(id) ? id : undefined;
  }

  async link(accountId: string, identity: LinkedIdentity, options: { replaces?: string; create?: boolean } = {}): Promise<{ absorbed?: string }> {
    const { replaces } = options;
    const key = `${identity.provider}:${identity.id}`;
    const account = this.accounts.get(accountId) ?? (options.create ? { id: accountId, createdAt: Date.now(), identities: {} } : undefined);
    if (!account) throw new Error('The account was removed while signing in');
    const owner = this.owners.get(key);
    const other = owner && owner !== accountId ? this.accounts.get(owner) : undefined;
    let absorbed: string | undefined;
    if (other) {
      if (Object.keys(other.identities).some((p) => p !== identity.provider)) throw new LinkConflictError(identity.provider);
      this.accounts.delete(other.id);
      absorbed = other.id;
    }
    const old = replaces === undefined ? undefined : `${identity.provider}:${replaces}`;
    if (old !== undefined && old !== key && this.owners.get(old) === accountId) this.owners.delete(old);
    this.owners.set(key, accountId);
    this.accounts.set(accountId, account);
    account.identities[identity.provider] = structuredClone(identity);
    return absorbed ? { absorbed } : {};
  }

  async unlink(accountId: string, provider: ProviderId): Promise<void> {
    const account = this.accounts.get(accountId);
    const identity = account?.identities[provider];
    if (!account || !identity) return;
    const key = `${provider}:${identity.id}`;
    if (this.owners.get(key) === accountId) this.owners.delete(key);
    delete account.identities[provider];
  }
}
