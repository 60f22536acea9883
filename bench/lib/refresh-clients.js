'use strict';
/**
 * The two ways an app refreshes one user's expired token, shared by figure 1 (in process) and
 * figure 2 (refresh-worker.js, one per process):
 *
 * - ours: TokenManager.getAccessToken (single flight in the process; with a RedisLock, across processes);
 * - baseline: what passport-oauth2-refresh's README shows, once per request: read the stored tokens,
 *   see that the access token expired, call requestNewAccessToken with the stored refresh token, save
 *   what comes back.
 */
const { HubSpotStrategy } = require('@passport-martech/hubspot');
const { TokenManager, TokenRefresher, MemoryTokenStore, RedisTokenStore, RedisLock } = require('@passport-martech/refresh');
const OAuth2Strategy = require('passport-oauth2').Strategy;
const { AuthTokenRefresh } = require('passport-oauth2-refresh');
const { HUBSPOT, hubspotEndpoints } = require('./sandbox');

const PROVIDER = 'hubspot';

function ourStrategy(url) {
  return new HubSpotStrategy({ ...HUBSPOT, ...hubspotEndpoints(url), pkce: false }, (_a, _r, _p, done) => done(null, false));
}

/**
 * ours: options { url, store: 'memory' | { client, prefix }, lock: boolean }.
 * Returns { manager, save(userKey, tokenSet), call(userKey) }.
 */
function ourClient({ url, redis, prefix, lock }) {
  const store = redis ? new RedisTokenStore({ client: redis, prefix }) : new MemoryTokenStore();
  const manager = new TokenManager({
    refresher: new TokenRefresher().use(ourStrategy(url)),
    store,
    lock: redis && lock ? new RedisLock({ client: redis, ttlMs: 5000 }) : undefined,
  });
  return {
    manager,
    save: (userKey, tokenSet) => manager.save(userKey, PROVIDER, tokenSet),
    stored: (userKey) => manager.get(userKey, PROVIDER),
    call: (userKey) => manager.getAccessToken(userKey, PROVIDER),
  };
}

/**
 * baseline: a plain passport-oauth2 strategy on the same endpoints, registered with passport-oauth2-refresh;
 * the token set is kept in a Map (figure 1) or as JSON in Redis (figure 2), as an app would.
 */
function baselineClient({ url, redis, prefix }) {
  const endpoints = hubspotEndpoints(url);
  const strategy = new OAuth2Strategy(
    { ...HUBSPOT, authorizationURL: endpoints.authorizationURL, tokenURL: endpoints.tokenURL },
    (_a, _r, _p, done) => done(null, false),
  );
  const refresh = new AuthTokenRefresh();
  refresh.use(PROVIDER, strategy);
  const memory = new Map();
  const keyOf = (userKey) => `${prefix || ''}${PROVIDER}:${userKey}`;
  const read = async (userKey) => {
    if (!redis) return memory.get(keyOf(userKey));
    const text = await redis.get(keyOf(userKey));
    return text ? JSON.parse(text) : undefined;
  };
  const write = async (userKey, tokenSet) => {
    if (redis) await redis.set(keyOf(userKey), JSON.stringify(tokenSet));
    else memory.set(keyOf(userKey), { ...tokenSet });
  };
  return {
    save: write,
    stored: read,
    async call(userKey) {
      const tokens = await read(userKey);
      if (!tokens) throw Object.assign(new Error('not signed in'), { code: 'NO_TOKENS' });
      if (tokens.expiresAt > Date.now() + 60000) return tokens.accessToken;
      const [accessToken, refreshToken, results] = await new Promise((resolve, reject) => {
        refresh.requestNewAccessToken(PROVIDER, tokens.refreshToken, (err, a, r, res) => (err ? reject(err) : resolve([a, r, res])));
      });
      await write(userKey, {
        ...tokens,
        accessToken,
        refreshToken: refreshToken || tokens.refreshToken,
        expiresAt: Date.now() + Number(results.expires_in || 0) * 1000,
      });
      return accessToken;
    },
  };
}

/** A short, stable label for a failure: the provider's error (node-oauth's { statusCode, data }) or a code. */
function failureLabel(err) {
  if (!err) return 'unknown';
  if (err.code) return String(err.code);
  if (err.statusCode) {
    try {
      const body = JSON.parse(err.data);
      return `HTTP ${err.statusCode} ${body.error || body.status || ''}`.trim();
    } catch {
      return `HTTP ${err.statusCode}`;
    }
  }
  return err.message || String(err);
}

/** Runs `callers` concurrent calls; { wallMs, ok, failures: { label: n }, distinctTokens }. */
async function runCallers(client, userKey, callers) {
  const started = process.hrtime.bigint();
  const settled = await Promise.allSettled(Array.from({ length: callers }, () => client.call(userKey)));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const tokens = new Set();
  const failures = {};
  let ok = 0;
  for (const result of settled) {
    if (result.status === 'fulfilled') {
      ok++;
      tokens.add(result.value);
    } else {
      const label = failureLabel(result.reason);
      failures[label] = (failures[label] || 0) + 1;
    }
  }
  return { wallMs, ok, failures, distinctTokens: [...tokens] };
}

module.exports = { PROVIDER, ourClient, baselineClient, runCallers, failureLabel };
