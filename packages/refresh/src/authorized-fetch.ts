import type { TokenSet } from '@passport-martech/oauth2';
import type { FetchOptions, TokenRejectedCheck } from './manager-options';
import { unauthorizedStatus } from './rejection';

/** What TokenManager.fetch needs from its manager. */
export interface AuthorizedFetchHost {
  getAccessToken(userKey: string, provider: string): Promise<string>;
  refresh(userKey: string, provider: string, rejectedAccessToken: string): Promise<TokenSet>;
  /** The provider's rule from the TokenManager options, else the registered strategy's; undefined: HTTP 401. */
  rejectionCheck(provider: string): TokenRejectedCheck | undefined;
}

/**
 * `fetch` with a Bearer token that is refreshed once when the provider rejects it, and a short memory of
 * the tokens such refreshes produced (see TokenManagerOptions.rejectionCooldownMs).
 */
export class AuthorizedFetch {
  readonly #host: AuthorizedFetchHost;
  readonly #cooldownMs: number;
  /** The access token a refresh forced here produced, and when, by store key. */
  readonly #forced = new Map<string, { accessToken: string; at: number }>();

  constructor(host: AuthorizedFetchHost, cooldownMs: number) {
    this.#host = host;
    this.#cooldownMs = cooldownMs;
  }

  async send(key: string, userKey: string, provider: string, url: string | URL, init: RequestInit, options: FetchOptions): Promise<Response> {
    const rejected = options.isTokenRejected ?? this.#host.rejectionCheck(provider) ?? unauthorizedStatus;
    const token = await this.#host.getAccessToken(userKey, provider);
    const first = await fetch(url, withBearer(init, token));
    if (!(await rejected(first)) || !replayable(init.body)) return first;
    const forced = this.#forced.get(key);
    if (forced?.accessToken === token && Date.now() - forced.at < this.#cooldownMs) return first;
    await first.body?.cancel().catch(() => undefined);
    let fresh = await this.#host.refresh(userKey, provider, token);
    // A concurrent refresh may have handed back the very token just rejected: refresh once more.
    if (fresh.accessToken === token) fresh = await this.#host.refresh(userKey, provider, token);
    this.#forced.set(key, { accessToken: fresh.accessToken, at: Date.now() });
    return fetch(url, withBearer(init, fresh.accessToken));
  }

  /** The tokens of `key` were deleted: a later login's token owes nothing to this one's cooldown. */
  forget(key: string): void {
    this.#forced.delete(key);
  }
}

function withBearer(init: RequestInit, accessToken: string): RequestInit {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${accessToken}`);
  return { ...init, headers };
}

/** A body that can be sent twice: none, a string, or anything that is not a stream. */
function replayable(body: RequestInit['body']): boolean {
  return body === undefined || body === null || typeof body === 'string' || !(typeof (body as { getReader?: unknown }).getReader === 'function' || Symbol.asyncIterator in Object(body));
}
