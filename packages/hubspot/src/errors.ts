import { ErrorBodyParser, ProviderErrorFields, isRecord, parseRfc6749Error } from '@passport-martech/oauth2/provider-kit';

/**
 * Legacy `status` values and the RFC 6749 code each amounts to. UNK: these names appear only in
 * third-party sources (client libraries, community answers), not in HubSpot's own documentation
 * (docs/providers.md); HubSpot documents `error` on its newer answers and `status` + `message` on older
 * ones (DOC). The mapping is ours, so that `invalid_grant` means "sign in again" whichever form arrives.
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
 * HubSpot error bodies: `{ error, error_description }` (RFC 6749) and/or HubSpot's error model
 * `{ status, message, correlationId, category, subCategory, errors[], context }` (DOC). The code goes in
 * `code`; what helps act on it goes in `details`: `status`, `message`, `correlationId`, `category`,
 * `subCategory`, `errors` (each entry's `message`, `code`, `in`, `subCategory`, `context`) and
 * `context` (field name -> values). The oauth2 layer redacts `details` before it reaches an error.
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
  if (typeof json.subCategory === 'string') details.subCategory = json.subCategory;
  const entries = errorEntries(json.errors);
  if (entries) details.errors = entries;
  const context = contextOf(json.context);
  if (context) details.context = context;
  const fields: ProviderErrorFields = { code, description: rfc?.description ?? message, uri: rfc?.uri };
  if (Object.keys(details).length > 0) fields.details = details;
  return fields;
};

const ENTRY_FIELDS = ['message', 'code', 'in', 'subCategory'] as const;
/** At most this many `errors[]` entries and `context` values are kept: enough to act on, bounded. */
const MAX_ITEMS = 20;

/** The `errors[]` entries' string fields and `context`; anything else (and anything non-string) is dropped. */
function errorEntries(value: unknown): Record<string, unknown>[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const entries = value.filter(isRecord).slice(0, MAX_ITEMS).map((entry) => {
    const kept: Record<string, unknown> = {};
    for (const field of ENTRY_FIELDS) if (typeof entry[field] === 'string') kept[field] = entry[field];
    const context = contextOf(entry.context);
    if (context) kept.context = context;
    return kept;
  });
  return entries.length > 0 ? entries : undefined;
}

/** HubSpot's `context`: a field name -> a list of strings (e.g. `{ "propertyName": ["email"] }`). */
function contextOf(value: unknown): Record<string, string[]> | undefined {
  if (!isRecord(value)) return undefined;
  const kept: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(value).slice(0, MAX_ITEMS)) {
    if (Array.isArray(values)) kept[key] = values.filter((v): v is string => typeof v === 'string').slice(0, MAX_ITEMS);
  }
  return Object.keys(kept).length > 0 ? kept : undefined;
}
