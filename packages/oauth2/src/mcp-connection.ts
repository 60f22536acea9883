/**
 * What an MCP strategy does before each leg of a login: read the server's metadata (discovery), get the
 * client (the configured one, or a registered one from the app's store), and point the strategy at
 * them; on the callback, check the RFC 9207 `iss` before anything else.
 */
import type { Request } from 'express';
import type { AuthenticateAttempt, StateVerifier } from './callback-leg';
import { AuthorizationServerMetadata, MetadataCache } from './mcp-discovery';
import { ClientStore, MemoryClientStore, RegisteredClient, forgetStoredClient, registerClient, registrationKey, storedOrRegistered } from './mcp-registration';
import type { McpSetup } from './mcp';
import { ErrorCode, OAuthRequestError } from './errors';
import type { InsecureHttpOption } from './options';
import type { ClientAuthentication } from './token-client';
import type { ProviderAgent } from './transport';

/** The client and endpoints a login uses. */
export interface McpClientConfig {
  authorizationURL: string;
  tokenURL: string;
  clientID: string;
  clientSecret: string;
  clientAuthentication: ClientAuthentication;
}

/** What the connection needs from its strategy. */
export interface McpHost {
  readonly name: string;
  /** Points token requests and the authorization redirect at this client and these endpoints. */
  useClient(config: McpClientConfig): void;
}

export interface McpConnectionSettings extends InsecureHttpOption {
  owner: string;
  setup: McpSetup;
  /** The endpoints and client of the definition and options (the built-in defaults and fallback). */
  fallback: McpClientConfig;
  /** Endpoints the app set explicitly: they win over the metadata's. */
  explicit: { authorizationURL?: string; tokenURL?: string };
  callbackURL: string;
  timeout: number;
  agent?: ProviderAgent;
  headers?: Record<string, string>;
}

/** What intercept() needs from one authenticate() call. */
export interface Gate {
  callbackLeg: boolean;
  iss: unknown;
  state: unknown;
  store: StateVerifier;
  meta: Record<string, unknown>;
  rerun(): void;
}

/** Requests whose MCP discovery and registration are done (the second run of authenticate()). */
const preparedRequests = new WeakSet<Request>();

export class McpConnection {
  readonly #host: McpHost;
  readonly #settings: McpConnectionSettings;
  readonly #cache: MetadataCache | undefined;
  readonly #store: ClientStore | undefined;
  /** Client ids the server answered `invalid_client` to: never used again by this process. */
  readonly #rejected = new Set<string>();
  /** The metadata each request was prepared with (for its `iss` check). */
  readonly #metadataByRequest = new WeakMap<Request, AuthorizationServerMetadata>();

