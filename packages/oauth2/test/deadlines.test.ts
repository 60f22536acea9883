import { setTimeout as sleep } from 'node:timers/promises';
import { unwatch, watchDeadline, watchedCount } from '../src/deadlines';

/** One timer watches every request's deadline (transport.ts); these check what each request relies on. */
describe('watchDeadline', () => {
  it('expires each deadline once it passes, in any order of arrival, and forgets what was unwatched', async () => {
    const expired: string[] = [];
    const now = Date.now();
    watchDeadline(now + 120, () => expired.push('late'));
    // Earlier than the armed one: the timer is re-armed for it.
    watchDeadline(now + 30, () => expired.push('early'));
    const cancelled = watchDeadline(now + 60, () => expired.push('cancelled'));
    unwatch(cancelled);
    await sleep(80);
    expect(expired).toEqual(['early']);
    await sleep(80);
    expect(expired).toEqual(['early', 'late']);
    expect(watchedCount()).toBe(0);
  });

  it('expires a deadline already past on the next turn, never synchronously', async () => {
    let expired = false;
    watchDeadline(Date.now() - 5, () => (expired = true));
    expect(expired).toBe(false);
    await sleep(20);
    expect(expired).toBe(true);
  });

  it('lets go of the callback (and the request it holds) once a deadline is unwatched or has expired', async () => {
    const cancelled = watchDeadline(Date.now() + 1_000, () => undefined);
    unwatch(cancelled);
    expect(cancelled.expire).toBeUndefined();
    let calls = 0;
    const passed = watchDeadline(Date.now() + 10, () => calls++);
    await sleep(40);
    expect(calls).toBe(1);
    expect(passed.expire).toBeUndefined();
    // The request settles after its deadline fired: unwatching again changes nothing.
    unwatch(passed);
    expect(calls).toBe(1);
    expect(watchedCount()).toBe(0);
  });

  it('keeps watching the later deadlines after each expiry', async () => {
    const expired: number[] = [];
    const now = Date.now();
    for (const offset of [40, 20, 60]) watchDeadline(now + offset, () => expired.push(offset));
    await sleep(100);
    expect(expired).toEqual([20, 40, 60]);
  });
});
