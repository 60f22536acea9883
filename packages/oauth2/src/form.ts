/**
 * application/x-www-form-urlencoded bodies, byte for byte as `new URLSearchParams(fields).toString()`
 * writes them (WHATWG: only ASCII alphanumerics and `*-._` unescaped, space as `+`), at about a third of
 * its CPU: every token request sends one.
 */

/** Values that need no escaping at all (codes, verifiers, grant types, client ids usually are). */
const FORM_SAFE = /^[A-Za-z0-9*._-]*$/;
/** What encodeURIComponent leaves as is but the form serializer escapes, and its space. */
const EXTRA_ESCAPES = /%20|[!'()~]/g;

/** One name or value, form-encoded. */
export function formComponent(value: string): string {
  if (FORM_SAFE.test(value)) return value;
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // A lone surrogate: URLSearchParams writes it as U+FFFD, encodeURIComponent throws.
    return new URLSearchParams({ v: value }).toString().slice(2);
  }
  return encoded.replace(EXTRA_ESCAPES, (match) => (match === '%20' ? '+' : `%${match.charCodeAt(0).toString(16).toUpperCase()}`));
}

/** A form body of `fields`, in their order. */
export function formEncode(fields: Readonly<Record<string, string>>): string {
  let body = '';
  for (const name of Object.keys(fields)) {
    if (body !== '') body += '&';
    body += `${formComponent(name)}=${formComponent(fields[name]!)}`;
  }
  return body;
}
