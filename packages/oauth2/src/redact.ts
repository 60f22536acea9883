/**
 * Keeps secrets out of error messages. Every excerpt of a provider's body that reaches an error goes
 * through here: known secret values are scrubbed verbatim, sensitive JSON keys and query-style pairs
 * are masked, and the result is short.
 */

const SENSITIVE_KEYS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'code',
  'code_verifier',
  'client_secret',
  'state',
  'password',
  'assertion',
  'api_key',
  'apikey',
  'secret',
]);

const REDACTED = '[redacted]';
const EXCERPT_LENGTH = 160;
const SENSITIVE_PAIR = /\b(access_token|refresh_token|id_token|token|code|code_verifier|client_secret|state|password|api_key)=([^&\s"'<>]+)/gi;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEYS.has(key.toLowerCase());
}

/** A deep copy of `value` with every sensitive key's value replaced. */
export function redactJson(value: unknown, depth = 0): unknown {
  if (depth > 8) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redactJson(item, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSensitiveKey(key) ? REDACTED : redactJson(item, depth + 1);
    }
    return out;
  }
  return value;
}

/** Replaces each non-trivial secret value found in `text`. */
export function scrub(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would mask ordinary words; real secrets, codes and tokens are longer.
    if (secret && secret.length >= 6) out = out.split(secret).join(REDACTED);
  }
  return out.replace(SENSITIVE_PAIR, (_match, key: string) => `${key}=${REDACTED}`);
}

/** A short, single-line, redacted excerpt of a response body for an error message. */
export function bodyExcerpt(body: string, secrets: readonly (string | undefined)[] = []): string {
  let text = body;
  try {
    text = JSON.stringify(redactJson(JSON.parse(body)));
  } catch {
    // not JSON: keep the text, scrubbed below
  }
  text = scrub(text.replace(/\s+/g, ' ').trim(), secrets);
  return text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH)}…` : text;
}
