/** Test-control routes under `/_sandbox` (not part of any provider's dialect). */
import express from 'express';
import { readJsonValue } from './body';
import { errorHandler } from './engine';
import { SandboxError, rfc6749Shape } from './errors';
import type { SandboxState } from './state';
import type { ExpireRequest, ProviderId, RevokeRequest } from './types';
import { PROVIDER_IDS } from './types';

function object(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new SandboxError(400, 'invalid_request', 'body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function provider(body: Record<string, unknown>): ProviderId {
  const p = body.provider;
  if (typeof p !== 'string' || !(PROVIDER_IDS as readonly string[]).includes(p)) {
    throw new SandboxError(400, 'invalid_request', `provider must be one of ${PROVIDER_IDS.join(', ')}`);
  }
  return p as ProviderId;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v !== undefined && typeof v !== 'string') throw new SandboxError(400, 'invalid_request', `${name} must be a string`);
  return v as string | undefined;
}

export function controlRouter(state: SandboxState): express.Router {
  const router = express.Router();
  router.get('/stats', (_req, res) => {
    res.json(state.stats());
  });
  router.get('/faults', (_req, res) => {
    res.json(state.faults());
  });
  router.post('/faults', async (req, res) => {
    res.status(201).json(state.addFault(await readJsonValue(req)));
  });
  router.delete('/faults', (_req, res) => {
    state.clearFaults();
    res.status(204).end();
  });
  router.post('/reset', async (req, res) => {
    await readJsonValue(req);
    state.reset();
    res.status(204).end();
  });
  router.post('/expire', async (req, res) => {
    const body = object(await readJsonValue(req));
    const request: ExpireRequest = { provider: provider(body), accessToken: optionalString(body, 'accessToken') };
    res.json({ expired: state.expire(request) });
  });
  router.post('/revoke', async (req, res) => {
    const body = object(await readJsonValue(req));
    const request: RevokeRequest = { provider: provider(body), refreshToken: optionalString(body, 'refreshToken') };
    res.json({ revoked: state.revoke(request) });
  });
  router.get('/audit', (_req, res) => {
    res.json(state.audit());
  });
  router.get('/settings', (_req, res) => {
    res.json({ refreshTokenReuse: state.refreshTokenReuse() });
  });
  router.post('/settings', async (req, res) => {
    const body = object(await readJsonValue(req));
    const unknown = Object.keys(body).find((k) => k !== 'refreshTokenReuse');
    if (unknown) throw new SandboxError(400, 'invalid_request', `unknown setting "${unknown.slice(0, 40)}"`);
    if ('refreshTokenReuse' in body) state.setRefreshTokenReuse(body.refreshTokenReuse);
    res.json({ refreshTokenReuse: state.refreshTokenReuse() });
  });
  // MCP authorization servers. `iss` on the redirect (RFC 9207, where the server sends it): 'issuer'
  // (default), 'wrong' (another server's, for mix-up tests) or 'omit'.
  router.get('/mcp', (_req, res) => {
    res.json({ iss: state.mcp.issMode });
  });
  router.post('/mcp', async (req, res) => {
    const body = object(await readJsonValue(req));
    const unknown = Object.keys(body).find((k) => k !== 'iss');
    if (unknown) throw new SandboxError(400, 'invalid_request', `unknown MCP setting "${unknown.slice(0, 40)}"`);
    if ('iss' in body) state.mcp.setIssMode(body.iss);
    res.json({ iss: state.mcp.issMode });
  });
  // Dynamic registration (RFC 7591): how many clients each MCP server registered, and a wipe of them.
  router.get('/mcp/registrations', (_req, res) => {
    res.json(state.mcp.registrations());
  });
  router.post('/mcp/forget-clients', async (req, res) => {
    const body = object(await readJsonValue(req));
    res.json({ forgotten: state.mcp.forgetClients(body.provider === undefined ? undefined : provider(body)) });
  });
  router.post('/refresh-token-status', async (req, res) => {
    const body = object(await readJsonValue(req));
    const refreshToken = optionalString(body, 'refreshToken');
    if (refreshToken === undefined) throw new SandboxError(400, 'invalid_request', 'refreshToken is required');
    res.json(state.refreshTokenStatus(provider(body), refreshToken));
  });
  router.use(() => {
    throw new SandboxError(404, 'not_found', 'no such sandbox control route');
  });
  router.use(errorHandler(() => rfc6749Shape));
  return router;
}
