'use strict';
/** Starts the sandbox (in a child process) and talks to it: stats, reset, expire, a first login. */
const { join } = require('node:path');
const { sandboxEndpoints, sandboxFacts } = require('@passport-martech/sandbox');
const { startChild } = require('./util');

/** The bench measures HubSpot (its baseline is passport-hubspot-oauth2), with the sandbox's default client. */
const { clientId, clientSecret } = sandboxFacts('hubspot').client;
const HUBSPOT = { clientID: clientId, clientSecret, callbackURL: 'http://127.0.0.1:3999/cb' };

/** The strategy options that point HubSpot at the sandbox, from its dialect (the one place paths are written). */
function hubspotEndpoints(url) {
  return sandboxEndpoints(url, 'hubspot');
}

async function control(url, method, path, body) {
  const response = await globalThis.fetch(`${url}/_sandbox/${path}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`sandbox ${method} ${path}: ${response.status}`);
  return response.status === 204 ? undefined : response.json();
}

/** options: SandboxOptions (autoApprove is on). */
async function startSandboxProcess(options = {}) {
  const handle = startChild(join(__dirname, 'sandbox-server.js'), { env: { SANDBOX_OPTIONS: JSON.stringify(options) } });
  const { url } = await handle.ready;
  return {
    url,
    stats: () => control(url, 'GET', 'stats'),
    reset: () => control(url, 'POST', 'reset'),
    expire: (body) => control(url, 'POST', 'expire', body),
    stop: () => handle.stop(),
  };
}

/** Upstream (server-to-server) calls in a stats answer for one provider: everything but the browser's authorize. */
function upstreamCalls(stats, provider = 'hubspot') {
  const s = stats[provider];
  return s.token + s.refresh + s.identity + s.api + s.clientCredentials;
}

/** The authorization-code flow by hand (authorize is auto-approved): the raw HubSpot token response. */
async function hubspotLogin(url) {
  const endpoints = hubspotEndpoints(url);
  const authorize = new URL(endpoints.authorizationURL);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: HUBSPOT.clientID,
    redirect_uri: HUBSPOT.callbackURL,
    scope: 'oauth',
    state: 'bench',
  }).toString();
  const redirect = await globalThis.fetch(authorize, { redirect: 'manual' });
  const location = redirect.headers.get('location');
  const code = location && new URL(location).searchParams.get('code');
  if (!code) throw new Error(`sandbox authorize answered ${redirect.status} without a code`);
  const response = await globalThis.fetch(endpoints.tokenURL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: HUBSPOT.callbackURL,
      client_id: HUBSPOT.clientID,
      client_secret: HUBSPOT.clientSecret,
    }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`sandbox token answered ${response.status}`);
  return body;
}

/** A TokenSet (@passport-martech/oauth2 shape) whose access token expired a second ago. */
function expiredTokenSet(raw) {
  return {
    accessToken: raw.access_token,
    refreshToken: raw.refresh_token,
    tokenType: raw.token_type || 'bearer',
    expiresAt: Date.now() - 1000,
    raw,
  };
}

/** One refresh_token grant straight at the sandbox: is this refresh token still good? */
async function refreshTokenWorks(url, refreshToken) {
  const response = await globalThis.fetch(hubspotEndpoints(url).tokenURL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: HUBSPOT.clientID, client_secret: HUBSPOT.clientSecret }),
  });
  await response.arrayBuffer();
  return response.ok;
}

module.exports = { HUBSPOT, hubspotEndpoints, startSandboxProcess, upstreamCalls, hubspotLogin, expiredTokenSet, refreshTokenWorks };
