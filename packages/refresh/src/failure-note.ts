/**
 * The note a refresh holder leaves in the lock for the waiters in other processes when its refresh
 * failed (`RefreshLock.setFailure`): they throw the same typed error instead of each trying again.
 */
import { OAuthRequestError, OAuthTokenError } from '@passport-martech/oauth2';
import type { TokenSet } from '@passport-martech/oauth2';
import { ReauthenticationRequiredError } from './errors';
import { fingerprint } from './fingerprint';
import type { RefreshLock } from './lock';

export interface FailureNote {
  /** Fingerprint of the refresh token that failed: the note applies to that token only. */
  rt: string;
  /** `reauth`: invalid_grant (ReauthenticationRequiredError); `token`: OAuthTokenError; `request`: OAuthRequestError. */
  kind: 'reauth' | 'token' | 'request';
  code: string;
  status?: number;
  message: string;
  description?: string;
}

/** The note for an error worth sharing: the provider's answer (after the retries), never a local failure. */
export function failureNote(error: unknown, refreshToken: string): FailureNote | undefined {
  const rt = fingerprint(refreshToken);
  if (error instanceof ReauthenticationRequiredError) {
    if (error.reason !== 'invalid_grant') return undefined;
    const cause = error.cause instanceof OAuthTokenError ? error.cause : undefined;
    return { rt, kind: 'reauth', code: 'invalid_grant', status: cause?.status, message: cause?.message ?? error.message, description: cause?.description };
  }
  if (error instanceof OAuthTokenError) return { rt, kind: 'token', code: error.code, status: error.status, message: error.message, description: error.description };
  if (error instanceof OAuthRequestError) return { rt, kind: 'request', code: error.code, status: error.status, message: error.message };
  return undefined;
}

/**
 * Whether a note read from the lock applies to what this caller holds: the same refresh token, or —
 * when the tokens are gone — an invalid_grant for any.
 */
export function noteApplies(note: FailureNote, tokens: TokenSet | undefined): boolean {
  if (!tokens) return note.kind === 'reauth';
  return tokens.refreshToken !== undefined && note.rt === fingerprint(tokens.refreshToken);
}

/** The same typed error as the one the note was made from (its message, code and status). */
export function errorFromNote(note: FailureNote, provider: string, userKey: string): Error {
  const init = { code: String(note.code), status: note.status, message: String(note.message), description: note.description, provider };
  if (note.kind === 'request') return new OAuthRequestError(init);
  const providerError = new OAuthTokenError(init);
  return note.kind === 'reauth' ? new ReauthenticationRequiredError({ provider, userKey, reason: 'invalid_grant', cause: providerError }) : providerError;
}

/**
 * Leaves the holder's failure for the waiters in other processes, for `ttlMs`: long enough for every
 * waiter to poll once more, and short — a negative cache of a transient failure. Best effort.
 */
export async function leaveFailureNote(lock: RefreshLock, lockName: string, refreshToken: string, error: unknown, ttlMs: number): Promise<void> {
  if (!lock.setFailure) return;
  const note = failureNote(error, refreshToken);
  if (!note) return;
  await lock.setFailure(lockName, JSON.stringify(note), ttlMs).catch(() => undefined);
}

/**
 * The error a holder in another process failed with, for this refresh token (or, when the tokens are
 * gone, an invalid_grant for any): thrown instead of trying again. undefined when there is none.
 */
export async function readFailureNote(lock: RefreshLock, lockName: string, userKey: string, provider: string, tokens: TokenSet | undefined): Promise<Error | undefined> {
  if (!lock.getFailure) return undefined;
  let note: FailureNote;
  try {
    const text = await lock.getFailure(lockName);
    if (!text) return undefined;
    note = JSON.parse(text) as FailureNote;
  } catch {
    return undefined; // an unreadable note is no reason to fail; this caller refreshes itself
  }
  return noteApplies(note, tokens) ? errorFromNote(note, provider, userKey) : undefined;
}
