/**
 * Refresh tokens and their grant families: rotation, the reuse policy (plain revoke, reuse detection that
 * revokes the whole grant, or a grace window), the truth about a token for checkers, and the refresh audit.
 *
 * A family is one authorization: it starts at the code exchange and every token refreshed from it inherits
 * it. Rotated and revoked tokens are remembered (so a reuse can be recognised and a checker told the truth)
 * for an hour past their grace window, then forgotten.
 */
import { SandboxError } from './errors';
import type { Grant } from './state';
import type { ProviderId, RefreshAudit, RefreshTokenReuse, RefreshTokenStatus, SandboxAudit } from './types';
import { PROVIDER_IDS } from './types';

/** Where a token comes from: the code it was issued from and its grant family. */
export interface Lineage {
  fromCode?: string;
  family: string;
}

export interface RefreshTokenRecord extends Grant, Lineage {
  token: string;
  /** When it was used and replaced (rotation); unset while it is the current token. */
  rotatedAt?: number;
  /** Its family was revoked (reuse detection, `revoke`, a replayed code). */
  grantRevoked?: boolean;
  /** When it stopped being the current token (rotated or revoked), for forgetting it later. */
  retiredAt?: number;
}

/** Why a presented refresh token is refused, or undefined when it may be used. */
export type Refusal = 'revoked' | 'rotated' | 'reuse-detected';

const MAX_GRACE_SECONDS = 24 * 60 * 60;
/** Retired tokens are remembered this long past their grace window. */
const REMEMBER_RETIRED_MS = 60 * 60 * 1000;

/** Checks a reuse policy given by a user (option, HTTP body or setter); throws SandboxError 400. */
export function validateRefreshTokenReuse(input: unknown): RefreshTokenReuse {
  if (input === 'revoke' || input === 'revoke-grant') return input;
  if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
    const raw = input as Record<string, unknown>;
    const keys = Object.keys(raw);
    const grace = raw.graceSeconds;
    if (
      keys.length === 1 &&
      typeof grace === 'number' &&
      Number.isFinite(grace) &&
      grace >= 0 &&
      grace <= MAX_GRACE_SECONDS
    ) {
      return { graceSeconds: grace };
    }
  }
  throw new SandboxError(
    400,
    'invalid_request',
    `refreshTokenReuse must be "revoke", "revoke-grant" or { "graceSeconds": 0..${MAX_GRACE_SECONDS} }`,
  );
}

function zeroAudit(): SandboxAudit {
  const zero = (): RefreshAudit => ({ refreshGranted: 0, rotatedPresented: 0, grantsRevokedByReuse: 0, lostAnswers: 0 });
  return Object.fromEntries(PROVIDER_IDS.map((p) => [p, zero()])) as SandboxAudit;
}

export class RefreshTokens {
  /** Every refresh token still remembered: current, rotated or revoked. */
  private readonly records = new Map<string, RefreshTokenRecord>();
  private policy: RefreshTokenReuse;
  private counters = zeroAudit();
  private families = 0;
  private issued = 0;

  /**
   * @param initialPolicy restored by `clear()`.
   * @param onGrantRevoked called when a whole family is revoked, so its access tokens can be revoked too.
   */
  constructor(
    private readonly initialPolicy: RefreshTokenReuse,
    private readonly onGrantRevoked: (family: string) => void,
  ) {
    this.policy = initialPolicy;
  }

  newFamily(): string {
    this.families += 1;
    return `family-${this.families}`;
  }

  get reusePolicy(): RefreshTokenReuse {
    return typeof this.policy === 'string' ? this.policy : { ...this.policy };
  }

  setReusePolicy(input: unknown): RefreshTokenReuse {
    this.policy = validateRefreshTokenReuse(input);
    return this.reusePolicy;
  }

  private graceMs(): number {
    return typeof this.policy === 'object' ? this.policy.graceSeconds * 1000 : 0;
  }

