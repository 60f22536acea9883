import diagnosticsChannel from 'node:diagnostics_channel';
import type { TraceContext } from '@passport-martech/oauth2';
import { redisReplyWord } from './classify';
import type { RefreshTrigger } from './manager-options';

/**
 * This package's `diagnostics_channel` events (see the README, "Instrumentation"). Like the provider
 * requests of @passport-martech/oauth2, they carry provider ids, counts, durations and error codes —
 * never a token, user key or lock token — and cost nothing while no one subscribes.
 */
export const REFRESH_CHANNELS = {
  /** Tracing channel: one refresh flight (the callers of one (user, provider) that share a refresh). */
  refresh: 'passport-martech:refresh',
  /** Plain channel: one attempt to take the cross-process refresh lock. */
  lock: 'passport-martech:refresh-lock',
  /** Tracing channel: one pass of the RefreshScheduler. */
  schedulerPass: 'passport-martech:scheduler-pass',
} as const;

/** The context of a `passport-martech:refresh` trace, completed before asyncEnd / error. */
export interface RefreshFlightEvent extends TraceContext {
  provider: string;
  trigger: RefreshTrigger;
  /** Callers that joined this flight after the one that started it. */
  joined: number;
  /** `refreshed`: this flight refreshed; `reused`: another refresh (here, in another process, a login) had already produced a usable set; `failed`. */
  outcome?: 'refreshed' | 'reused' | 'failed';
  /** Milliseconds spent waiting for another process's lock (0 without a lock or when taken at once). */
  lockWaitMs: number;
  /** Refresh requests sent to the provider (retries included). */
  attempts: number;
  /** The provider answered a new refresh token. */
  rotated?: boolean;
}

/** A `passport-martech:refresh-lock` message. */
export interface LockEvent {
  provider: string;
  /** `acquired`; `busy` (another process holds it); `refused` (Redis error); `lost` (expired before the refresh token was presented). */
  outcome: 'acquired' | 'busy' | 'refused' | 'lost';
  errorCode?: string;
}

/** The context of a `passport-martech:scheduler-pass` trace: the pass's counts are set before asyncEnd. */
export interface SchedulerPassEvent extends TraceContext {
  due?: number;
  refreshed?: number;
  dropped?: number;
  failed?: number;
  running?: number;
}

export const refreshFlights = diagnosticsChannel.tracingChannel<object, RefreshFlightEvent>(REFRESH_CHANNELS.refresh);
export const lockAttempts = diagnosticsChannel.channel(REFRESH_CHANNELS.lock);
export const schedulerPasses = diagnosticsChannel.tracingChannel<object, SchedulerPassEvent>(REFRESH_CHANNELS.schedulerPass);

/** Publishes a lock attempt when anyone listens; the message is built only then. */
export function publishLock(provider: string, outcome: LockEvent['outcome'], error?: unknown): void {
  if (!lockAttempts.hasSubscribers) return;
  const event: LockEvent = { provider, outcome };
  const code = error === undefined ? undefined : refreshErrorCode(error);
  if (code) event.errorCode = code;
  lockAttempts.publish(event);
}

/**
 * An event's error code: the stable `code` (with the reason for ReauthenticationRequiredError, as
 * `REAUTHENTICATION_REQUIRED:invalid_grant`), or a Redis error's leading word (`READONLY`,
 * `NOREPLICAS`, `MOVED`) — never the rest of a message.
 */
export function refreshErrorCode(error: unknown): string | undefined {
  const { code, reason } = (error ?? {}) as { code?: unknown; reason?: unknown };
  if (typeof code === 'string') return typeof reason === 'string' ? `${code}:${reason}` : code;
  return redisReplyWord(error);
}
