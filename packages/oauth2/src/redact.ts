/**
 * Keeps secrets out of error messages. Every excerpt of a provider's body that reaches an error goes
 * through here: known secret values are scrubbed verbatim, sensitive JSON keys (in any spelling:
 * `access_token`, `accessToken`, `Access-Token`) and text that looks like a credential are masked, and
 * the result is short.
 */

/** Key names, lowercased with `_` and `-` removed, whose values are always secret. */
const SECRET_KEYS = new Set([
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'token',
  'codeverifier',
  'clientsecret',
  'state',
  'password',
  'assertion',
  'apikey',
  'secret',
  'authorization',
]);

const REDACTED = '[redacted]';
const EXCERPT_LENGTH = 160;
/** An authorization `code` is long and random; a provider's numeric or upper-case error codes ("601", "BAD_AUTH_CODE") are not secrets. */
const SHORT_CODE = /^\d{1,6}$|^[A-Z_]{1,40}$/;

const CREDENTIAL_PATTERNS: RegExp[] = [
  // key=value and key: value pairs, quoted or not, in any of the spellings above
  /((?:access|refresh|id)[_-]?token|token|code(?:[_-]?verifier)?|client[_-]?secret|state|password|api[_-]?key|assertion)(["']?\s*[:=]\s*["']?)([^"'\s,&<>;}]+)/gi,
  // HTTP credentials echoed back
  /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=-]+)/g,
];

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

export function isSensitiveKey(key: string, value?: unknown): boolean {
  const normalized = normalizeKey(key);
  if (normalized === 'code') return !(typeof value === 'number' || (typeof value === 'string' && SHORT_CODE.test(value)));
  return SECRET_KEYS.has(normalized);
}

/** A deep copy of `value` with every sensitive key's value replaced. */
export function redactJson(value: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactJson(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSensitiveKey(key, item) ? REDACTED : redactJson(item, depth + 1);
    }
    return out;
  }
  return value;
}

/** Replaces each non-trivial known secret value found in `text`, then anything credential-shaped. */
export function scrub(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would mask ordinary words; real secrets, codes and tokens are longer.
    if (secret && secret.length >= 6) out = out.split(secret).join(REDACTED);
  }
  for (const pattern of CREDENTIAL_PATTERNS) {
    out = out.replace(pattern, (match, key: string, separator: string, value: string) =>
      normalizeKey(key) === 'code' && SHORT_CODE.test(value) ? match : `${key}${separator}${REDACTED}`,
    );
  }
  return out;
}

/** A short, single-line, redacted excerpt of a response body for an error message. */
export function bodyExcerpt(body: string, secrets: readonly (string | undefined)[] = []): string {
  // Only the head of a huge body is looked at: redaction work stays bounded.
  let text = body.length > 16_384 ? body.slice(0, 16_384) : body;
  try {
    text = JSON.stringify(redactJson(JSON.parse(text)));
  } catch {
    // not JSON (or cut): keep the text, scrubbed below
  }
  text = scrub(text.replace(/\s+/g, ' ').trim(), secrets);
  return text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH)}…` : text;
}

/** What a body is, without any of its content: for answers that may hold fresh tokens. */
export function bodySummary(body: string, contentType: string | null): string {
  const type = contentType ? contentType.split(';')[0]?.trim() : 'no content type';
  return `${type}, ${Buffer.byteLength(body)} bytes`;
}
