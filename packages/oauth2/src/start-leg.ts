import type { Request } from 'express';
import { stringify } from 'node:querystring';
import { format, parse } from 'node:url';
import { sha256 } from './state-claims';
import { randomToken } from './state-store';

/** The per-request strategy object passport makes, with the passport-oauth2 internals the start leg reads. */
export interface StartAttempt {
  _oauth2: { _authorizeUrl: string; _accessTokenUrl: string; _clientId: string };
  _scope?: string | string[];
  _scopeSeparator: string;
  _stateStore: { store: (...args: never[]) => void };
  /** The strategy's hook for the provider's extra authorization parameters. */
  authorizationParams(options: object): object;
  redirect(url: string, status?: number): void;
  error(err: unknown): void;
}

/** What a strategy fixes at construction for the start leg (see startLeg()). */
export interface StartLegSettings {
  /** The absolute callback URL (a relative one is resolved per request by passport-oauth2). */
  callbackURL: string;
  pkce: 'S256' | 'plain' | false;
}

/** Bytes of a PKCE code verifier: 43 base64url characters, as passport-oauth2's. */
const VERIFIER_BYTES = 32;

/**
 * The first leg of a login (the redirect to the authorization endpoint), as passport-oauth2's
 * `authenticate()` does it, parameter for parameter and in the same order, without its per-request
 * work: the callback URL is not parsed again, the authorization URL is parsed and formatted once per
 * strategy instead of once per login, and the PKCE verifier comes from the pooled CSPRNG bytes and is
 * hashed in one call. Returns false (nothing done) when passport-oauth2 must do it instead: a
 * per-request `callbackURL`, or an authorization URL with its own query or fragment.
 */
export function startLeg(attempt: StartAttempt, req: Request, options: Record<string, unknown>, settings: StartLegSettings): boolean {
  if (options.callbackURL) return false;
  const oauth2 = attempt._oauth2;
  const base = authorizationBase(oauth2._authorizeUrl);
  if (base === undefined) return false;
  const { callbackURL, pkce } = settings;
  const meta = { authorizationURL: oauth2._authorizeUrl, tokenURL: oauth2._accessTokenUrl, clientID: oauth2._clientId, callbackURL };
  const params = attempt.authorizationParams(options) as Record<string, unknown>;
  params.response_type = 'code';
  params.redirect_uri = callbackURL;
  let scope = options.scope || attempt._scope;
  if (scope) {
    if (Array.isArray(scope)) scope = scope.join(attempt._scopeSeparator);
    params.scope = scope;
  }
  let verifier: string | undefined;
  if (pkce) {
    verifier = randomToken(VERIFIER_BYTES);
    params.code_challenge = pkce === 'S256' ? sha256(verifier) : verifier;
    params.code_challenge_method = pkce;
  }
  const stored = (err: unknown, state?: string) => {
    if (err) return attempt.error(err);
    if (state) params.state = state;
    params.client_id = oauth2._clientId;
    attempt.redirect(`${base}?${stringify(params as Record<string, string>)}`);
  };
  const state = options.state;
  const store = attempt._stateStore as unknown as { store: (...args: unknown[]) => void };
  try {
    // passport-oauth2 picks the store's signature by its arity.
    switch (store.store.length) {
      case 5:
        store.store(req, verifier, state, meta, stored);
        break;
      case 4:
        store.store(req, state, meta, stored);
        break;
      case 3:
        store.store(req, meta, stored);
        break;
      default:
        store.store(req, stored);
    }
  } catch (error) {
    attempt.error(error);
  }
  return true;
}

/** The authorization URL as passport-oauth2 formats it, by URL; undefined when it has a query or a fragment. */
const bases = new Map<string, string | undefined>();

function authorizationBase(authorizeUrl: string): string | undefined {
  if (bases.has(authorizeUrl)) return bases.get(authorizeUrl);
  const parsed = parse(authorizeUrl, true);
  const plain = !parsed.search && !parsed.hash;
  const base = plain ? format(parsed) : undefined;
  if (bases.size >= 64) bases.clear();
  bases.set(authorizeUrl, base);
  return base;
}
