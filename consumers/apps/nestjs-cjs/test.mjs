/* global console, fetch, URL */
// NestJS without sessions: a complete login through AuthGuard('hubspot'), validate's arguments as
// documented, the state cookie spent on use (a replay is refused), for both validate forms.
import { randomBytes } from 'node:crypto';
import { startApp, startSandbox } from './harness.mjs';

const sandbox = await startSandbox();
const app = await startApp('dist/main.js', { SANDBOX_URL: sandbox.url, STATE_COOKIE_KEY: randomBytes(32).toString('hex') });

async function login(path) {
  const begin = await fetch(`${app.url}${path}`, { redirect: 'manual' });
  if (begin.status !== 302) throw new Error(`${path}: expected a redirect, got ${begin.status}: ${await begin.text()}`);
  const setCookie = begin.headers.get('set-cookie') ?? '';
  if (!/^oauth2_state_hubspot\.[\w-]{22}=[\w-]+; Path=\/auth\/hubspot[\w-]*; Max-Age=600; HttpOnly; SameSite=Lax$/.test(setCookie)) {
    throw new Error(`${path}: unexpected state cookie: ${setCookie}`);
  }
  const cookie = setCookie.split(';')[0];
  const approved = await fetch(begin.headers.get('location'), { redirect: 'manual' });
  const back = new URL(approved.headers.get('location'));
  const callback = `${app.url}${back.pathname}${back.search}`;
  const done = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
  if (done.status !== 200) throw new Error(`${path}: callback answered ${done.status}: ${await done.text()}`);
  if (!/Max-Age=0/.test(done.headers.get('set-cookie') ?? '')) throw new Error(`${path}: the state cookie was not cleared`);
  const { user } = await done.json();
  const replay = await fetch(callback, { headers: { cookie }, redirect: 'manual' });
  if (replay.status !== 401) throw new Error(`${path}: a replayed callback answered ${replay.status}, not 401`);
  return user;
}

try {
  const user = await login('/auth/hubspot');
  const expected = ['string', 'string', 'profile'];
  if (user?.provider !== 'hubspot' || !/^\d+$/.test(user.id) || JSON.stringify(user.args) !== JSON.stringify(expected)) {
    throw new Error(`validate(accessToken, refreshToken, profile): got ${JSON.stringify(user)}`);
  }
  console.log(`ok PassportStrategy(HubSpotStrategy, 'hubspot'): validate(accessToken, refreshToken, profile), signed in as ${user.id}, no session, replay refused`);
  const withParams = await login('/auth/hubspot-params');
  if (JSON.stringify(withParams?.args) !== JSON.stringify(['string', 'string', 'tokenSet', 'number'])) {
    throw new Error(`validate(accessToken, refreshToken, params, profile): got ${JSON.stringify(withParams)}`);
  }
  console.log("ok PassportStrategy(HubSpotStrategy, 'hubspot-params', true): validate(accessToken, refreshToken, params, profile)");
} catch (e) {
  console.error(app.output());
  throw e;
} finally {
  app.stop();
  sandbox.stop();
}
