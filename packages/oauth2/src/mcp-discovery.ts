/**
 * RFC 8414 authorization server metadata: where an MCP authorization server says its endpoints are. Read
 * once per strategy and cached; a failure is an OAuthRequestError with code OAUTH_DISCOVERY_FAILED (its
 * `cause` the transport's typed error: OAUTH_TIMEOUT, OAUTH_NETWORK, ...), never cached.
 */
import { ErrorCode, OAuthRequestError, isOAuthError } from './errors';
import { readJsonObject, requestProvider } from './http';
import { InsecureHttpOption, checkEndpointURL } from './options';
import type { ProviderAgent } from './transport';

/** Default lifetime of a metadata document in the cache: one hour. */
export const METADATA_TTL_MS = 60 * 60 * 1000;

/** The fields of RFC 8414 metadata a login uses, checked. */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorizationURL: string;
  tokenURL: string;
  registrationURL?: string;
  revocationURL?: string;
  /** RFC 9207: the server puts `iss` on every authorization response. */
  issParameterSupported: boolean;
  tokenEndpointAuthMethods?: string[];
  scopesSupported?: string[];
  /** The document as received. */
  raw: Record<string, unknown>;
}

/**
 * RFC 8414 section 3.1: `/.well-known/oauth-authorization-server` inserted between the issuer's host and
 * its path (`https://as.example/tenant` -> `https://as.example/.well-known/oauth-authorization-server/tenant`).
 */
export function metadataURLFor(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = `/.well-known/oauth-authorization-server${path}`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

export interface DiscoveryOptions extends InsecureHttpOption {
  /** The issuer the document must name (RFC 8414 section 3.3); undefined when the app gave a metadata URL. */
  issuer?: string;
  metadataURL: string;
  owner: string;
  provider: string;
  timeout: number;
  agent?: ProviderAgent;
  headers?: Record<string, string>;
}

function discoveryError(options: DiscoveryOptions, reason: string, cause?: unknown): OAuthRequestError {
  return new OAuthRequestError({
    code: ErrorCode.DISCOVERY_FAILED,
    provider: options.provider,
    status: isOAuthError(cause) ? cause.status : undefined,
    message: `${options.owner}: cannot read the authorization server metadata at ${new URL(options.metadataURL).host}: ${reason}`,
    cause,
  });
}

function optionalStrings(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/** Fetches and checks the document: a typed OAUTH_DISCOVERY_FAILED error for anything unusable. */
export async function fetchAuthorizationServerMetadata(options: DiscoveryOptions): Promise<AuthorizationServerMetadata> {
  let json: Record<string, unknown>;
  try {
    const read = { label: 'Metadata request', provider: options.provider, secrets: [], kind: 'discovery' };
    const request = { url: options.metadataURL, method: 'GET' as const, headers: options.headers, timeout: options.timeout, agent: options.agent, ...read };
    json = await requestProvider(request, (response) => readJsonObject(response, read));
  } catch (error) {
    throw discoveryError(options, isOAuthError(error) ? error.message : 'request failed', error);
  }
  const endpoint = (field: string, required: boolean): string | undefined => {
    const value = json[field];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string') throw discoveryError(options, `"${field}" is ${value === undefined ? 'missing' : 'not a string'}`);
    try {
      // https only (loopback and allowInsecureHttp aside): the document decides where codes and secrets go.
      return checkEndpointURL(options.owner, field, value, options);
    } catch (error) {
      throw discoveryError(options, (error as Error).message, error);
    }
  };
  const issuer = endpoint('issuer', true) as string;
  if (options.issuer !== undefined && issuer !== options.issuer) {
    // RFC 8414 section 3.3: a document naming another issuer must not be used (it may be an impostor's).
    throw discoveryError(options, `its issuer ${JSON.stringify(issuer.slice(0, 100))} is not the expected ${JSON.stringify(options.issuer)}`);
  }
  const challengeMethods = optionalStrings(json.code_challenge_methods_supported);
  if (challengeMethods && !challengeMethods.includes('S256')) {
    throw discoveryError(options, 'the server does not support PKCE S256 (code_challenge_methods_supported)');
  }
  return {
    issuer,
    authorizationURL: endpoint('authorization_endpoint', true) as string,
    tokenURL: endpoint('token_endpoint', true) as string,
    registrationURL: endpoint('registration_endpoint', false),
    revocationURL: endpoint('revocation_endpoint', false),
    issParameterSupported: json.authorization_response_iss_parameter_supported === true,
    tokenEndpointAuthMethods: optionalStrings(json.token_endpoint_auth_methods_supported),
    scopesSupported: optionalStrings(json.scopes_supported),
    raw: json,
  };
}

/** One cached document: concurrent readers share one request; a failure is not kept. */
export class MetadataCache {
  #value: { metadata: AuthorizationServerMetadata; expiresAt: number } | undefined;
  #pending: Promise<AuthorizationServerMetadata> | undefined;

  constructor(
    private readonly options: DiscoveryOptions,
    private readonly ttlMs: number = METADATA_TTL_MS,
  ) {}

  /** The cached document, fetched when absent or older than the TTL. */
  get(): Promise<AuthorizationServerMetadata> {
    if (this.#value && this.#value.expiresAt > Date.now()) return Promise.resolve(this.#value.metadata);
    this.#pending ??= fetchAuthorizationServerMetadata(this.options).then(
      (metadata) => {
        this.#value = { metadata, expiresAt: Date.now() + this.ttlMs };
        this.#pending = undefined;
        return metadata;
      },
      (error: unknown) => {
        this.#pending = undefined;
        throw error;
      },
    );
    return this.#pending;
  }

  /** The document now in the cache, if any (for the synchronous `iss` check). */
  peek(): AuthorizationServerMetadata | undefined {
    return this.#value?.metadata;
  }
}

