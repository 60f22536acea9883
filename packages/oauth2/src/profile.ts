import { isRecord } from './errors';

/** The normalized profile every strategy gives its verify callback (passport's profile convention). */
export interface Profile {
  provider: string;
  id: string;
  displayName?: string;
  /** Always an array, possibly empty. */
  emails: { value: string; type?: string; verified?: boolean }[];
  /** Always an array, possibly empty. */
  photos: { value: string }[];
  /** The identity document as received (JSON text); for identities read from a token response, the redacted response. */
  _raw: string;
  _json: Record<string, unknown>;
}

/** A string id from a string or a finite number; undefined for anything else. */
export function idString(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The first present id among `keys`. */
export function firstId(json: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const id = idString(json[key]);
    if (id !== undefined) return id;
  }
  return undefined;
}

// Linear-time: the domain's labels cannot overlap, so there is no backtracking on hostile input.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export function isEmail(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 254 && EMAIL.test(value);
}

/** Keys an identity or token document may carry that must never reach a profile. */
const TOKEN_KEYS = ['access_token', 'refresh_token', 'id_token', 'token'];

/**
 * A copy of a provider document without its tokens (an identity endpoint that echoes the token, say);
 * `extraTokenKeys` names the provider's own token material.
 */
export function withoutTokens(json: Record<string, unknown>, extraTokenKeys: readonly string[] = []): Record<string, unknown> {
  return copyWithoutTokens(json, extraTokenKeys).json;
}

/** The copy, and whether anything was left out. One pass over the document (this runs once per login). */
function copyWithoutTokens(document: Record<string, unknown>, extraTokenKeys: readonly string[]): { json: Record<string, unknown>; removed: boolean } {
  const json: Record<string, unknown> = {};
  let removed = false;
  for (const key of Object.keys(document)) {
    if (TOKEN_KEYS.includes(key) || extraTokenKeys.includes(key)) removed = true;
    // JSON.parse makes "__proto__" an own key; assigned, it would replace the copy's prototype instead.
    else if (key === '__proto__') Object.defineProperty(json, key, { value: document[key], enumerable: true, writable: true, configurable: true });
    else json[key] = document[key];
  }
  return { json, removed };
}

/**
 * A provider document fit for a profile's `_json` and `_raw`: the tokens removed, and `raw` (the text as
 * received) kept only when nothing had to be removed; otherwise the cleaned document, serialized.
 */
export function cleanIdentity(document: Record<string, unknown>, raw?: string, extraTokenKeys: readonly string[] = []): { json: Record<string, unknown>; raw: string } {
  const { json, removed } = copyWithoutTokens(document, extraTokenKeys);
  return { json, raw: raw !== undefined && !removed ? raw : JSON.stringify(json) };
}

export function emailList(...candidates: unknown[]): Profile['emails'] {
  const emails: Profile['emails'] = [];
  // A handful of candidates at most: a scan, not a Set per login.
  for (const value of candidates) {
    if (isEmail(value) && !emails.some((email) => email.value === value)) emails.push({ value });
  }
  return emails;
}

/** A non-empty string field of a JSON object, else undefined. */
export function stringField(json: Record<string, unknown>, key: string): string | undefined {
  const value = json[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Token-response keys that may identify the user, in order (README, "Profile"). */
export const TOKEN_IDENTITY_KEYS = ['user_id', 'account_id', 'id', 'sub', 'email'] as const;

/**
 * A provider's own identity fields in a token response, beyond the standard keys: the provider package
 * supplies it (ProviderDefinition.tokenIdentity). `id` is used when none of TOKEN_IDENTITY_KEYS names the
 * user; `email`, when given, is added to the profile's emails. The document has no tokens in it.
 */
export type TokenIdentityHook = (tokenResponse: Record<string, unknown>) => { id: string; email?: string } | undefined;

export interface TokenIdentityOptions {
  /** See TokenIdentityHook. */
  identity?: TokenIdentityHook;
}

/**
 * A profile from identity fields of a token response, for providers that document no identity
 * endpoint; undefined when the response names nobody. `_json` and `_raw` never hold the tokens.
 */
export function profileFromTokenResponse(provider: string, raw: Record<string, unknown>, options: TokenIdentityOptions = {}): Profile | undefined {
  const json = withoutTokens(raw);
  const own = options.identity?.(json);
  const id = firstId(json, TOKEN_IDENTITY_KEYS) ?? own?.id;
  if (id === undefined) return undefined;
  const emails = emailList(json.email, own?.email);
  return {
    provider,
    id,
    displayName: stringField(json, 'name') ?? emails[0]?.value,
    emails,
    photos: [],
    _raw: JSON.stringify(json),
    _json: json,
  };
}

/** Keys that may hold the id in a generic identity (userinfo-style) document. */
export const USERINFO_ID_KEYS = ['id', 'user_id', 'sub', 'account_id', 'email'] as const;

/** A profile from a generic JSON identity document (the `userProfileURL` option of the guide-only providers). */
export function profileFromUserInfo(provider: string, document: unknown, raw: string): Profile | undefined {
  if (!isRecord(document)) return undefined;
  const { json, raw: cleanRaw } = cleanIdentity(document, raw);
  raw = cleanRaw;
  const id = firstId(json, USERINFO_ID_KEYS);
  if (id === undefined) return undefined;
  const emails = emailList(json.email);
  const picture = stringField(json, 'picture') ?? stringField(json, 'avatar_url');
  return {
    provider,
    id,
    displayName: stringField(json, 'name') ?? stringField(json, 'display_name') ?? emails[0]?.value,
    emails,
    photos: picture ? [{ value: picture }] : [],
    _raw: raw,
    _json: json,
  };
}
