/* global console, fetch */
// Login, then five concurrent getAccessToken calls share ONE refresh (counted by the sandbox).
import { login, startApp, startRedis, startSandbox } from './harness.mjs';

const sandbox = await startSandbox();
const redis = await startRedis();
const app = await startApp('app.js', { SANDBOX_URL: sandbox.url, REDIS_URL: redis.url });
try {
  const { user, cookie } = await login(app.url, 'hubspot');
  if (user?.provider !== 'hubspot') throw new Error(`signed in as ${JSON.stringify(user)}`);
  const before = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()).hubspot;
  const answer = await (await fetch(`${app.url}/token`, { headers: { cookie } })).json();
  const after = (await (await fetch(`${sandbox.url}/_sandbox/stats`)).json()).hubspot;
  const refreshes = (after.refresh ?? 0) - (before.refresh ?? 0);
  // One refresh for the five concurrent callers, one for requestNewAccessToken.
  if (answer.distinct !== 1 || answer.viaDefault !== true || refreshes !== 2) {
    throw new Error(`expected one shared refresh: ${JSON.stringify({ answer, refreshes })}`);
  }
  console.log(`ok: login, Redis store and lock, one refresh for five callers, default instance (${app.output().trim()})`);
} catch (e) {
  console.error(app.output());
  throw e;
} finally {
  app.stop();
  redis.stop();
  sandbox.stop();
}
