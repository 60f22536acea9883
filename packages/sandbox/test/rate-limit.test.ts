/** Ontraport's X-Rate-Limit-* counter belongs to one sandbox and is cleared by reset() (issue 14 item 8). */
import request from 'supertest';
import { startSandbox, type RunningSandbox } from '../src';
import { flow, obtainTokens } from './helpers';

let a: RunningSandbox;
let b: RunningSandbox;
beforeAll(async () => {
  [a, b] = await Promise.all([startSandbox(), startSandbox()]);
});
afterAll(() => Promise.all([a.close(), b.close()]));

const contacts = (sb: RunningSandbox, token: string) => request(sb.url).get('/ontraport/1/Contacts').set('Authorization', `Bearer ${token}`);

test('each sandbox counts its own requests, and reset() starts a new window', async () => {
  const tokenA = (await obtainTokens(a.url, flow('ontraport'))).access_token;
  const tokenB = (await obtainTokens(b.url, flow('ontraport'))).access_token;
  const first = await contacts(a, tokenA);
  expect(first.status).toBe(200);
  expect(first.headers['x-rate-limit-limit']).toBe('180');
  expect(first.headers['x-rate-limit-remaining']).toBe('179');
  expect(Number(first.headers['x-rate-limit-reset'])).toBeGreaterThan(55);
  expect((await contacts(a, tokenA)).headers['x-rate-limit-remaining']).toBe('178');
  // Another sandbox in the same process has its own window.
  expect((await contacts(b, tokenB)).headers['x-rate-limit-remaining']).toBe('179');

  a.reset();
  const fresh = (await obtainTokens(a.url, flow('ontraport'))).access_token;
  expect((await contacts(a, fresh)).headers['x-rate-limit-remaining']).toBe('179');
  // A refused request is not counted.
  expect((await contacts(a, 'bogus')).headers['x-rate-limit-remaining']).toBeUndefined();
  expect((await contacts(a, fresh)).headers['x-rate-limit-remaining']).toBe('178');
});
