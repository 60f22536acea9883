import { randomFillSync } from 'node:crypto';
import type { Request } from 'express';
import {
  AWAIT_LOGIN,
  InFlightLogins,
  LoginOutcome,
  MemoryStateClaims,
  StateClaimStore,
  processInFlightLogins,
  processStateClaims,
  settleByRequest,
  sha256,
  stateClaimKey,
} from './state-claims';

export interface SessionStateStoreOptions {
  /** The session property holding this strategy's pending logins. */
  key: string;
  /** How long a login may take between redirect and callback; default 10 minutes. */
  ttlMs?: number;
  /** Pending logins kept per session (the oldest go first); default 10. */
  maxPending?: number;
  /** Package name for error messages. */
  owner?: string;
  /**
   * A store shared by several processes that records used states atomically (Redis `SET NX PX`). The
   * process's own record is always consulted first; this one makes consumption atomic across processes.
   */
  stateClaims?: StateClaimStore;
  /** The process's own claim record; tests may pass their own. Default: one per process. */
  localClaims?: MemoryStateClaims;
  /** In-process logins that duplicates may wait for. Default: one per process. */
  inFlight?: InFlightLogins;
}

interface PendingLogin {
  /** SHA-256 of the state value: the state itself is never kept, and comparing digests leaks nothing. */
  digest: string;
  createdAt: number;
  verifier?: string;
  appState?: unknown;
}

interface SessionLike {
  [key: string]: unknown;
  save?: (callback: (err?: unknown) => void) => void;
  regenerate?: (callback: (err?: unknown) => void) => void;
}

type StoreCallback = (err: Error | null, state?: string) => void;
type VerifyCallback = (err: Error | null, ok?: string | boolean, info?: unknown) => void;

export const STATE_TTL_MS = 10 * 60 * 1000;

/** A per-request `state: 'string'` option, carried as app state (see ProviderStrategy.authenticate). */
export class AppState {
  constructor(readonly value: string) {}
}
export const MAX_PENDING_LOGINS = 10;

/**
 * passport-oauth2 state store that allows several logins at once from one session (two tabs), unlike
 * passport-oauth2's own stores, which keep a single state per session and so fail the first tab.
 * Each state is one-time, expires, and the session is saved before the redirect so that an external
 * store (Redis) already holds the state when the provider sends the user back.
 */
export class SessionStateStore {
  readonly #key: string;
  readonly #ttlMs: number;
  readonly #maxPending: number;
  readonly #owner: string;
  readonly #stateClaims: StateClaimStore | undefined;
  // The process-wide defaults are read on first use: their module loads with a login, not at startup.
  readonly #localClaimsOption: MemoryStateClaims | undefined;
  readonly #inFlightOption: InFlightLogins | undefined;

  constructor(options: SessionStateStoreOptions) {
    if (options.stateClaims !== undefined && typeof options.stateClaims?.claim !== 'function') {
      throw new TypeError(`${options.owner ?? '@passport-martech/oauth2'}: option "stateClaims" must be an object with a claim(key, ttlMs) method`);
    }
    this.#stateClaims = options.stateClaims;
    this.#localClaimsOption = options.localClaims;
    this.#inFlightOption = options.inFlight;
    this.#key = options.key;
    this.#ttlMs = options.ttlMs ?? STATE_TTL_MS;
    this.#maxPending = options.maxPending ?? MAX_PENDING_LOGINS;
    this.#owner = options.owner ?? '@passport-martech/oauth2';
  }

