/**
 * Limits on a provider's refresh answer, checked before it is saved. A token set is kept for as long
 * as the grant lives and is encoded at every save; an answer nested 300 000 deep or carrying
 * megabytes of profile would break every later save (JSON.stringify throws RangeError) and fill the
 * store. The tokens themselves are what keeps the grant alive, so they are kept whenever they are
 * usable, and only the rest of the answer is trimmed.
 */
import { ErrorCode, OAuthRequestError, isRecord } from '@passport-martech/oauth2';
import type { TokenSet } from '@passport-martech/oauth2';

export const ANSWER_LIMITS = {
  /** An access or refresh token longer than this is not a token (JWTs run to a few KiB). */
  tokenChars: 16 * 1024,
  /** `raw` deeper than this, or larger (characters of keys and strings), is trimmed. */
  rawDepth: 16,
  rawChars: 64 * 1024,
  /** A top-level string of `raw` longer than this is dropped when `raw` is trimmed. */
  fieldChars: 4 * 1024,
} as const;

/**
 * The lifetime assumed for an access token whose `expires_in` is present but not a non-negative
 * number: short, so it is refreshed soon, rather than "never expires".
 */
export const ASSUMED_LIFETIME_MS = 5 * 60 * 1000;

export interface CheckedAnswer {
  tokens: TokenSet;
  /** What was wrong with the answer and fixed; undefined when nothing was. */
  problem?: string;
}

/** Throws OAUTH_UNEXPECTED_RESPONSE when the tokens are unusable; otherwise the set to save. */
export function checkRefreshAnswer(tokens: TokenSet, provider: string, receivedAt: number = Date.now()): CheckedAnswer {
  checkToken(tokens.accessToken, 'access token', provider, true);
  checkToken(tokens.refreshToken, 'refresh token', provider, false);
  const problems: string[] = [];
  let checked = tokens;
  if (tokens.expiresAt === undefined && tokens.raw?.expires_in !== undefined && tokens.raw.expires_in !== null) {
    checked = { ...checked, expiresAt: receivedAt + ASSUMED_LIFETIME_MS };
    problems.push(`expires_in is not a non-negative number; assumed ${ASSUMED_LIFETIME_MS / 60_000} minutes`);
  } else if (tokens.expiresAt !== undefined && !Number.isFinite(tokens.expiresAt)) {
    checked = { ...checked, expiresAt: receivedAt + ASSUMED_LIFETIME_MS };
    problems.push('expiresAt is not finite');
  }
  const rawProblem = rawLimitBroken(tokens.raw);
  if (rawProblem) {
    checked = { ...checked, raw: trimmedRaw(tokens.raw) };
    problems.push(`${rawProblem}; only its short top-level fields were kept`);
  }
  return problems.length === 0 ? { tokens } : { tokens: checked, problem: `the refresh answer ${problems.join(', ')}` };
}

function checkToken(value: unknown, what: string, provider: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value === 'string' && value !== '' && value.length <= ANSWER_LIMITS.tokenChars) return;
  throw new OAuthRequestError({
    code: ErrorCode.UNEXPECTED_RESPONSE,
    provider,
    message: `The refresh answer's ${what} is not a string of 1 to ${ANSWER_LIMITS.tokenChars} characters`,
  });
}

/** Walks `raw` without recursion (a hostile depth cannot overflow the stack); stops at the first limit. */
function rawLimitBroken(raw: unknown): string | undefined {
  if (!isRecord(raw)) return 'raw answer is not an object';
  const stack: { value: unknown; depth: number }[] = [{ value: raw, depth: 1 }];
  let chars = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value === 'string') chars += value.length;
    else if (value !== null && typeof value === 'object') {
      if (depth > ANSWER_LIMITS.rawDepth) return `is nested deeper than ${ANSWER_LIMITS.rawDepth}`;
      for (const [key, child] of Object.entries(value)) {
        chars += key.length + 1;
        stack.push({ value: child, depth: depth + 1 });
      }
    } else chars += 8;
    if (chars > ANSWER_LIMITS.rawChars) return `is larger than ${ANSWER_LIMITS.rawChars} characters`;
  }
  return undefined;
}

function trimmedRaw(raw: unknown): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  if (!isRecord(raw)) return kept;
  for (const [key, value] of Object.entries(raw)) {
    if (key.length > 256) continue;
    if (typeof value === 'string' ? value.length <= ANSWER_LIMITS.fieldChars : typeof value === 'number' || typeof value === 'boolean') kept[key] = value;
  }
  return kept;
}
