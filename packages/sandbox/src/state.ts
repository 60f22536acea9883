/**
 * Everything the sandbox remembers: pending consent transactions, authorization codes, tokens, faults,
 * request counts and rate-limit windows. In memory only; `reset()` forgets it all.
 */
import { randomBytes } from 'node:crypto';
import { validateFault } from './faults';
import { RefreshTokens, type Lineage, type RefreshTokenRecord } from './refresh-tokens';
import type {
  EndpointCounts,
  ExpireRequest,
  Fault,
  ProviderId,
  RefreshTokenReuse,
  RefreshTokenStatus,
  RevokeRequest,
  SandboxAudit,
  SandboxEndpoint,
  SandboxStats,
  SandboxUser,
} from './types';
import { ENDPOINTS, PROVIDER_IDS } from './types';
import { SandboxError } from './errors';
import { McpServerState } from './mcp-server';

/** What a user granted to a client; carried from consent to code to tokens. */
export interface Grant {
  provider: ProviderId;
  flow: 'main' | 'mcp' | 'client_credentials';
  clientId: string;
  scopes: string[];
  /** The user, with `accountId` already pinned where the request chose one (HubSpot). */
  user: SandboxUser;
  /** RFC 8707 resource indicator (MCP flows). */
  resource?: string;
}

/** An authorization request that passed validation, waiting for Approve/Deny or about to get a code. */
export interface Authorization extends Grant {
  redirectUri: string;
  state?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
}

interface Expiring {
  expiresAt: number;
}

export interface CodeRecord extends Authorization, Expiring {
  used: boolean;
  /** The grant family started when the code was redeemed. */
  family?: string;
}

export interface AccessTokenRecord extends Grant, Expiring, Partial<Lineage> {
  token: string;
}

export type { RefreshTokenRecord } from './refresh-tokens';

/** A consent transaction lives as long as a code. */
export const CODE_TTL_MS = 10 * 60 * 1000;
export const TRANSACTION_TTL_MS = 10 * 60 * 1000;

