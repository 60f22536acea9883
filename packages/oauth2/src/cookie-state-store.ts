import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { optionError } from './options';
import { MemoryStateClaims, StateClaimStore, processStateClaims, sha256, stateClaimKey } from './state-claims';
import { AppState, STATE_TTL_MS } from './state-store';

/** A 32-byte AES-256 key: a Buffer, 64 hex characters or 44 base64 characters (as refresh's encryptionKey). */
export type CookieStateKey = Buffer | Uint8Array | string;

/** `state: { cookie: CookieStateOptions }`: the pending login in an encrypted cookie, no session needed. */
export interface CookieStateOptions {
  /**
   * The key the cookies are encrypted and authenticated with (AES-256-GCM), 32 bytes. A list rotates
   * keys: the first encrypts, every one decrypts. Keep it secret and the same on every process.
   * `undefined` is accepted by the type (`process.env.X`) and refused at construction, naming the option.
   */
  key: CookieStateKey | readonly CookieStateKey[] | undefined;
  /** Cookie name prefix; one cookie per pending login is `<name>.<id>`. Default `oauth2_state_<strategy>`. */
  name?: string;
  /** How long a login may take between redirect and callback; default 10 minutes. */
  ttlMs?: number;
  /** Pending logins (tabs) at once; the oldest are dropped beyond it. Default 5 (each is a cookie of ~250 bytes). */
  maxPending?: number;
}

export interface CookieStateStoreOptions extends CookieStateOptions {
  /** The strategy's callbackURL: `https:` makes the cookie `Secure`; its path scopes the cookie. */
  callbackURL: string;
  /** Package name for error messages. */
  owner?: string;
  /** Strategy name: default cookie name, and the namespace authenticated with each cookie. */
  strategy?: string;
  /** As the session store's: records used states atomically across processes. */
  stateClaims?: StateClaimStore;
  /** The process's own claim record; tests may pass their own. */
  localClaims?: MemoryStateClaims;
}

interface Sealed {
  /** SHA-256 of the state (base64url). */
  s: string;
  /** Created, epoch ms. */
  t: number;
  /** Cookie path, to clear it with. */
  p: string;
  /** PKCE verifier. */
  v?: string;
  /** App state (returnTo, ...). */
  a?: unknown;
}

type StoreCallback = (err: Error | null, state?: string) => void;
type VerifyCallback = (err: Error | null, ok?: string | boolean, info?: unknown) => void;

interface ResponseLike {
  headersSent?: boolean;
  append?: (field: string, value: string) => unknown;
  getHeader?: (field: string) => unknown;
  setHeader?: (field: string, value: string | string[]) => unknown;
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Cookie ids: 128 bits of SHA-256(state), so the callback finds its own cookie among several. */
const ID_CHARS = 22;
export const MAX_PENDING_COOKIES = 5;
const FAILURE = 'Unable to verify authorization request state: it is unknown, expired or already used.';

/**
 * A passport-oauth2 state store that needs no session: each pending login (a state's digest, the PKCE
 * verifier, the app state) is sealed with AES-256-GCM into a cookie of its own, `HttpOnly`,
 * `SameSite=Lax`, `Secure` for an https callback, scoped to the login routes' path and expiring with the
 * login. The callback must present the cookie the browser got at the redirect (so a login cannot be
 * finished in another browser), the state must match it (compared in constant time), the cookie is
 * cleared on use, and each state is claimed once (a replayed callback is a state failure).
 * Reads `req.headers.cookie` itself and writes through `req.res` (Express): no cookie-parser, no session.
 */
export class CookieStateStore {
  readonly #keys: Buffer[];
  readonly #name: string;
  readonly #ttlMs: number;
  readonly #maxPending: number;
  readonly #owner: string;
  readonly #namespace: string;
  readonly #callbackURL: string;
  readonly #stateClaims: StateClaimStore | undefined;
  readonly #localClaims: MemoryStateClaims;

