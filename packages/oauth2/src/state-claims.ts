import { createHash, hash } from 'node:crypto';

/**
 * Records that a login's state has been used, atomically: for one key, exactly one `claim` call
 * answers true. The session alone cannot do this: express-session writes a session back only at the end
 * of a request, so two copies of one callback (a double click, a prefetch, a retried navigation) would
 * both find the state in the session they loaded and both spend the authorization code.
 *
 * Keys are digests of the state (never the state itself) and safe to use as Redis keys. With several
 * processes, back it with a shared store, e.g. ioredis:
 * `claim: async (key, ttlMs) => (await redis.set(`oauth2:claim:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK'`.
 */
export interface StateClaimStore {
  /** Records `key` for `ttlMs` ms if it is not recorded yet; true only for the call that recorded it. */
  claim(key: string, ttlMs: number): Promise<boolean> | boolean;
}

/** The tables of claims and logins in flight drop expired entries at most this often. */
const SWEEP_INTERVAL_MS = 1000;

/**
 * The in-process claim record every built-in state store uses first (one per process, shared by every
 * strategy, so two apps in one process are covered too). Entries live as long as the state could still
 * be valid and are swept as new ones arrive, so memory stays bounded by the logins of one TTL window.
 */
export class MemoryStateClaims implements StateClaimStore {
  readonly #expiries = new Map<string, number>();
  /** The earliest expiry the table may hold: nothing to sweep before it. */
  #nextExpiry = Infinity;
  #sweepAfter = 0;

  claim(key: string, ttlMs: number): boolean {
    const now = Date.now();
    // claim() checks expiry itself: sweeping at most once per SWEEP_INTERVAL_MS only keeps spent entries a
    // little longer, instead of walking the table on nearly every claim once entries start expiring.
    if (now >= this.#nextExpiry && now >= this.#sweepAfter) this.#sweep(now);
    const expiresAt = this.#expiries.get(key);
    if (expiresAt !== undefined && expiresAt > now) return false;
    this.#expiries.delete(key);
    this.#expiries.set(key, now + ttlMs);
    if (now + ttlMs < this.#nextExpiry) this.#nextExpiry = now + ttlMs;
    return true;
  }

  /** How many claims are held (for tests and monitoring). */
  get size(): number {
    return this.#expiries.size;
  }

  #sweep(now: number): void {
    // Insertion order is expiry order for one TTL; an entry with a longer TTL only delays the sweep.
    this.#nextExpiry = Infinity;
    this.#sweepAfter = now + SWEEP_INTERVAL_MS;
    for (const [key, expiresAt] of this.#expiries) {
      if (expiresAt > now) {
        this.#nextExpiry = expiresAt;
        break;
      }
      this.#expiries.delete(key);
    }
  }
}

export const processStateClaims = new MemoryStateClaims();

/** The claim key of a state: a digest, namespaced by the store's session key. */
export function stateClaimKey(namespace: string, state: string): string {
  return sha256(`passport-martech:state-claim\0${namespace}\0${state}`);
}

/**
 * SHA-256 of a string, base64url. Node 20.12+ has the one-shot `crypto.hash` (no Hash object per call:
 * about a third of createHash's CPU for a state-sized input); older Node 20 releases use createHash.
 */
export const sha256: (value: string) => string =
  typeof hash === 'function' ? (value) => hash('sha256', value, 'base64url') : (value) => createHash('sha256').update(value).digest('base64url');

/** How a login ended, for duplicates of its callback that wait for it. `user` unset: not signed in. */
export interface LoginOutcome {
  user?: unknown;
  info?: unknown;
}

/** How long a finished login's outcome stays available to duplicates that arrive just after it. */
const OUTCOME_GRACE_MS = 5_000;
/** A login that never reports its end (a verify that never answers) is forgotten after this. */
const MAX_IN_FLIGHT_MS = 10 * 60 * 1000;

interface InFlight {
  /** When the winner began (for the abandoned-login bound) or settled (for the grace period). */
  at: number;
  outcome: LoginOutcome | undefined;
  /** Made only when a duplicate waits: most logins have none. */
  promise: Promise<LoginOutcome> | undefined;
  resolve: ((outcome: LoginOutcome) => void) | undefined;
}

/**
 * Logins in progress in this process, by claim key: a duplicate callback that lost the claim waits for
 * the winner's outcome instead of failing, so a double click still ends signed in. Only a request that
 * presented the same session (its pending entry matched) ever waits, so it gets nothing the winner's
 * browser did not already get. No timer or promise per login: entries are swept by age as new logins
 * begin (and by one shared timer after a login ends), and a promise is made only for a duplicate that
 * waits.
 */
export class InFlightLogins {
  readonly #logins = new Map<string, InFlight>();
  #sweepTimer: NodeJS.Timeout | undefined;
  /** The earliest deadline of an entry: no sweep before it. */
  #nextDeadline = Infinity;
  #sweepAfter = 0;