export function randomToken(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

function zeroCounts(): EndpointCounts {
  return Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as EndpointCounts;
}

/**
 * Forgets expired entries of a map whose entries all get the same lifetime when added (codes,
 * transactions): insertion order is then expiry order, so the sweep stops at the first live entry. (It
 * runs on every authorization and every code: a full pass made each one cost as much as the codes issued
 * in the last CODE_TTL_MS, and a long benchmark slowed down as it went.)
 */
function sweep<T extends Expiring>(map: Map<string, T>, now: number): void {
  for (const [key, value] of map) {
    if (value.expiresAt > now) return;
    map.delete(key);
  }
}

interface ActiveFault extends Fault {
  /** Remaining applications; undefined = until reset. */
  remaining?: number;
}

export class SandboxState {
  private readonly transactions = new Map<string, Authorization & Expiring>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  /** Refresh tokens, their grant families, the reuse policy and the refresh audit (src/refresh-tokens.ts). */
  readonly refreshTokens: RefreshTokens;
  /** Fixed rate-limit windows (Ontraport's API): key -> window start and requests counted in it. */
  private readonly rateWindows = new Map<string, { start: number; used: number }>();
  /** Marketo hands out the same client-credentials token until it expires: provider:clientId -> token. */
  private readonly clientCredentialTokens = new Map<string, string>();
  /** Dynamically registered clients and the MCP servers' test controls (src/mcp-server.ts). */
  readonly mcp = new McpServerState();
  private activeFaults: ActiveFault[] = [];
  private counts = this.emptyStats();
  private issued = 0;

  constructor(initialFaults: Fault[] = [], refreshTokenReuse: RefreshTokenReuse = 'revoke') {
    for (const fault of initialFaults) this.addFault(fault);
    this.refreshTokens = new RefreshTokens(refreshTokenReuse, (family) => {
      for (const t of this.accessTokens.values()) if (t.family === family) t.expiresAt = Math.min(t.expiresAt, 0);
    });
  }

  private emptyStats(): SandboxStats {
    return Object.fromEntries(PROVIDER_IDS.map((p) => [p, zeroCounts()])) as SandboxStats;
  }

  // ---- stats and faults -------------------------------------------------------------------------

  count(provider: ProviderId, endpoint: SandboxEndpoint): void {
    this.counts[provider][endpoint] += 1;
  }

  stats(): SandboxStats {
    return Object.fromEntries(PROVIDER_IDS.map((p) => [p, { ...this.counts[p] }])) as SandboxStats;
  }

  /** Validates and adds a fault; throws SandboxError (400) when it is malformed. */
  addFault(input: unknown): Fault {
    const fault = validateFault(input);
    this.activeFaults.push({ ...fault, remaining: fault.times });
    return fault;
  }

  clearFaults(): void {
    this.activeFaults = [];
  }

  faults(): Fault[] {
    return this.activeFaults.map(({ remaining, ...f }) => (remaining === undefined ? f : { ...f, times: remaining }));
  }

  /** The first fault matching one of `endpoints`, used up by one when it has `times`. */
  takeFault(provider: ProviderId, endpoints: SandboxEndpoint[]): Fault | undefined {
    const index = this.activeFaults.findIndex((f) => f.provider === provider && endpoints.includes(f.endpoint));
    if (index < 0) return undefined;
    const fault = this.activeFaults[index];
    if (fault.remaining !== undefined) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.activeFaults.splice(index, 1);
    }
    return fault;
  }

  /**
   * Clears faults, stats, the audit, transactions, codes, tokens, rate-limit windows and registered MCP
   * clients; the refresh-token reuse policy and the MCP `iss` mode go back to their defaults.
   */
  reset(): void {
    this.transactions.clear();
    this.codes.clear();
    this.accessTokens.clear();
    this.refreshTokens.clear();
    this.clientCredentialTokens.clear();
    this.rateWindows.clear();
    this.activeFaults = [];
    this.counts = this.emptyStats();
    this.mcp.reset();
  }

  // ---- refresh-token truth, policy and audit ------------------------------------------------------

  audit(): SandboxAudit {
    return this.refreshTokens.audit();
  }

  refreshTokenStatus(provider: ProviderId, refreshToken: string): RefreshTokenStatus {
    return this.refreshTokens.status(provider, refreshToken);
  }

  refreshTokenReuse(): RefreshTokenReuse {
    return this.refreshTokens.reusePolicy;
  }

  /** Validates and sets the reuse policy; throws SandboxError (400) when it is malformed. */
  setRefreshTokenReuse(policy: unknown): RefreshTokenReuse {
    return this.refreshTokens.setReusePolicy(policy);
  }

  // ---- test controls ------------------------------------------------------------------------------

  /** Makes access tokens expired now; returns how many. An unknown named token is a 404. */
  expire({ provider, accessToken }: ExpireRequest): number {
    const now = Date.now();
    const targets = [...this.accessTokens.values()].filter(
      (t) => t.provider === provider && (accessToken === undefined || t.token === accessToken),
    );
    if (accessToken !== undefined && targets.length === 0) {
      throw new SandboxError(404, 'not_found', 'no such access token for this provider');
    }
    for (const t of targets) t.expiresAt = Math.min(t.expiresAt, now);
    return targets.length;
  }

  /**
   * Revokes the grants of live refresh tokens (the named one's, or all of the provider's); returns how many
   * live refresh tokens stopped working. Access tokens are left alone. An unknown named token is a 404.
   */
  revoke({ provider, refreshToken }: RevokeRequest): number {
    const targets = this.refreshTokens.live(provider).filter((t) => refreshToken === undefined || t.token === refreshToken);
    if (refreshToken !== undefined && targets.length === 0) {
      throw new SandboxError(404, 'not_found', 'no such live refresh token for this provider');
    }
    const families = new Set(targets.map((t) => t.family));
    let revoked = 0;
    for (const family of families) revoked += this.refreshTokens.revokeFamily(family, { accessTokens: false });
    return revoked;
  }

  // ---- consent transactions and codes -------------------------------------------------------------

  createTransaction(authorization: Authorization): string {
    const now = Date.now();
    sweep(this.transactions, now);
    const id = randomToken('');
    this.transactions.set(id, { ...authorization, expiresAt: now + TRANSACTION_TTL_MS });
    return id;
  }

  /** One-time: a transaction id works for one decision only. */
  takeTransaction(provider: ProviderId, id: string): Authorization | undefined {
    const tx = this.transactions.get(id);
    if (!tx) return undefined;
    this.transactions.delete(id);
    if (tx.provider !== provider || tx.expiresAt <= Date.now()) return undefined;
    const { expiresAt: _expiresAt, ...authorization } = tx;
    return authorization;
  }

  issueCode(authorization: Authorization): string {
    const now = Date.now();
    sweep(this.codes, now);
    const code = randomToken(`${authorization.provider}-code-`);
    this.codes.set(code, { ...authorization, expiresAt: now + CODE_TTL_MS, used: false });
    return code;
  }

  /**
   * Looks a code up and spends it, starting a grant family. A replayed code returns `replayed` and revokes
   * the grant issued from it (RFC 6749 section 4.1.2: the server SHOULD revoke the tokens).
   */
  redeemCode(provider: ProviderId, code: string): { record?: CodeRecord & Lineage; replayed: boolean } {
    const record = this.codes.get(code);
    if (!record || record.provider !== provider || record.expiresAt <= Date.now()) return { replayed: false };
    if (record.used) {
      if (record.family) this.refreshTokens.revokeFamily(record.family);
      return { replayed: true };
    }
    record.used = true;
    record.family = this.refreshTokens.newFamily();
    return { record: { ...record, fromCode: code, family: record.family }, replayed: false };
  }

  // ---- tokens -------------------------------------------------------------------------------------

  issueAccessToken(grant: Grant, ttlSeconds: number, lineage?: Lineage): AccessTokenRecord {
    if (++this.issued % 1000 === 0) this.forgetLongExpiredTokens();
    const record: AccessTokenRecord = {
      ...grant,
      ...lineage,
      token: randomToken(`${grant.provider}-at-`),
      expiresAt: Date.now() + ttlSeconds * 1000,
    };
    this.accessTokens.set(record.token, record);
    return record;
  }

  issueRefreshToken(grant: Grant, lineage: Lineage): RefreshTokenRecord {
    return this.refreshTokens.issue(grant, lineage, randomToken(`${grant.provider}-rt-`));
  }

  /** Any access token of the provider, expired or not (the caller tells the two apart). */
  findAccessToken(provider: ProviderId, token: string): AccessTokenRecord | undefined {
    const record = this.accessTokens.get(token);
    return record && record.provider === provider ? record : undefined;
  }

  /** A live refresh token of the provider. */
  findRefreshToken(provider: ProviderId, token: string): RefreshTokenRecord | undefined {
    const record = this.refreshTokens.find(provider, token);
    return record && this.refreshTokens.isLive(record) ? record : undefined;
  }

  /** Counts a request in a fixed window (`key` per limit); returns the requests used and the window's end. */
  rateWindow(key: string, windowMs: number): { used: number; resetsAt: number } {
    const now = Date.now();
    let window = this.rateWindows.get(key);
    if (!window || now - window.start >= windowMs) {
      window = { start: now, used: 0 };
      this.rateWindows.set(key, window);
    }
    window.used += 1;
    return { used: window.used, resetsAt: window.start + windowMs };
  }

  /**
   * Long-running benchmarks issue many tokens; expired ones are kept for an hour (so an API call can still
   * tell "expired" from "unknown") and then forgotten.
   */
  private forgetLongExpiredTokens(): void {
    const cutoff = Date.now() - 60 * 60 * 1000;
    for (const [token, record] of this.accessTokens) if (record.expiresAt < cutoff) this.accessTokens.delete(token);
  }

  /** The client's live client-credentials token, or a new one. */
  clientCredentialsToken(grant: Grant, ttlSeconds: number): AccessTokenRecord {
    const key = `${grant.provider}:${grant.clientId}`;
    const existing = this.accessTokens.get(this.clientCredentialTokens.get(key) ?? '');
    if (existing && existing.expiresAt > Date.now()) return existing;
    const record = this.issueAccessToken(grant, ttlSeconds);
    this.clientCredentialTokens.set(key, record.token);
    return record;
  }
}

/** Whole seconds left, rounded up so a fresh token shows its full lifetime; 0 once expired. */
export function secondsLeft(expiresAt: number): number {
  return Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
}