  constructor(options: CookieStateStoreOptions) {
    const owner = options.owner ?? '@passport-martech/oauth2';
    this.#owner = owner;
    const strategy = options.strategy ?? 'oauth2';
    this.#keys = readKeys(owner, options.key);
    this.#name = options.name ?? `oauth2_state_${strategy}`;
    if (typeof this.#name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(this.#name)) {
      throw optionError(owner, 'state.cookie.name', 'must be 1-64 letters, digits, _ or -');
    }
    this.#ttlMs = options.ttlMs ?? STATE_TTL_MS;
    if (!Number.isInteger(this.#ttlMs) || this.#ttlMs <= 0) throw optionError(owner, 'state.cookie.ttlMs', 'must be a positive whole number of milliseconds');
    this.#maxPending = options.maxPending ?? MAX_PENDING_COOKIES;
    if (!Number.isInteger(this.#maxPending) || this.#maxPending < 1) throw optionError(owner, 'state.cookie.maxPending', 'must be a whole number of at least 1');
    if (options.stateClaims !== undefined && typeof options.stateClaims?.claim !== 'function') {
      throw optionError(owner, 'stateClaims', 'must be an object with a claim(key, ttlMs) method');
    }
    this.#stateClaims = options.stateClaims;
    this.#localClaims = options.localClaims ?? processStateClaims;
    this.#namespace = `cookie:${strategy}:${this.#name}`;
    this.#callbackURL = options.callbackURL;
  }

  /** passport-oauth2 calls this with five arguments (PKCE on or off). */
  store(req: Request, verifier: string | undefined, appState: unknown, _meta: unknown, callback: StoreCallback): void {
    const res = responseOf(req);
    if (!res) return callback(this.#noResponse());
    const state = randomBytes(24).toString('base64url');
    const now = Date.now();
    const path = this.#path(req);
    const sealed: Sealed = { s: sha256(state), t: now, p: path };
    if (verifier) sealed.v = verifier;
    if (appState instanceof AppState) sealed.a = appState.value;
    else if (appState !== undefined && typeof appState !== 'string') sealed.a = appState;
    const secure = this.#secure(req);
    // The cap: this browser's pending logins (the ones it sent here), oldest first; expired ones go too.
    const pending = this.#pending(req, now);
    const excess = pending.length + 1 - this.#maxPending;
    for (const [i, old] of pending.entries()) {
      if (i < excess || old.expired) append(res, this.#clear(old.name, old.path ?? path, secure));
    }
    const name = this.#cookieName(state);
    const value = this.#seal(name, sealed);
    append(res, serialize(name, value, { path, maxAge: Math.ceil(this.#ttlMs / 1000), secure }));
    callback(null, state);
  }

  verify(req: Request, providedState: unknown, _meta: unknown, callback: VerifyCallback): void {
    if (typeof providedState !== 'string' || providedState === '') {
      return callback(null, false, { message: 'Unable to verify authorization request state: the callback carries no state.' });
    }
    const name = this.#cookieName(providedState);
    const value = readCookies(req.headers?.cookie).get(name);
    if (value === undefined) return callback(null, false, { message: FAILURE });
    const sealed = this.#open(name, value);
    const res = responseOf(req);
    // Spent whatever happens next: the cookie is cleared with the path it was set with.
    if (res) append(res, this.#clear(name, sealed?.p ?? this.#path(req), this.#secure(req)));
    const now = Date.now();
    const matches = sealed !== undefined && timingSafeEqual(Buffer.from(sealed.s, 'base64url'), Buffer.from(sha256(providedState), 'base64url'));
    if (!sealed || !matches || !(now - sealed.t < this.#ttlMs && sealed.t <= now + 60_000)) {
      return callback(null, false, { message: FAILURE });
    }
    this.#claim(providedState).then(
      (claimed) =>
        claimed ? process.nextTick(callback, null, sealed.v ?? true, sealed.a) : process.nextTick(callback, null, false, { message: FAILURE }),
      (error: unknown) => process.nextTick(callback, error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** One-time: true for exactly one callback per state, in this process and (with stateClaims) across processes. */
  async #claim(state: string): Promise<boolean> {
    const key = stateClaimKey(this.#namespace, state);
    if (!this.#localClaims.claim(key, this.#ttlMs)) return false;
    return this.#stateClaims ? (await this.#stateClaims.claim(key, this.#ttlMs)) === true : true;
  }

  #cookieName(state: string): string {
    return `${this.#name}.${sha256(`passport-martech:state-cookie\0${state}`).slice(0, ID_CHARS)}`;
  }

  /** version | iv | ciphertext | tag, base64url; the cookie name and the namespace are authenticated too. */
  #seal(name: string, sealed: Sealed): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys[0], iv);
    cipher.setAAD(this.#aad(name));
    const body = Buffer.concat([cipher.update(JSON.stringify(sealed), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  #open(name: string, value: string): Sealed | undefined {
    if (!/^[A-Za-z0-9_-]{40,4096}$/.test(value)) return undefined;
    const bytes = Buffer.from(value, 'base64url');
    if (bytes.length < 1 + IV_BYTES + TAG_BYTES + 2 || bytes[0] !== VERSION) return undefined;
    const iv = bytes.subarray(1, 1 + IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const body = bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES);
    for (const key of this.#keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(this.#aad(name));
        decipher.setAuthTag(tag);
        const parsed = JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')) as Sealed;
        if (typeof parsed?.s === 'string' && typeof parsed.t === 'number' && typeof parsed.p === 'string') return parsed;
        return undefined;
      } catch {
        // Not this key (or tampered with): try the next.
      }
    }
    return undefined;
  }

  #aad(name: string): Buffer {
    return Buffer.from(`passport-martech:state-cookie:v${VERSION}\0${this.#namespace}\0${name}`);
  }

  /** This store's cookies the request carries, oldest first (unreadable ones count as expired). */
  #pending(req: Request, now: number): { name: string; path?: string; expired: boolean; t: number }[] {
    const found: { name: string; path?: string; expired: boolean; t: number }[] = [];
    for (const [name, value] of readCookies(req.headers?.cookie)) {
      if (!name.startsWith(`${this.#name}.`) || name.length !== this.#name.length + 1 + ID_CHARS) continue;
      const sealed = this.#open(name, value);
      const t = sealed?.t ?? 0;
      found.push({ name, path: sealed?.p, expired: !sealed || now - t >= this.#ttlMs, t });
    }
    return found.sort((a, b) => a.t - b.t);
  }

  /**
   * The cookie's path: the longest path (whole segments) shared by the request that starts the login
   * and the callback, e.g. `/auth/acme` for `/auth/acme` and `/auth/acme/callback`, so the
   * browser sends it to the login routes only and the start route sees the pending logins (the cap).
   */
  #path(req: Request): string {
    const callbackPath = new URL(this.#callbackURL, 'http://x').pathname;
    const requestPath = new URL(req.originalUrl ?? req.url ?? '/', 'http://x').pathname;
    const a = callbackPath.split('/');
    const b = requestPath.split('/');
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const common = a.slice(0, i).join('/');
    return common === '' ? '/' : common;
  }

  /** `Secure` when the callback is https (absolute), or the request came over https (relative callbackURL). */
  #secure(req: Request): boolean {
    if (/^https:/i.test(this.#callbackURL)) return true;
    if (/^http:/i.test(this.#callbackURL)) return false;
    return req.secure === true || req.protocol === 'https';
  }

  #clear(name: string, path: string, secure: boolean): string {
    return serialize(name, '', { path, maxAge: 0, secure });
  }

  #noResponse(): Error {
    return new Error(`${this.#owner}: the cookie state store needs the response as req.res (Express sets it); this request has none.`);
  }
}

function serialize(name: string, value: string, options: { path: string; maxAge: number; secure: boolean }): string {
  const parts = [`${name}=${value}`, `Path=${options.path}`, `Max-Age=${options.maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.maxAge === 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/** `Cookie` header pairs; the first of a repeated name wins (the most specific path, as browsers order them). */
export function readCookies(header: unknown): Map<string, string> {
  const cookies = new Map<string, string>();
  if (typeof header !== 'string') return cookies;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

function responseOf(req: Request): ResponseLike | undefined {
  const res = (req as Request & { res?: ResponseLike }).res;
  return res && typeof res === 'object' && (typeof res.append === 'function' || typeof res.setHeader === 'function') ? res : undefined;
}

function append(res: ResponseLike, cookie: string): void {
  if (typeof res.append === 'function') {
    res.append('Set-Cookie', cookie);
    return;
  }
  const existing = res.getHeader?.('Set-Cookie');
  const list = Array.isArray(existing) ? existing.map(String) : existing === undefined ? [] : [String(existing)];
  res.setHeader?.('Set-Cookie', [...list, cookie]);
}

function readKeys(owner: string, value: unknown): Buffer[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw optionError(owner, 'state.cookie.key', 'is required: a 32-byte key (Buffer, 64 hex or 44 base64 characters)');
  return list.map((key: unknown, i) => {
    const what = Array.isArray(value) ? `state.cookie.key[${i}]` : 'state.cookie.key';
    let bytes: Buffer;
    if (Buffer.isBuffer(key) || key instanceof Uint8Array) bytes = Buffer.from(key);
    else if (typeof key === 'string' && /^[0-9a-fA-F]{64}$/.test(key)) bytes = Buffer.from(key, 'hex');
    else if (typeof key === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(key)) bytes = Buffer.from(key, 'base64');
    else if (key === undefined || key === '') throw optionError(owner, what, 'is required: a 32-byte key (Buffer, 64 hex or 44 base64 characters)');
    else throw optionError(owner, what, `must be 32 bytes: a Buffer, 64 hex or 44 base64 characters (got ${typeof key === 'string' ? `a string of ${key.length} characters` : typeof key})`);
    if (bytes.length !== 32) throw optionError(owner, what, `must be 32 bytes (got ${bytes.length})`);
    // A key of its own for these cookies: the same secret may also serve refresh's encryptionKey.
    return Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), 'passport-martech oauth2 state cookie', 32));
  });
}
