/** Public types of the sandbox: options, clients, users, faults and stats. */

export { PROVIDER_IDS, type ProviderId } from './providers';
import type { ProviderId } from './providers';

/** What a request is counted as, and what a fault can target. */
export const ENDPOINTS = ['authorize', 'token', 'refresh', 'identity', 'api', 'clientCredentials'] as const;
export type SandboxEndpoint = (typeof ENDPOINTS)[number];

export const FAULT_KINDS = [
  'http500',
  'http503',
  'html',
  'redirect',
  'empty',
  'invalid_grant',
  'delay',
  'drop',
  'lost_answer',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A registered OAuth client. */
export interface SandboxClient {
  clientId: string;
  clientSecret: string;
  /** Shown on the consent page. */
  name?: string;
  /**
   * Exact redirect URIs allowed. When absent, any loopback `http` URI (host `localhost`, `127.0.0.1` or
   * `[::1]`, any port and path) is allowed, as RFC 8252 section 7.3 does for native apps.
   */
  redirectUris?: string[];
}

/** The demo user who "logs in" at a provider. */
export interface SandboxUser {
  userId: string | number;
  email: string;
  /** Free text; may contain HTML, which the consent page escapes. */
  name: string;
  /** HubSpot `hub_id`, Ontraport `account_id`, ... (numeric where the provider's field is a number). */
  accountId: string | number;
}

export interface Fault {
  provider: ProviderId;
  /** `token` matches both grants at the token endpoint, `refresh` only the refresh_token grant. */
  endpoint: SandboxEndpoint;
  fault: FaultKind;
  /** For `delay`: how long to wait before answering normally (default 1000 ms). */
  delayMs?: number;
  /** Apply to the next N matching requests only (default: every request until reset). */
  times?: number;
}

/**
 * What happens when an already-rotated refresh token is presented again:
 * - `'revoke'`: it is `invalid_grant` (nothing else changes);
 * - `'revoke-grant'`: reuse detection (RFC 9700 section 4.14.2): the whole grant (every refresh and access token
 *   descended from the same authorization) is revoked, and the answer is `invalid_grant`;
 * - `{ graceSeconds }`: it keeps working for that many seconds after its rotation (each use issues new tokens),
 *   then it is `invalid_grant`.
 */
export type RefreshTokenReuse = 'revoke' | 'revoke-grant' | { graceSeconds: number };

export type PerProvider<T> = Partial<Record<ProviderId, T>>;

export interface SandboxOptions {
  /** Registered clients per provider; a list given for a provider replaces that provider's default client. */
  clients?: PerProvider<SandboxClient[]>;
  /** Access token lifetime: one number for all, or per provider (defaults: hubspot 1800, others 3600). */
  accessTokenTtlSeconds?: number | PerProvider<number>;
  /** Default true: a used refresh token is revoked and a new one returned. */
  rotateRefreshTokens?: boolean;
  /** What a rotated refresh token does when presented again (default `'revoke'`); only with rotation on. */
  refreshTokenReuse?: RefreshTokenReuse;
  /** Default false: when true, authorize redirects with a code at once instead of showing the consent page. */
  autoApprove?: boolean;
  /** Added to every token, identity, client-credentials and API response (milliseconds). */
  latencyMs?: number;
  /** Faults active from the start (until `reset()` or `DELETE /_sandbox/faults`). */
  faults?: Fault[];
  /** Per-provider override of the demo user (merged over the default). */
  users?: PerProvider<Partial<SandboxUser>>;
}

export interface StartOptions extends SandboxOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export type EndpointCounts = Record<SandboxEndpoint, number>;
export type SandboxStats = Record<ProviderId, EndpointCounts>;

export interface ExpireRequest {
  provider: ProviderId;
  /** Only this token; otherwise every access token of the provider. */
  accessToken?: string;
}

export interface RevokeRequest {
  provider: ProviderId;
  /** Only this token; otherwise every refresh token of the provider. */
  refreshToken?: string;
}

/** The truth about one refresh token, for checkers. */
export interface RefreshTokenStatus {
  /** A refresh_token grant with it (by its client) would succeed now. */
  live: boolean;
  /** Its grant was revoked: by reuse detection, by `revoke`, or by a replayed authorization code. */
  grantRevoked: boolean;
  /** It was used and replaced by a new refresh token. */
  rotated: boolean;
}

/** Per-provider refresh-token counters. Never carries token values. */
export interface RefreshAudit {
  /** refresh_token grants that issued tokens (an answer lost by `lost_answer` included). */
  refreshGranted: number;
  /** refresh_token grants that presented an already-rotated refresh token (inside a grace window or not). */
  rotatedPresented: number;
  /** Grants revoked by reuse detection (`refreshTokenReuse: 'revoke-grant'`). */
  grantsRevokedByReuse: number;
  /** Token-endpoint answers destroyed by the `lost_answer` fault after the work was done. */
  lostAnswers: number;
}

export type SandboxAudit = Record<ProviderId, RefreshAudit>;