  get #localClaims(): MemoryStateClaims {
    return this.#localClaimsOption ?? processStateClaims;
  }

  get #inFlight(): InFlightLogins {
    return this.#inFlightOption ?? processInFlightLogins;
  }

  /** passport-oauth2 calls this with five arguments when PKCE is on and when it is off. */
  store(req: Request, verifier: string | undefined, appState: unknown, _meta: unknown, callback: StoreCallback): void {
    const session = this.#session(req);
    if (!session) return callback(this.#noSession());
    const state = randomState();
    const now = Date.now();
    const pending = this.#live(session, now);
    const entry: PendingLogin = { digest: sha256(state), createdAt: now };
    if (verifier) entry.verifier = verifier;
    if (appState instanceof AppState) entry.appState = appState.value;
    else if (appState !== undefined && typeof appState !== 'string') entry.appState = appState;
    pending.push(entry);
    session[this.#key] = { pending: pending.slice(-this.#maxPending) };
    if (typeof session.save !== 'function') return callback(null, state);
    session.save((err) => (err ? callback(toError(err)) : callback(null, state)));
  }

  verify(req: Request, providedState: unknown, _meta: unknown, callback: VerifyCallback): void {
    const session = this.#session(req);
    if (!session) return callback(this.#noSession());
    const now = Date.now();
    const pending = this.#live(session, now);
    let match: PendingLogin | undefined;
    let provided: string | undefined;
    if (typeof providedState === 'string' && providedState !== '') {
      provided = sha256(providedState);
      // Every entry is compared, in full, whether or not an earlier one matched.
      for (const entry of pending) {
        if (sameDigest(provided, entry.digest) && !match) match = entry;
      }
    }
    const rest = pending.filter((entry) => entry !== match);
    if (rest.length > 0) session[this.#key] = { pending: rest };
    else delete session[this.#key];
    if (match && rest.length > 0) this.#keepAcrossRegeneration(req, rest);
    if (!match) return callback(null, false, { message: stateFailureMessage(providedState) });
    const found = match;
    const answer = (claimed: Claim) => {
      if (claimed === true) return callback(null, found.verifier ?? true, found.appState);
      const info = { message: stateFailureMessage(providedState) };
      // Not enumerable: passport copies info into flash messages and logs; the promise stays out of them.
      if (claimed) Object.defineProperty(info, AWAIT_LOGIN, { value: claimed.firstCopy, enumerable: false });
      callback(null, false, info);
    };
    // The process's own records (claims, logins in flight) are keyed by the state's digest, already at
    // hand: no second hash and no string built per login, and no namespace needed, since no other store or
    // strategy holds the digest of this random 192-bit state. The shared store's key is stateClaimKey's,
    // which every process of a rolling deploy computes alike.
    const local = this.#claimLocally(req, provided!);
    // Without a shared claim store (one process) the local claim is the answer, given at once as
    // passport-oauth2's own stores give theirs: no promise and no extra tick per login.
    if (local !== true || !this.#stateClaims) return answer(local);
    // After the shared claim, answered on a later tick, outside the promise: a throw in passport's
    // callback must not become an unhandled rejection.
    this.#claimShared(req, stateClaimKey(this.#key, providedState as string)).then(
      (claimed) => process.nextTick(answer, claimed),
      (error: unknown) => process.nextTick(callback, toError(error)),
    );
  }

  /**
   * Spends a state that matched this session, atomically within this process: true for exactly one
   * request per state (then registered as the login in flight). A loser whose winner runs in this
   * process gets the winner's outcome to wait for; any other loser, false.
   */
  #claimLocally(req: Request, key: string): Claim {
    if (!this.#localClaims.claim(key, this.#ttlMs)) {
      const firstCopy = this.#inFlight.waitFor(key);
      return firstCopy ? { firstCopy } : false;
    }
    settleByRequest.set(req, this.#inFlight.begin(key));
    return true;
  }

  /** After the local claim: the shared store (several processes) makes consumption atomic across them. */
  async #claimShared(req: Request, key: string): Promise<Claim> {
    let claimed: boolean;
    try {
      claimed = (await this.#stateClaims!.claim(key, this.#ttlMs)) === true;
    } catch (error) {
      settleLocal(req);
      throw error;
    }
    if (!claimed) {
      // Another process won: this process's duplicates learn that nobody here signs in.
      settleLocal(req);
      return false;
    }
    return true;
  }

  /**
   * passport (0.6+) regenerates the session when this login succeeds, which would drop the logins other
   * tabs have in flight. Their pending entries (states, not credentials) are carried into the new session.
   */
  #keepAcrossRegeneration(req: Request, rest: PendingLogin[]): void {
    const session = this.#session(req);
    const regenerate = session?.regenerate;
    if (!session || typeof regenerate !== 'function') return;
    const key = this.#key;
    Object.defineProperty(session, 'regenerate', {
      configurable: true,
      enumerable: false,
      writable: true,
      value(this: SessionLike, callback: (err?: unknown) => void) {
        return regenerate.call(this, (err?: unknown) => {
          const fresh = (req as Request & { session?: SessionLike }).session;
          if (!err && fresh && fresh !== session) {
            const carried = (fresh[key] as { pending?: PendingLogin[] } | undefined)?.pending ?? [];
            fresh[key] = { pending: [...carried, ...rest] };
          }
          callback(err);
        });
      },
    });
  }

  #session(req: Request): SessionLike | undefined {
    const session = (req as Request & { session?: SessionLike }).session;
    return session && typeof session === 'object' ? session : undefined;
  }

  #live(session: SessionLike, now: number): PendingLogin[] {
    const bucket = session[this.#key] as { pending?: unknown } | undefined;
    const pending = Array.isArray(bucket?.pending) ? (bucket.pending as PendingLogin[]) : [];
    return pending.filter((entry) => typeof entry?.digest === 'string' && now - entry.createdAt < this.#ttlMs);
  }

  #noSession(): Error {
    return new Error(
      `${this.#owner}: OAuth 2.0 state needs a session. Add express-session (app.use(session({...}))) before passport, or, in an app without sessions, keep it in an encrypted cookie with the option state: { cookie: { key } } (a 32-byte key; see "Apps without sessions" in the @passport-martech/oauth2 README).`,
    );
  }
}

/**
 * Whether two digests are equal, reading every character whatever the first difference. They are
 * digests of random states, so timing could reveal nothing about a state; read in full, it does not
 * even reveal how much of a digest matched.
 */
function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

function stateFailureMessage(providedState: unknown): string {
  return typeof providedState === 'string' && providedState !== ''
    ? 'Unable to verify authorization request state: it is unknown, expired or already used.'
    : 'Unable to verify authorization request state: the callback carries no state.';
}

/** Bytes of entropy in a state value (192 bits, as passport-oauth2's uid(24)). */
const STATE_BYTES = 24;
/**
 * Random values come from the CSPRNG in blocks: one randomFillSync call per several dozen logins instead
 * of one or two per login (the same pooling Node's randomUUID and the uuid package use). Each byte is
 * used once.
 */
const POOL_BYTES = 2048;
let pool: Buffer | undefined;
let poolOffset = POOL_BYTES;

function randomState(): string {
  return randomToken(STATE_BYTES);
}

/** `bytes` (at most POOL_BYTES) fresh CSPRNG bytes, base64url: state values and PKCE code verifiers. */
export function randomToken(bytes: number): string {
  if (!pool || poolOffset + bytes > POOL_BYTES) {
    pool = randomFillSync(pool ?? Buffer.allocUnsafeSlow(POOL_BYTES));
    poolOffset = 0;
  }
  const token = pool.toString('base64url', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return token;
}

/** The outcome of claiming a state: spent by this request, lost, or lost to a login in this process. */
type Claim = true | false | { firstCopy: Promise<LoginOutcome> };

/** Ends this request's in-flight login as "not signed in" (its shared claim failed or was lost). */
function settleLocal(req: Request): void {
  const settle = settleByRequest.get(req);
  settleByRequest.delete(req);
  settle?.({});
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
