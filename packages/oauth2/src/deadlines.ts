/**
 * Deadlines of the provider requests in flight, watched by one timer for all of them. A timer per
 * request costs a Timeout object, its async resource and a timer-list insertion per token request;
 * here a request costs one Set entry, and the timer is re-armed only when a deadline earlier than the
 * armed one arrives (with one timeout length, only when nothing was armed).
 *
 * The timer is unref'd: a request in flight holds its socket (or DNS lookup, or the agent's) handle, and
 * a process with nothing else to do is not kept alive by a deadline ten seconds away.
 */

/** A watched deadline; `unwatch` it when the request settles. */
export interface Watch {
  readonly deadline: number;
  expire: (() => void) | undefined;
}

const watched = new Set<Watch>();
let timer: NodeJS.Timeout | undefined;
let armedFor = Infinity;

/** Calls `expire` once `deadline` (epoch ms) has passed, unless `unwatch` came first. */
export function watchDeadline(deadline: number, expire: () => void): Watch {
  const watch: Watch = { deadline, expire };
  watched.add(watch);
  if (deadline < armedFor) arm(deadline);
  return watch;
}

/**
 * Forgets a deadline. The entry lets go of its callback first: the callback holds the whole request
 * (its closure reaches the ClientRequest, the response and the promise), and a deleted entry that still
 * pointed at it was measured (Node 20, V8 11.3, the bench's login figure) to keep those objects alive
 * through young-generation collections: about 4 KB more promoted to the old generation per login.
 */
export function unwatch(watch: Watch): void {
  watch.expire = undefined;
  watched.delete(watch);
}

function arm(deadline: number): void {
  if (timer) clearTimeout(timer);
  armedFor = deadline;
  timer = setTimeout(check, Math.max(1, deadline - Date.now()));
  timer.unref();
}

function check(): void {
  timer = undefined;
  armedFor = Infinity;
  const now = Date.now();
  let next = Infinity;
  const expired: (() => void)[] = [];
  for (const watch of watched) {
    if (watch.deadline <= now) {
      watched.delete(watch);
      if (watch.expire) expired.push(watch.expire);
      watch.expire = undefined;
    } else if (watch.deadline < next) next = watch.deadline;
  }
  if (next !== Infinity) arm(next);
  for (const expire of expired) expire();
}

/** Requests being watched (for tests). */
export function watchedCount(): number {
  return watched.size;
}