  /** Registers the winner; the returned function settles it (once). */
  begin(key: string): (outcome: LoginOutcome) => void {
    const now = Date.now();
    // waitFor() checks expiry itself, so sweeps may wait (as in MemoryStateClaims.claim).
    if (now >= this.#nextDeadline && now >= this.#sweepAfter) this.#sweep(now);
    // Every field from the start: one shape for all entries, no property storage added when it settles.
    const entry: InFlight = { at: now, outcome: undefined, promise: undefined, resolve: undefined };
    this.#logins.delete(key);
    this.#logins.set(key, entry);
    this.#nextDeadline = Math.min(this.#nextDeadline, now + MAX_IN_FLIGHT_MS);
    return (outcome: LoginOutcome) => {
      if (entry.outcome) return;
      entry.outcome = outcome;
      // The user object is kept only briefly: long enough for a duplicate already on its way. Re-inserted
      // so that the map stays in order of its entries' deadlines for the sweep.
      entry.at = Date.now();
      if (this.#logins.get(key) === entry) {
        this.#logins.delete(key);
        this.#logins.set(key, entry);
        this.#nextDeadline = Math.min(this.#nextDeadline, entry.at + OUTCOME_GRACE_MS);
      }
      entry.resolve?.(outcome);
      this.#scheduleSweep();
    };
  }

  /** The winner's outcome, when the winner runs (or just ran) in this process. */
  waitFor(key: string): Promise<LoginOutcome> | undefined {
    const entry = this.#logins.get(key);
    if (!entry) return undefined;
    const now = Date.now();
    if (expired(entry, now)) {
      this.#logins.delete(key);
      // As the sweep does: an abandoned login ends as "not signed in" for duplicates already waiting.
      if (!entry.outcome) entry.resolve?.({});
      return undefined;
    }
    if (entry.outcome) return Promise.resolve(entry.outcome);
    entry.promise ??= new Promise<LoginOutcome>((resolve) => (entry.resolve = resolve));
    return entry.promise;
  }

  /** Logins held (for tests and monitoring). */
  get size(): number {
    return this.#logins.size;
  }

  /**
   * One timer for the whole table (not one per login): a finished login's user object is dropped about
   * OUTCOME_GRACE_MS after it finished even when no other login comes to sweep it.
   */
  #scheduleSweep(): void {
    if (this.#sweepTimer) return;
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = undefined;
      this.#sweep(Date.now());
      for (const entry of this.#logins.values()) {
        if (entry.outcome) return this.#scheduleSweep();
      }
    }, OUTCOME_GRACE_MS + 10);
    this.#sweepTimer.unref();
  }

  #sweep(now: number): void {
    this.#sweepAfter = now + SWEEP_INTERVAL_MS;
    // Unsettled entries (10 min) and settled ones (5 s) are each in deadline order; one pass of the
    // oldest entries drops what has expired and stops at the first live one of each kind.
    let next = Infinity;
    for (const [key, entry] of this.#logins) {
      if (!expired(entry, now)) {
        next = Math.min(next, deadline(entry));
        if (entry.outcome) break;
        continue;
      }
      this.#logins.delete(key);
      // An abandoned login (a verify that never answers) ends as "not signed in" for anyone waiting.
      if (!entry.outcome) entry.resolve?.({});
    }
    // Entries after the first live settled one were added or settled later: their deadlines are later.
    this.#nextDeadline = next;
  }
}

function deadline(entry: InFlight): number {
  return entry.at + (entry.outcome ? OUTCOME_GRACE_MS : MAX_IN_FLIGHT_MS);
}

function expired(entry: InFlight, now: number): boolean {
  return now >= deadline(entry);
}

export const processInFlightLogins = new InFlightLogins();

/**
 * The link between a callback request and its login's settle function, or for a duplicate the promise
 * it should wait on. Keyed by the request object, so nothing is added to the request itself.
 */
export const settleByRequest = new WeakMap<object, (outcome: LoginOutcome) => void>();

/** Marks a state failure whose login is in progress elsewhere in this process (see ProviderStrategy). */
export const AWAIT_LOGIN = Symbol('passport-martech.awaitLogin');
