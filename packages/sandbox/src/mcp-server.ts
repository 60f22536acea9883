/**
 * What an MCP authorization server adds to an OAuth dialect, for any flow whose table has an
 * `authorizationServer`: RFC 8414 metadata, RFC 9728 protected-resource metadata, RFC 7591 dynamic client
 * registration, RFC 7009 revocation and the RFC 9207 `iss` on the authorization response. Nothing here
 * names a provider.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { readJsonValue, readParams } from './body';
import { authenticateClient } from './client-auth';
import type { ResolvedClient } from './config';
import type { AuthorizationServerDialect, ClientAuthMethod, FlowDialect } from './dialect';
import { SandboxError } from './errors';
import { errorShapeFor, type ProviderRuntime } from './runtime';
import type { ProviderId } from './types';

/** What the authorize endpoint puts in `iss`: the issuer (default), a wrong issuer (mix-up tests), or none. */
export const ISS_MODES = ['issuer', 'wrong', 'omit'] as const;
export type IssMode = (typeof ISS_MODES)[number];

/** The `iss` a `wrong` sandbox sends: some other authorization server. */
export const WRONG_ISSUER = 'https://attacker.example/oauth';

/** Registered clients and the test controls of the MCP servers. Cleared by the sandbox's reset(). */
export class McpServerState {
  private readonly clients = new Map<ProviderId, Map<string, ResolvedClient>>();
  private readonly counts = new Map<ProviderId, number>();
  private mode: IssMode = 'issuer';

  register(provider: ProviderId, client: ResolvedClient): void {
    if (!this.clients.has(provider)) this.clients.set(provider, new Map());
    this.clients.get(provider)?.set(client.clientId, client);
    this.counts.set(provider, (this.counts.get(provider) ?? 0) + 1);
  }

  client(provider: ProviderId, clientId: string): ResolvedClient | undefined {
    return this.clients.get(provider)?.get(clientId);
  }

  /** Forgets the clients registered with one provider (or all): they become unknown, as after a server wipe. */
  forgetClients(provider?: ProviderId): number {
    let forgotten = 0;
    for (const [id, clients] of this.clients) {
      if (provider !== undefined && id !== provider) continue;
      forgotten += clients.size;
      clients.clear();
    }
    return forgotten;
  }

  /** Registrations accepted per provider since the last reset (forgotten clients included). */
  registrations(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  get issMode(): IssMode {
    return this.mode;
  }

  setIssMode(mode: unknown): IssMode {
    if (typeof mode !== 'string' || !(ISS_MODES as readonly string[]).includes(mode)) {
      throw new SandboxError(400, 'invalid_request', `iss must be one of ${ISS_MODES.join(', ')}`);
    }
    this.mode = mode as IssMode;
    return this.mode;
  }

  reset(): void {
    this.clients.clear();
    this.counts.clear();
    this.mode = 'issuer';
  }
}

/** The configured clients, then the ones registered at run time. */
export function clientsOf(rt: ProviderRuntime): Pick<Map<string, ResolvedClient>, 'get'> {
  return { get: (id: string) => rt.provider.clients.get(id) ?? rt.state.mcp.client(rt.provider.dialect.id, id) };
}

/** The provider's base URL as this request reached it: the issuer of its MCP authorization server. */
export function issuerOf(req: Request, providerBase: string): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${providerBase}`;
}

/** The `iss` to add to an authorization response of `flow` (RFC 9207), if the server sends one. */
export function issParam(rt: ProviderRuntime, flow: FlowDialect, req: Request): { iss?: string } {
  if (!flow.authorizationServer?.issParameter || rt.state.mcp.issMode === 'omit') return {};
  return { iss: rt.state.mcp.issMode === 'wrong' ? WRONG_ISSUER : issuerOf(req, req.baseUrl) };
}

/** RFC 8414 section 2. */
export function authorizationServerMetadata(flow: FlowDialect, as: AuthorizationServerDialect, issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}${flow.authorizePaths[0]}`,
    token_endpoint: `${issuer}${flow.tokenPaths[0]}`,
    registration_endpoint: `${issuer}${as.registrationPath}`,
    revocation_endpoint: `${issuer}${as.revocationPath}`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: flow.pkce.methods,
    token_endpoint_auth_methods_supported: flow.clientAuth,
    revocation_endpoint_auth_methods_supported: flow.clientAuth,
    scopes_supported: as.scopesSupported,
    ...(as.issParameter ? { authorization_response_iss_parameter_supported: true } : {}),
  };
}

