import type { TokenRejectedCheck } from './manager-options';

/** HTTP 401: the default rejection check of `TokenManager.fetch`. */
export const unauthorizedStatus: TokenRejectedCheck = (response) => response.status === 401;

/**
 * Marketo answers an expired or invalid token with HTTP 200 and `{ success: false, errors: [{ code:
 * '601' | '602' }] }` (601 invalid, 602 expired). Use as `isTokenRejected: { marketo: marketoTokenRejected }`.
 */
export const marketoTokenRejected: TokenRejectedCheck = async (response) => {
  if (response.status === 401) return true;
  if (!(response.headers.get('content-type') ?? '').includes('json')) return false;
  try {
    const body = (await response.clone().json()) as { errors?: { code?: unknown }[] };
    return Array.isArray(body?.errors) && body.errors.some((e) => String(e?.code) === '601' || String(e?.code) === '602');
  } catch {
    return false;
  }
};
