import { ErrorBodyParser, isRecord, parseRfc6749Error } from '@passport-martech/oauth2/provider-kit';

/** Marketo's documented REST error codes for tokens (DOC): the token must be fetched again. */
export const TOKEN_INVALID = '601';
export const TOKEN_EXPIRED = '602';
/**
 * Marketo's REST limits (DOC, docs/providers.md), answered with HTTP 200 and an error code: 606 — more
 * than 100 calls in 20 s; 615 — more than 10 concurrent requests (both: try again a little later);
 * 607 — the subscription's daily quota is used up (nothing works until it resets).
 */
export const RATE_LIMITED = '606';
export const TOO_MANY_CONCURRENT = '615';
export const DAILY_QUOTA_REACHED = '607';
/** `err.code` of the typed error a 607 answer becomes. */
export const DAILY_QUOTA_ERROR_CODE = 'MARKETO_DAILY_QUOTA_EXCEEDED';

/**
 * Marketo error bodies. The identity service answers RFC 6749 style `{ error, error_description }`
 * (DOC); the REST API answers HTTP 200 with `{ success: false, errors: [{ code, message }] }` (DOC).
 * The first REST error's code becomes `code` (as a string: "601"); all of them stay in `details.errors`.
 */
export const parseMarketoError: ErrorBodyParser = (json, status) => {
  const rfc = parseRfc6749Error(json, status);
  if (rfc) return rfc;
  if (!isRecord(json) || !Array.isArray(json.errors) || json.errors.length === 0) return undefined;
  const errors = json.errors.filter(isRecord).map((e) => ({ code: String(e.code ?? ''), message: typeof e.message === 'string' ? e.message : '' }));
  const first = errors[0];
  if (!first || first.code === '') return undefined;
  return { code: first.code, description: first.message || undefined, details: { errors } };
};

/** True when a REST answer's body carries 601 (token invalid) or 602 (token expired). */
export function isTokenRejectionBody(json: unknown): boolean {
  const code = parseMarketoError(json, 200)?.code;
  return code === TOKEN_INVALID || code === TOKEN_EXPIRED;
}

/**
 * Marketo's "token rejected" rule for `TokenManager.fetch` (the strategy's `isTokenRejected`): HTTP 401,
 * or HTTP 200 with `{ success: false, errors: [{ code: '601' | '602' }] }` (DOC, docs/providers.md). The
 * response body stays readable (a clone is read).
 */
export async function marketoTokenRejected(response: Response): Promise<boolean> {
  if (response.status === 401) return true;
  if (!(response.headers.get('content-type') ?? '').includes('json')) return false;
  try {
    return isTokenRejectionBody(await response.clone().json());
  } catch {
    return false;
  }
}
