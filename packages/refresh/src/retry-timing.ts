/** The arithmetic of retries and of how long a caller waits for another process's refresh. */
import type { RetryOptions } from './manager-options';

/** Added to the derived default lockWaitMs: Redis round trips and the save's own retries. */
const LOCK_WAIT_MARGIN_MS = 1000;

/** The longest wait after failed try `attempt` (full jitter draws below it). */
export function backoffCap(retry: Required<RetryOptions>, attempt: number): number {
  return Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
}

/**
 * The default lockWaitMs (see TokenManagerOptions.lockWaitMs): a live holder's worst case — every try
 * taking the whole `attemptMs`, with the backoff caps between them — plus a dead holder's lock
 * lifetime, plus a margin.
 */
export function defaultLockWait(retry: Required<RetryOptions>, attemptMs: number, lockTtlMs: number): number {
  let backoffMs = 0;
  for (let attempt = 1; attempt < retry.attempts; attempt++) backoffMs += backoffCap(retry, attempt);
  return retry.attempts * attemptMs + backoffMs + lockTtlMs + LOCK_WAIT_MARGIN_MS;
}
