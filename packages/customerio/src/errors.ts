import { ErrorBodyParser, isRecord, parseRfc6749Error } from '@passport-martech/oauth2/provider-kit';

const RFC6749_PREFIX = /^(invalid_request|invalid_client|invalid_grant|unauthorized_client|unsupported_grant_type|invalid_scope|access_denied|server_error|temporarily_unavailable|invalid_token)\s*:\s*(.*)$/s;

/**
 * Customer.io error bodies (CODE): `{ meta: { error: "..." } }` or `{ meta: { errors: ["...", ...] } }`.
 * An entry that starts with an RFC 6749 code and a colon (`"invalid_grant: refresh token revoked"`)
 * gives that code; otherwise the code is `CUSTOMERIO_ERROR`. All entries stay in `details.errors`.
 * RFC 6749 bodies are read too.
 */
export const parseCustomerIoError: ErrorBodyParser = (json, status) => {
  const rfc = parseRfc6749Error(json, status);
  if (rfc) return rfc;
  if (!isRecord(json) || !isRecord(json.meta)) return undefined;
  const entries = [json.meta.error, ...(Array.isArray(json.meta.errors) ? json.meta.errors : [])]
    .map((entry) => (typeof entry === 'string' ? entry : isRecord(entry) && typeof entry.message === 'string' ? entry.message : undefined))
    .filter((entry): entry is string => entry !== undefined && entry !== '');
  if (entries.length === 0) return undefined;
  const first = entries[0] as string;
  const match = RFC6749_PREFIX.exec(first);
  return {
    code: match ? (match[1] as string) : 'CUSTOMERIO_ERROR',
    description: match ? (match[2] as string).trim() || undefined : first,
    details: { errors: entries },
  };
};
