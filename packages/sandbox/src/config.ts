/** Options checked once and resolved per provider, so handlers never deal with defaults. */
import type { ProviderDialect } from './dialect';
import { PROVIDERS } from './providers';
import { SandboxError } from './errors';
import { validateRefreshTokenReuse } from './refresh-tokens';
import type { PerProvider, ProviderId, RefreshTokenReuse, SandboxClient, SandboxOptions, SandboxUser } from './types';
import { PROVIDER_IDS } from './types';

export interface ResolvedClient {
  clientId: string;
  clientSecret: string;
  name: string;
  /** undefined: any loopback http URI. */
  redirectUris?: string[];
}

export interface ProviderConfig {
  dialect: ProviderDialect;
  clients: Map<string, ResolvedClient>;
  accessTokenTtlSeconds: number;
  user: SandboxUser;
}

export interface Config {
  providers: Record<ProviderId, ProviderConfig>;
  rotateRefreshTokens: boolean;
  /** The configured reuse policy (the state holds the current one: it can change at run time). */
  refreshTokenReuse: RefreshTokenReuse;
  autoApprove: boolean;
  latencyMs: number;
}

export const DEFAULT_CLIENT_NAME = 'passport-martech demo';

export function defaultClient(id: ProviderId): ResolvedClient {
  return { clientId: `demo-${id}-client`, clientSecret: `demo-${id}-secret`, name: DEFAULT_CLIENT_NAME };
}

function fail(message: string): never {
  throw new TypeError(`@passport-martech/sandbox: ${message}`);
}

function checkRedirectUri(uri: string, where: string): void {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    fail(`${where}: redirect URI is not an absolute URL`);
  }
  // RFC 6749 section 3.1.2: the redirection endpoint URI MUST NOT include a fragment.
  if (url.hash || uri.includes('#')) fail(`${where}: redirect URI must not have a fragment`);
}

function resolveClients(id: ProviderId, given: SandboxClient[] | undefined): Map<string, ResolvedClient> {
  const list = given ? given.map((c) => ({ ...c, name: c.name ?? DEFAULT_CLIENT_NAME })) : [defaultClient(id)];
  const clients = new Map<string, ResolvedClient>();
  for (const c of list) {
    const where = `clients.${id}`;
    if (typeof c.clientId !== 'string' || c.clientId === '') fail(`${where}: clientId must be a non-empty string`);
    if (typeof c.clientSecret !== 'string' || c.clientSecret === '') {
      fail(`${where}: clientSecret must be a non-empty string`);
    }
    if (clients.has(c.clientId)) fail(`${where}: clientId "${c.clientId}" is registered twice`);
    c.redirectUris?.forEach((u) => checkRedirectUri(u, where));
    clients.set(c.clientId, c);
  }
  return clients;
}

function resolveTtl(id: ProviderId, dialect: ProviderDialect, ttl: SandboxOptions['accessTokenTtlSeconds']): number {
  const value = typeof ttl === 'number' ? ttl : (ttl?.[id] ?? dialect.defaultAccessTokenTtlSeconds);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`accessTokenTtlSeconds for ${id} must be a positive number`);
  }
  return value;
}

function resolveUser(dialect: ProviderDialect, given: Partial<SandboxUser> | undefined): SandboxUser {
  const user = { ...dialect.defaultUser, ...given };
  for (const field of dialect.numericUserFields ?? []) {
    // These become JSON numbers in the provider's responses (HubSpot hub_id/user_id, Ontraport account_id).
    if (!Number.isSafeInteger(Number(user[field]))) fail(`users.${dialect.id}.${field} must be an integer`);
  }
  return user;
}

function checkKeys(name: string, map: PerProvider<unknown> | undefined): void {
  if (map === undefined) return;
  const unknown = Object.keys(map).find((k) => !(PROVIDER_IDS as readonly string[]).includes(k));
  if (unknown) fail(`${name}: unknown provider "${unknown}" (expected one of ${PROVIDER_IDS.join(', ')})`);
}

function resolveReuse(given: unknown): RefreshTokenReuse {
  if (given === undefined) return 'revoke';
  try {
    return validateRefreshTokenReuse(given);
  } catch (e) {
    return fail(e instanceof SandboxError ? e.description : String(e));
  }
}

export function resolveConfig(options: SandboxOptions = {}): Config {
  checkKeys('clients', options.clients);
  checkKeys('users', options.users);
  if (typeof options.accessTokenTtlSeconds === 'object') checkKeys('accessTokenTtlSeconds', options.accessTokenTtlSeconds);
  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isFinite(latencyMs) || latencyMs < 0) fail('latencyMs must be a non-negative number');
  const providers = Object.fromEntries(
    PROVIDER_IDS.map((id) => {
      const dialect = PROVIDERS[id];
      const config: ProviderConfig = {
        dialect,
        clients: resolveClients(id, options.clients?.[id]),
        accessTokenTtlSeconds: resolveTtl(id, dialect, options.accessTokenTtlSeconds),
        user: resolveUser(dialect, options.users?.[id]),
      };
      return [id, config];
    }),
  ) as Record<ProviderId, ProviderConfig>;
  return {
    providers,
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    refreshTokenReuse: resolveReuse(options.refreshTokenReuse),
    autoApprove: options.autoApprove ?? false,
    latencyMs,
  };
}
