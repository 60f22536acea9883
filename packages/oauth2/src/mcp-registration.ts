/**
 * RFC 7591 dynamic client registration: when an MCP strategy has no `clientID`, it registers once and
 * keeps the client in a store the app provides, so every instance of the app uses the same client. A
 * client the server no longer knows (`invalid_client`) is dropped and the next login registers again.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, OAuthRequestError, isOAuthError, isRecord } from './errors';
import { readJsonObject, requestProvider } from './http';
import type { ProviderAgent } from './transport';

/**
 * Where registered clients are kept: any key-value store shared by the app's instances (Redis, a
 * database table). Values are JSON strings. `setIfAbsent` (Redis `SET key value NX`), when present, makes
 * two instances that register at the same moment agree on one client.
 */
export interface ClientStore {
  get(key: string): Promise<string | null | undefined> | string | null | undefined;
  set(key: string, value: string): unknown;
  setIfAbsent?(key: string, value: string): Promise<boolean> | boolean;
  delete?(key: string): unknown;
}

/** A process-local ClientStore: fine for one instance; several instances need a shared one. */
export class MemoryClientStore implements ClientStore {
  readonly #values = new Map<string, string>();
  get(key: string): string | undefined {
    return this.#values.get(key);
  }
  set(key: string, value: string): void {
    this.#values.set(key, value);
  }
  setIfAbsent(key: string, value: string): boolean {
    if (this.#values.has(key)) return false;
    this.#values.set(key, value);
    return true;
  }
  delete(key: string): void {
    this.#values.delete(key);
  }
}

/** The registered client as kept in the store. The secret is there only for confidential clients. */
export interface RegisteredClient {
  clientID: string;
  clientSecret?: string;
  tokenEndpointAuthMethod: RegistrationAuthMethod;
  issuer: string;
  redirectURI: string;
  registeredAt: number;
}

/** `none` (default): a public client protected by PKCE, nothing secret in the store. */
export type RegistrationAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

/** The `registration` option. */
export interface RegistrationOptions {
  /** Default: a MemoryClientStore (one per strategy), right for a single instance only. */
  store?: ClientStore;
  /** Shown on the consent page. Default `passport-martech`. */
  clientName?: string;
  tokenEndpointAuthMethod?: RegistrationAuthMethod;
  /** The store key. Default `passport-martech:mcp-client:<strategy>:<hash of issuer, redirect URI, method>`. */
  key?: string;
}

export interface RegistrationRequest {
  registrationURL: string;
  issuer: string;
  redirectURI: string;
  clientName: string;
  method: RegistrationAuthMethod;
  provider: string;
  owner: string;
  timeout: number;
  agent?: ProviderAgent;
}

function registrationError(request: RegistrationRequest, reason: string, cause?: unknown): OAuthRequestError {
  return new OAuthRequestError({
    code: ErrorCode.REGISTRATION_FAILED,
    provider: request.provider,
    status: isOAuthError(cause) ? cause.status : undefined,
    message: `${request.owner}: dynamic client registration at ${new URL(request.registrationURL).host} failed: ${reason}`,
    cause,
  });
}

/** POSTs RFC 7591 client metadata; the answer's client_id (and client_secret for a confidential client). */
export async function registerClient(request: RegistrationRequest): Promise<RegisteredClient> {
  const body = JSON.stringify({
    client_name: request.clientName,
    redirect_uris: [request.redirectURI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: request.method,
  });
  let json: Record<string, unknown>;
  try {
    const read = { label: 'Registration request', provider: request.provider, secrets: [], kind: 'registration' };
    const headers = { 'Content-Type': 'application/json' };
    const registration = { url: request.registrationURL, method: 'POST' as const, headers, body, timeout: request.timeout, agent: request.agent, ...read };
    json = await requestProvider(registration, (response) => readJsonObject(response, read));
  } catch (error) {
    throw registrationError(request, isOAuthError(error) ? error.message : 'request failed', error);
  }
  if (typeof json.client_id !== 'string' || json.client_id === '') throw registrationError(request, 'the answer has no client_id');
  const secret = typeof json.client_secret === 'string' && json.client_secret !== '' ? json.client_secret : undefined;
  if (request.method !== 'none' && !secret) throw registrationError(request, 'the answer has no client_secret for a confidential client');
  return {
    clientID: json.client_id,
    clientSecret: request.method === 'none' ? undefined : secret,
    tokenEndpointAuthMethod: request.method,
    issuer: request.issuer,
    redirectURI: request.redirectURI,
    registeredAt: Date.now(),
  };
}

export function registrationKey(strategy: string, issuer: string, redirectURI: string, method: string): string {
  const hash = createHash('sha256').update(`${issuer}\n${redirectURI}\n${method}`).digest('hex').slice(0, 32);
  return `passport-martech:mcp-client:${strategy}:${hash}`;
}

function parseStored(value: unknown): RegisteredClient | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isRecord(parsed) && typeof parsed.clientID === 'string' ? (parsed as unknown as RegisteredClient) : undefined;
  } catch {
    return undefined;
  }
}

/** Registrations in flight in this process, per store and key: concurrent logins share one. */
const inFlight = new WeakMap<ClientStore, Map<string, Promise<RegisteredClient>>>();

/**
 * The client a strategy logs in with: the stored one unless this process saw the server reject it, else
 * a new registration, kept in the store. `rejected` holds client ids the server answered `invalid_client` to.
 */
export async function storedOrRegistered(
  store: ClientStore,
  key: string,
  rejected: ReadonlySet<string>,
  register: () => Promise<RegisteredClient>,
): Promise<RegisteredClient> {
  const stored = parseStored(await store.get(key));
  if (stored && !rejected.has(stored.clientID)) return stored;
  if (!inFlight.has(store)) inFlight.set(store, new Map());
  const pending = inFlight.get(store) as Map<string, Promise<RegisteredClient>>;
  let registration = pending.get(key);
  if (!registration) {
    registration = (async () => {
      const client = await register();
      const value = JSON.stringify(client);
      if (store.setIfAbsent && !stored) {
        // Another instance may have registered meanwhile: its client wins, ours is never used.
        if (!(await store.setIfAbsent(key, value))) return parseStored(await store.get(key)) ?? client;
      } else {
        await store.set(key, value);
      }
      return client;
    })().finally(() => pending.delete(key));
    pending.set(key, registration);
  }
  return registration;
}

/** Drops a client the server rejected from the store, unless another instance already replaced it. */
export async function forgetStoredClient(store: ClientStore, key: string, clientID: string): Promise<void> {
  const stored = parseStored(await store.get(key));
  if (stored?.clientID !== clientID) return;
  if (store.delete) await store.delete(key);
}
