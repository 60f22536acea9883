/**
 * Reading environment variables: trimmed values, checked numbers, URLs and choices, with every problem
 * collected (not thrown) so that one ConfigError lists them all. Values shown in a problem are masked.
 */
import { encryptionKeyId } from '@passport-martech/refresh';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  /** The value, or undefined when unset or blank. */
  get(name: string): string | undefined {
    const value = this.env[name];
    if (value === undefined) return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  problem(name: string, message: string, value?: string): void {
    const masked = value === undefined ? undefined : maskUserinfo(value);
    const shown = masked === undefined ? '' : ` (got ${JSON.stringify(masked.length > 60 ? `${masked.slice(0, 60)}...` : masked)})`;
    this.problems.push(`${name} ${message}${shown}`);
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problem(name, `must be an integer from ${min} to ${max}`, value);
      return fallback;
    }
    return n;
  }

  url(name: string, options: { protocols?: string[]; originOnly?: boolean } = {}): string | undefined {
    const value = this.get(name);
    if (value === undefined) return undefined;
    const protocols = options.protocols ?? ['http:', 'https:'];
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      this.problem(name, `must be an absolute URL (${protocols.map((p) => `${p}//`).join(' or ')}...)`, value);
      return undefined;
    }
    if (!protocols.includes(url.protocol)) {
      this.problem(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`, value);
      return undefined;
    }
    if (options.originOnly && (url.pathname !== '/' || url.search || url.hash || url.username || url.password)) {
      this.problem(name, 'must be an origin only, like https://app.example.com (no path, query or credentials)', value);
      return undefined;
    }
    return options.originOnly ? url.origin : value.replace(/\/+$/, '');
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.get(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problem(name, `must be one of ${allowed.join(', ')}`, value);
      return fallback;
    }
    return value as T;
  }

  /** Free text that must match `pattern`; the problem says it "must be <mustBe>". */
  matching(name: string, pattern: RegExp, mustBe: string): string | undefined {
    const value = this.get(name);
    if (value === undefined || pattern.test(value)) return value;
    this.problem(name, `must be ${mustBe}`, value);
    return undefined;
  }
}

/**
 * A value as it may be shown in an error message: the userinfo of anything URL-like (`scheme://user:pass@`,
 * also a malformed `http//:pass@host`) replaced by `***`, so that a config error never prints a password.
 */
export function maskUserinfo(value: string): string {
  return value.replace(/(\/\/|^)\S*@/g, '$1***@');
}

/** The refresh package's own key check (hex or base64, 32 bytes), so the two cannot disagree. */
export function isEncryptionKey(value: string): boolean {
  try {
    encryptionKeyId(value);
    return true;
  } catch {
    return false;
  }
}

/** Scopes, space- or comma-separated; undefined when none. */
export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const scopes = value.split(/[\s,]+/).filter(Boolean);
  return scopes.length ? scopes : undefined;
}
