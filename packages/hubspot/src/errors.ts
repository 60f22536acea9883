import { ErrorBodyParser, ProviderErrorFields, isRecord, parseRfc6749Error } from '@passport-martech/oauth2';

/**
 * HubSpot's legacy `status` values and the RFC 6749 code each amounts to. HubSpot's newer answers carry
 * `error` themselves (DOC); older ones, and the v1 endpoints, only `status` + `message` (DOC). The
 * mapping is ours, so that `invalid_grant` means "sign in again" whichever form arrives.
 */
const LEGACY_STATUS_CODES: Readonly<Record<string, string>> = {
  BAD_AUTH_CODE: 'invalid_grant',
  BAD_REFRESH_TOKEN: 'invalid_grant',
  BAD_REDIRECT_URI: 'invalid_grant',
  BAD_CLIENT_ID: 'invalid_client',
  BAD_CLIENT_SECRET: 'invalid_client',
  BAD_GRANT_TYPE: 'unsupported_grant_type',
  BAD_SCOPES: 'invalid_scope',
};

/**
 * HubSpot error bodies: `{ error, error_description }` (RFC 6749) and/or the legacy
 * `{ status, message, correlationId, category }`. Every field is kept: the code in `code`, the rest in
 * `details` (`details.status`, `details.message`, `details.correlationId`, `details.category`).
 */
export const parseHubSpotError: ErrorBodyParser = (json, status) => {
  if (!isRecord(json)) return undefined;
  const rfc = parseRfc6749Error(json, status);
  const legacyStatus = typeof json.status === 'string' && json.status !== '' ? json.status : undefined;
  const message = typeof json.message === 'string' ? json.message : undefined;
  const category = typeof json.category === 'string' ? json.category : undefined;
  const code =
    rfc?.code ??
    (legacyStatus && LEGACY_STATUS_CODES[legacyStatus]) ??
    (legacyStatus && legacyStatus !== 'error' ? legacyStatus : undefined) ??
    category;
  if (!code) return undefined;
  const details: Record<string, unknown> = {};
  if (legacyStatus) details.status = legacyStatus;
  if (message) details.message = message;
  if (typeof json.correlationId === 'string') details.correlationId = json.correlationId;
  if (category) details.category = category;
  const fields: ProviderErrorFields = { code, description: rfc?.description ?? message, uri: rfc?.uri };
  if (Object.keys(details).length > 0) fields.details = details;
  return fields;
};
