/** Waits used by latency and `delay` faults. */

/**
 * Unref'd so that a pending delay never keeps a process alive after the server is closed; while the server
 * listens it keeps the process alive itself.
 */
export function sleep(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