  constructor(host: McpHost, settings: McpConnectionSettings) {
    this.#host = host;
    this.#settings = settings;
    const { setup } = settings;
    if (setup.metadataURL) {
      this.#cache = new MetadataCache(
        { issuer: setup.issuer, metadataURL: setup.metadataURL, owner: settings.owner, provider: host.name, timeout: settings.timeout, agent: settings.agent, headers: settings.headers, allowInsecureHttp: settings.allowInsecureHttp },
        setup.metadataTtlMs,
      );
    }
    if (setup.registration) this.#store = setup.registration.store ?? new MemoryClientStore();
  }

  /** True when a login needs preparing (discovery or registration is on). */
  get active(): boolean {
    return this.#cache !== undefined || this.#store !== undefined;
  }

  /** The `revocation_endpoint` of the server's metadata, when discovery is on and it names one. */
  async discoveredRevocationURL(): Promise<string | undefined> {
    return this.#cache ? (await this.#cache.get()).revocationURL : undefined;
  }

  /** Reads the metadata (cached) and the client, and points the strategy at them. */
  async prepare(req?: Request): Promise<void> {
    const metadata = this.#cache ? await this.#cache.get() : undefined;
    if (metadata && req) this.#metadataByRequest.set(req, metadata);
    const { fallback, explicit } = this.#settings;
    const endpoints = {
      authorizationURL: explicit.authorizationURL ?? metadata?.authorizationURL ?? fallback.authorizationURL,
      tokenURL: explicit.tokenURL ?? metadata?.tokenURL ?? fallback.tokenURL,
    };
    if (!this.#store) return this.#host.useClient({ ...fallback, ...endpoints });
    const client = await this.registeredClient(metadata as AuthorizationServerMetadata);
    this.#host.useClient({
      ...endpoints,
      clientID: client.clientID,
      clientSecret: client.clientSecret ?? '',
      clientAuthentication: client.tokenEndpointAuthMethod,
    });
  }

  private registeredClient(metadata: AuthorizationServerMetadata): Promise<RegisteredClient> {
    const { owner, setup, callbackURL, timeout, agent } = this.#settings;
    const registration = setup.registration ?? {};
    const method = registration.tokenEndpointAuthMethod ?? 'none';
    const key = registration.key ?? registrationKey(this.#host.name, metadata.issuer, callbackURL, method);
    return storedOrRegistered(this.#store as ClientStore, key, this.#rejected, () => {
      if (!metadata.registrationURL) {
        throw new OAuthRequestError({
          code: ErrorCode.REGISTRATION_FAILED,
          provider: this.#host.name,
          message: `${owner}: the authorization server's metadata names no registration_endpoint; set clientID (and clientSecret) instead`,
        });
      }
      const clientName = registration.clientName ?? 'passport-martech';
      return registerClient({ registrationURL: metadata.registrationURL, issuer: metadata.issuer, redirectURI: callbackURL, clientName, method, provider: this.#host.name, owner, timeout, agent });
    });
  }

  /**
   * The token endpoint answered `invalid_client` for `clientID`: the server forgot the registration (or
   * revoked it). It is dropped from the store, and the next login registers a new client.
   */
  clientRejected(clientID: string): void {
    const registration = this.#settings.setup.registration;
    if (!this.#store || !registration) return;
    this.#rejected.add(clientID);
    const method = registration.tokenEndpointAuthMethod ?? 'none';
    const issuer = this.#cache?.peek()?.issuer;
    if (!issuer && !registration.key) return;
    const key = registration.key ?? registrationKey(this.#host.name, issuer as string, this.#settings.callbackURL, method);
    // Best effort: this process already ignores the client; a store error leaves other instances to find out.
    void Promise.resolve()
      .then(() => forgetStoredClient(this.#store as ClientStore, key, clientID))
      .catch(() => undefined);
  }

  /**
   * Runs before authenticate() goes on. The first run of a request prepares it (discovery, registration)
   * and calls `rerun`; the second checks a callback's `iss`. True when this call was handled here.
   */
  intercept(req: Request, attempt: AuthenticateAttempt, gate: Gate): boolean {
    if (!preparedRequests.delete(req)) {
      this.prepare(req).then(
        () => {
          preparedRequests.add(req);
          gate.rerun();
        },
        (error: unknown) => attempt.error(error),
      );
      return true;
    }
    const problem = gate.callbackLeg ? this.issProblem(req, gate.iss) : undefined;
    if (problem) failIssCheck(attempt, req, gate.state, gate.store, gate.meta, problem);
    return problem !== undefined;
  }

  /**
   * RFC 9207 section 2.4: a callback whose `iss` is not the issuer of the metadata it was prepared with,
   * or that lacks `iss` from a server that announces it, is not for this server (a mix-up attack). Returns
   * the failure message, or undefined when the response may go on.
   */
  issProblem(req: Request, iss: unknown): string | undefined {
    const metadata = this.#metadataByRequest.get(req);
    if (!metadata) return undefined;
    if (iss === undefined) {
      return metadata.issParameterSupported ? 'The authorization response carries no iss, which this authorization server always sends (RFC 9207).' : undefined;
    }
    if (iss !== metadata.issuer) return 'The authorization response names another authorization server (iss mismatch, RFC 9207): refused.';
    return undefined;
  }
}

/**
 * Ends a login whose callback failed the `iss` check as a state failure (403, `failureRedirect`): the
 * pending login it names is consumed first, so its code can never be redeemed.
 */
export function failIssCheck(attempt: AuthenticateAttempt, req: Request, state: unknown, store: StateVerifier, meta: Record<string, unknown>, message: string): void {
  const done = (err: unknown) => (err ? attempt.error(err) : attempt.fail({ message }, 403));
  try {
    if (store.verify.length === 4) store.verify(req, state, meta, done);
    else store.verify(req, state, done);
  } catch (err) {
    attempt.error(err);
  }
}
