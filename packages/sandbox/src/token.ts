/** The token endpoint: authorization_code and refresh_token grants (RFC 6749 sections 4.1.3, 6). */
import type { Request, Response } from 'express';
import { readParams, type Params } from './body';
import { authenticateClient } from './client-auth';
import type { ResolvedClient } from './config';
import type { FlowDialect } from './dialect';
import { SandboxError, invalidGrant, invalidRequest } from './errors';
import { verifyPkce } from './pkce';
import { preamble, type ProviderRuntime } from './runtime';
import type { Grant } from './state';

function required(params: Params, name: string): string {
  const value = params.get(name);
  if (value === undefined) throw invalidRequest(`${name} is missing`);
  return value;
}

/** RFC 8707: the token request names the same resource as the authorize request. */
function checkResource(flow: FlowDialect, params: Params, recorded: string | undefined, requiredHere: boolean): void {
  if (!flow.resourceRequired) return;
  const resource = params.get('resource');
  if (resource === undefined) {
    if (requiredHere) throw invalidRequest('resource is required (RFC 8707)');
    return;
  }
  if (resource !== recorded) throw new SandboxError(400, 'invalid_target', 'resource differs from the authorization request');
}

function grantOf<T extends Grant>(record: T): Grant {
  const { provider, flow, clientId, scopes, user, resource } = record;
  return { provider, flow, clientId, scopes, user, resource };
}

/** Spends the code; everything about the request must match what the authorize request recorded. */
function authorizationCodeGrant(rt: ProviderRuntime, flow: FlowDialect, params: Params, client: ResolvedClient) {
  const code = required(params, 'code');
  const redirectUri = required(params, 'redirect_uri');
  // Spent on any attempt that finds it (a failed PKCE check too), so a code cannot be guessed at.
  const { record, replayed } = rt.state.redeemCode(rt.provider.dialect.id, code);
  if (replayed) throw invalidGrant('authorization code was already used (tokens issued from it are revoked)', 'code');
  if (!record || record.flow !== flow.name) throw invalidGrant('authorization code is invalid or expired', 'code');
  if (record.clientId !== client.clientId) throw invalidGrant('authorization code was issued to another client', 'code');
  if (redirectUri !== record.redirectUri) {
    throw invalidGrant('redirect_uri does not match the authorization request', 'redirect_uri');
  }
  verifyPkce(record, params.get('code_verifier'));
  checkResource(flow, params, record.resource, true);
  const grant = grantOf(record);
  const access = rt.state.issueAccessToken(grant, rt.provider.accessTokenTtlSeconds, code);
  const refresh = rt.state.issueRefreshToken(grant, code);
  return { grant, access, refreshToken: refresh.token };
}

function refreshTokenGrant(rt: ProviderRuntime, flow: FlowDialect, params: Params, client: ResolvedClient) {
  const token = required(params, 'refresh_token');
  const record = rt.state.findRefreshToken(rt.provider.dialect.id, token);
  if (!record || record.flow !== flow.name) throw invalidGrant('refresh token is invalid, expired or revoked', 'refresh_token');
  if (record.clientId !== client.clientId) throw invalidGrant('refresh token was issued to another client', 'refresh_token');
  checkResource(flow, params, record.resource, false);
  let grant = grantOf(record);
  const scope = params.get('scope');
  if (scope !== undefined) {
    // RFC 6749 section 6: a refresh may narrow the scope, never widen it.
    const scopes = scope.split(' ').filter(Boolean);
    if (scopes.some((s) => !grant.scopes.includes(s))) {
      throw new SandboxError(400, 'invalid_scope', 'scope exceeds the scope originally granted');
    }
    grant = { ...grant, scopes };
  }
  let refreshToken = token;
  if (rt.config.rotateRefreshTokens) {
    rt.state.deleteRefreshToken(token);
    refreshToken = rt.state.issueRefreshToken(grant, record.fromCode).token;
  }
  const access = rt.state.issueAccessToken(grant, rt.provider.accessTokenTtlSeconds, record.fromCode);
  return { grant, access, refreshToken };
}

export async function token(rt: ProviderRuntime, flow: FlowDialect, req: Request, res: Response): Promise<void> {
  if (flow.errorShape) res.locals.errorShape = flow.errorShape;
  // The body decides what the request counts as (token or refresh), so it is read before the preamble;
  // a bad body is reported after it, so faults and stats still see the request.
  let params: Params = new Map();
  let bodyError: unknown;
  try {
    params = await readParams(req, flow.bodyEncoding);
  } catch (e) {
    bodyError = e;
  }
  const isRefresh = params.get('grant_type') === 'refresh_token';
  const answered = await preamble(rt, res, {
    countAs: isRefresh ? 'refresh' : 'token',
    faultsFor: isRefresh ? ['token', 'refresh'] : ['token'],
    latency: true,
    subject: isRefresh ? 'refresh_token' : 'code',
  });
  if (answered) return;
  if (bodyError) throw bodyError;
  const client = authenticateClient(req, params, flow.clientAuth, rt.provider.clients);
  const grantType = required(params, 'grant_type');
  let issued;
  if (grantType === 'authorization_code') issued = authorizationCodeGrant(rt, flow, params, client);
  else if (grantType === 'refresh_token') issued = refreshTokenGrant(rt, flow, params, client);
  else throw new SandboxError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  const body = flow.tokenResponse({
    accessToken: issued.access.token,
    refreshToken: issued.refreshToken,
    expiresIn: rt.provider.accessTokenTtlSeconds,
    grant: issued.grant,
  });
  // RFC 6749 section 5.1: token responses must not be cached.
  res.status(200).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
}