  issue(grant: Grant, lineage: Lineage, token: string): RefreshTokenRecord {
    if (++this.issued % 1000 === 0) this.forgetLongRetired();
    const record: RefreshTokenRecord = { ...grant, ...lineage, token };
    this.records.set(record.token, record);
    return record;
  }

  /** Any remembered refresh token of the provider (current, rotated or revoked). */
  find(provider: ProviderId, token: string): RefreshTokenRecord | undefined {
    const record = this.records.get(token);
    return record && record.provider === provider ? record : undefined;
  }

  /** A refresh_token grant with it would succeed now (client and flow aside). */
  isLive(record: RefreshTokenRecord, now = Date.now()): boolean {
    if (record.grantRevoked) return false;
    return record.rotatedAt === undefined || now < record.rotatedAt + this.graceMs();
  }

  /** Live refresh tokens of the provider. */
  live(provider: ProviderId): RefreshTokenRecord[] {
    const now = Date.now();
    return [...this.records.values()].filter((r) => r.provider === provider && this.isLive(r, now));
  }

  /**
   * A refresh_token grant presents this token (found for the right provider, flow and client). Counts a
   * rotated token presented again and, under `'revoke-grant'`, revokes its whole grant. Returns why the
   * token is refused, or undefined when it may be used.
   */
  present(record: RefreshTokenRecord): Refusal | undefined {
    const now = Date.now();
    const audit = this.counters[record.provider];
    if (record.rotatedAt !== undefined) audit.rotatedPresented += 1;
    if (record.grantRevoked) return 'revoked';
    if (this.isLive(record, now)) return undefined;
    if (this.policy !== 'revoke-grant') return 'rotated';
    // RFC 9700 section 4.14.2: the server cannot tell the legitimate client from an attacker; it revokes
    // the grant, so whoever holds the current refresh token has to authorize again too.
    audit.grantsRevokedByReuse += 1;
    this.revokeFamily(record.family);
    return 'reuse-detected';
  }

  /** Rotation: the token is replaced (it may still work inside a grace window). */
  rotate(record: RefreshTokenRecord): void {
    if (record.rotatedAt !== undefined) return;
    record.rotatedAt = Date.now();
    record.retiredAt ??= record.rotatedAt;
  }

  /**
   * Revokes every refresh token of the family, and its access tokens unless told not to (the `revoke`
   * control leaves them); returns how many of the refresh tokens were live.
   */
  revokeFamily(family: string, options: { accessTokens: boolean } = { accessTokens: true }): number {
    const now = Date.now();
    let live = 0;
    for (const record of this.records.values()) {
      if (record.family !== family || record.grantRevoked) continue;
      if (this.isLive(record, now)) live += 1;
      record.grantRevoked = true;
      record.retiredAt ??= now;
    }
    if (options.accessTokens) this.onGrantRevoked(family);
    return live;
  }

  /** The truth about a token; all false for a token the sandbox does not know (or has forgotten). */
  status(provider: ProviderId, token: string): RefreshTokenStatus {
    const record = this.find(provider, token);
    if (!record) return { live: false, grantRevoked: false, rotated: false };
    return { live: this.isLive(record), grantRevoked: record.grantRevoked === true, rotated: record.rotatedAt !== undefined };
  }

  countGranted(provider: ProviderId): void {
    this.counters[provider].refreshGranted += 1;
  }

  countLostAnswer(provider: ProviderId): void {
    this.counters[provider].lostAnswers += 1;
  }

  audit(): SandboxAudit {
    return Object.fromEntries(PROVIDER_IDS.map((p) => [p, { ...this.counters[p] }])) as SandboxAudit;
  }

  /** Forgets every token and counter; the reuse policy goes back to the configured one. */
  clear(): void {
    this.records.clear();
    this.counters = zeroAudit();
    this.policy = this.initialPolicy;
  }

  private forgetLongRetired(): void {
    const cutoff = Date.now() - REMEMBER_RETIRED_MS - this.graceMs();
    for (const [token, record] of this.records) {
      if (record.retiredAt !== undefined && record.retiredAt < cutoff) this.records.delete(token);
    }
  }
}
