/**
 * Deadlines of the provider requests in flight, watched by one timer for all of them. A timer per
 * request costs a Timeout object, its async resource and a timer-list insertion per token request;
 * here a request costs one Map entry, and the timer is re-armed only when a deadline earlier than the
 * armed one arrives (with one timeout length, only when nothing was armed).
 *
 * The timer is unref'd: a request in flight holds its socket (or DNS lookup, or the agent's) handle, and
 * a process with nothing else to do is not kept alive by a deadline ten seconds away.
 */
const watched = new Map<object, { deadline: number; expire: () => void }>();
let timer: NodeJS.Timeout | undefined;
let armedFor = Infinity;

/** Calls `expire` once `deadline` (epoch ms) has passed, unless `unwatch(token)` came first. */
export function watchDeadline(deadline: number, expire: () => void): object {
  const token = {};
  watched.set(token, { deadline, expire });
  if (deadline < armedFor) arm(deadline);
  return token;
}

export function unwatch(token: object): void {
  watched.delete(token);
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
  for (const [token, entry] of watched) {
    if (entry.deadline <= now) {
      watched.delete(token);
      expired.push(entry.expire);
    } else if (entry.deadline < next) next = entry.deadline;
  }
  if (next !== Infinity) arm(next);
  for (const expire of expired) expire();
}

/** Requests being watched (for tests). */
export function watchedCount(): number {
  return watched.size;
}