/** RFC 9728 section 2. */
export function protectedResourceMetadata(as: AuthorizationServerDialect, issuer: string): Record<string, unknown> {
  return {
    resource: `${issuer}${as.resourcePath}`,
    authorization_servers: [issuer],
    scopes_supported: as.scopesSupported,
    bearer_methods_supported: ['header'],
  };
}

function registrationError(error: string, description: string): SandboxError {
  return new SandboxError(400, error, description);
}

function stringList(value: unknown, name: string, fallback?: string[]): string[] {
  if (value === undefined && fallback) return fallback;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw registrationError('invalid_client_metadata', `${name} must be a non-empty array of strings`);
  }
  return value as string[];
}

/** RFC 7591 section 2 metadata, checked: what this server can honour. */
function readRegistration(flow: FlowDialect, body: unknown) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw registrationError('invalid_client_metadata', 'the body must be a JSON object');
  }
  const meta = body as Record<string, unknown>;
  const redirectUris = stringList(meta.redirect_uris, 'redirect_uris');
  for (const uri of redirectUris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw registrationError('invalid_redirect_uri', 'each redirect URI must be an absolute URL');
    }
    if (url.hash || uri.includes('#')) throw registrationError('invalid_redirect_uri', 'a redirect URI must not have a fragment');
  }
  const grantTypes = stringList(meta.grant_types, 'grant_types', ['authorization_code']);
  const unsupported = grantTypes.find((g) => g !== 'authorization_code' && g !== 'refresh_token');
  if (unsupported) throw registrationError('invalid_client_metadata', `grant type "${unsupported.slice(0, 40)}" is not supported`);
  // RFC 7591 section 2: the default method is client_secret_basic.
  const method = meta.token_endpoint_auth_method ?? 'client_secret_basic';
  if (typeof method !== 'string' || !(flow.clientAuth as string[]).includes(method)) {
    throw registrationError('invalid_client_metadata', `token_endpoint_auth_method must be one of ${flow.clientAuth.join(', ')}`);
  }
  const name = typeof meta.client_name === 'string' && meta.client_name !== '' ? meta.client_name.slice(0, 100) : 'Unnamed MCP client';
  return { redirectUris, grantTypes, method: method as ClientAuthMethod, name };
}

/** RFC 7591 section 3: POST JSON metadata, 201 with the client's id (and secret unless it is public). */
export async function register(rt: ProviderRuntime, flow: FlowDialect, req: Request, res: Response): Promise<void> {
  res.locals.errorShape = flow.errorShape ?? errorShapeFor(rt, res);
  const registration = readRegistration(flow, await readJsonValue(req));
  const clientId = `mcp-client-${randomBytes(12).toString('base64url')}`;
  // A public client gets a secret nobody knows, so no secret-based authentication can succeed for it.
  const clientSecret = randomBytes(32).toString('base64url');
  rt.state.mcp.register(rt.provider.dialect.id, { clientId, clientSecret, name: registration.name, redirectUris: registration.redirectUris });
  res
    .status(201)
    .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
    .json({
      client_id: clientId,
      ...(registration.method === 'none' ? {} : { client_secret: clientSecret, client_secret_expires_at: 0 }),
      client_id_issued_at: Math.floor(Date.now() / 1000),
      client_name: registration.name,
      redirect_uris: registration.redirectUris,
      grant_types: registration.grantTypes,
      response_types: ['code'],
      token_endpoint_auth_method: registration.method,
    });
}

/**
 * RFC 7009: the client revokes one of its own tokens. A refresh token takes its whole grant with it (the
 * access tokens issued from it included); an unknown token is a 200 too (section 2.2).
 */
export async function revokeToken(rt: ProviderRuntime, flow: FlowDialect, req: Request, res: Response): Promise<void> {
  res.locals.errorShape = flow.errorShape ?? errorShapeFor(rt, res);
  const params = await readParams(req, 'form');
  const client = authenticateClient(req, params, flow.clientAuth, clientsOf(rt));
  const token = params.get('token');
  if (!token) throw new SandboxError(400, 'invalid_request', 'token is required');
  const id = rt.provider.dialect.id;
  const refresh = rt.state.findRefreshToken(id, token);
  const access = rt.state.findAccessToken(id, token);
  const owner = refresh?.clientId ?? access?.clientId;
  if (owner !== undefined && owner !== client.clientId) throw new SandboxError(400, 'invalid_request', 'the token was issued to another client');
  if (refresh) rt.state.refreshTokens.revokeFamily(refresh.family);
  else if (access) rt.state.expire({ provider: id, accessToken: token });
  res.status(200).set('Cache-Control', 'no-store').end();
}
