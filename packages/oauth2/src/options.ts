/** Construction-time checks shared by every strategy: each failure is a TypeError naming the option. */

/** The `timeout` option's default, for every request to a provider (ms). */
export const DEFAULT_TIMEOUT_MS = 10_000;

export function optionError(owner: string, option: string, problem: string): TypeError {
  return new TypeError(`${owner}: option "${option}" ${problem}`);
}

export function requireString(owner: string, options: object, option: string): string {
  const value = (options as Record<string, unknown>)[option];
  if (typeof value !== 'string' || value.trim() === '') throw optionError(owner, option, 'is required (a non-empty string)');
  return value;
}

export function optionalString(owner: string, options: object, option: string): string | undefined {
  const value = (options as Record<string, unknown>)[option];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw optionError(owner, option, 'must be a non-empty string');
  return value;
}

/** An absolute http(s) URL, returned unchanged. */
export function checkURL(owner: string, option: string, value: unknown): string {
  if (typeof value !== 'string') throw optionError(owner, option, 'must be an absolute http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw optionError(owner, option, `must be an absolute http(s) URL (got ${JSON.stringify(value.slice(0, 80))})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw optionError(owner, option, 'must be an http(s) URL');
  return value;
}

/** The opt-in that lets a strategy talk plain `http:` to a host other than this machine. */
export interface InsecureHttpOption {
  /**
   * `true` accepts `http:` endpoints on any host. Off by default: the client secret, the authorization
   * code and the tokens would cross the network in clear text. Loopback hosts never need it.
   */
  allowInsecureHttp?: boolean;
}

/**
 * An endpoint a secret, code or token is sent to (or a browser is sent to with a login's state): an
 * absolute URL that must be `https:`, except on a loopback host (the sandbox, local tests) or with
 * `allowInsecureHttp: true`. The error names the option and the host only, never the path or query
 * (which may carry credentials).
 */
export function checkEndpointURL(owner: string, option: string, value: unknown, settings: InsecureHttpOption = {}): string {
  const checked = checkURL(owner, option, value);
  const url = new URL(checked);
  if (url.protocol === 'https:' || isLoopbackHost(url.hostname)) return checked;
  if (settings.allowInsecureHttp === true) return checked;
  throw optionError(
    owner,
    option,
    `must be an https: URL (got http: for host ${url.host}); plain http is accepted only for loopback hosts (localhost, 127.0.0.0/8, ::1) or with the option allowInsecureHttp: true`,
  );
}

/** `localhost`, `127.0.0.0/8` and `::1`, as WHATWG URL normalises them (`127.1` is `127.0.0.1`). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function checkOneOf<T extends string>(owner: string, option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw optionError(owner, option, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

/**
 * Appends a path to a base URL, keeping the base's own path: `http://h:1/tenant` + `/oauth/token`
 * gives `http://h:1/tenant/oauth/token` (new URL(path, base) would drop `/tenant`).
 */
export function joinURL(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return url.toString();
}

/** `scope` as given (array, or a string split on spaces or commas), with `required` scopes added. */
export function normalizeScope(owner: string, value: unknown, required: readonly string[] = []): string[] | undefined {
  let scopes: string[];
  if (value === undefined || value === null) scopes = [];
  else if (typeof value === 'string') scopes = value.split(/[\s,]+/).filter(Boolean);
  else if (Array.isArray(value) && value.every((s) => typeof s === 'string')) scopes = value.filter(Boolean);
  else throw optionError(owner, 'scope', 'must be a string or an array of strings');
  const all = [...required.filter((scope) => !scopes.includes(scope)), ...scopes];
  return all.length > 0 ? all : undefined;
}
