import { ErrorBodyParser, isRecord, parseRfc6749Error } from '@passport-martech/oauth2/provider-kit';

/**
 * Klaviyo's two error shapes (docs/providers.md, "Klaviyo"):
 * - the OAuth endpoints answer RFC 6749 `{ error, error_description }` (DOC codes: `invalid_client`,
 *   `invalid_grant`, `invalid_grant_type`; CODE: Klaviyo's Node SDK reads `error`);
 * - the API answers JSON:API `{ errors: [{ id, status, code, title, detail, source }] }` (DOC shape). The
 *   first entry's `code` becomes the error code (`KLAVIYO_ERROR` without one) and every entry stays in
 *   `details.errors`.
 */
export const parseKlaviyoError: ErrorBodyParser = (json, status) => {
  const rfc = parseRfc6749Error(json, status);
  if (rfc) return rfc;
  if (!isRecord(json) || !Array.isArray(json.errors)) return undefined;
  const entries = json.errors.filter(isRecord);
  const first = entries[0];
  if (!first) return undefined;
  const code = typeof first.code === 'string' && first.code !== '' ? first.code : 'KLAVIYO_ERROR';
  const description = [first.title, first.detail].find((text): text is string => typeof text === 'string' && text !== '');
  return { code, description, details: { errors: entries } };
};
