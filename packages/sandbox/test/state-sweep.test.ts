/**
 * Codes are forgotten once expired, and finding them costs no more than the expired ones: a benchmark's
 * thousands of logins must not make each authorization slower than the last (bench figure 4).
 */
import { CODE_TTL_MS, SandboxState, type Authorization, type Grant } from '../src/state';

const authorization: Authorization = {
  provider: 'boomtown',
  flow: 'main',
  clientId: 'demo-boomtown-client',
  scopes: [],
  user: { id: 'bt-demo-user-1' } as unknown as Grant['user'],
  redirectUri: 'http://127.0.0.1/cb',
};

function codesHeld(state: SandboxState): number {
  return (state as unknown as { codes: Map<string, unknown> }).codes.size;
}

afterEach(() => jest.useRealTimers());

test('expired codes are swept when a new one is issued; live ones stay redeemable', () => {
  jest.useFakeTimers({ now: 1_000_000 });
  const state = new SandboxState();
  const old = Array.from({ length: 50 }, () => state.issueCode(authorization));
  jest.setSystemTime(1_000_000 + CODE_TTL_MS / 2);
  const live = state.issueCode(authorization);
  expect(codesHeld(state)).toBe(51);
  jest.setSystemTime(1_000_000 + CODE_TTL_MS + 1);
  state.issueCode(authorization);
  // The 50 expired codes are gone; the half-way one and the new one remain.
  expect(codesHeld(state)).toBe(2);
  expect(state.redeemCode('boomtown', old[0]!).record).toBeUndefined();
  expect(state.redeemCode('boomtown', live).record).toBeDefined();
});

test('a sweep stops at the first live code (each issue costs the expired codes, not every code held)', () => {
  jest.useFakeTimers({ now: 2_000_000 });
  const state = new SandboxState();
  for (let i = 0; i < 2000; i++) state.issueCode(authorization);
  const codes = (state as unknown as { codes: Map<string, unknown> }).codes;
  let visited = 0;
  const iterator = codes[Symbol.iterator].bind(codes);
  codes[Symbol.iterator] = function* () {
    for (const entry of iterator()) {
      visited++;
      yield entry;
    }
  } as (typeof codes)[typeof Symbol.iterator];
  state.issueCode(authorization);
  expect(visited).toBe(1);
});
