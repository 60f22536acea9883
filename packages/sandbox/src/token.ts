/** The token endpoint: authorization_code and refresh_token grants (RFC 6749 sections 4.1.3, 6). */
import type { Request, Response } from 'express';
import { readParams, type Params } from './body';
import { authenticateClient } from './client-auth';
import type { ResolvedClient } from './config';
import type { FlowDialect } from './dialect';
import { SandboxError, invalidGrant, invalidRequest } from './errors';
import { answerLost } from './faults';
import { verifyPkce } from './pkce';
import type { Refusal } from './refresh-tokens';
import { preamble, type ProviderRuntime } from './runtime';
import { clientsOf } from './mcp-server';
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
  // The grant family started when the code was spent; every token refreshed from these inherits it.
  const lineage = { fromCode: code, family: record.family };
  const access = rt.state.issueAccessToken(grant, rt.provider.accessTokenTtlSeconds, lineage);
  const refresh = rt.state.issueRefreshToken(grant, lineage);
  return { grant, access, refreshToken: refresh.token };
}

const REFUSALS: Record<Refusal, string> = {
  revoked: 'refresh token is invalid, expired or revoked',
  rotated: 'refresh token was already used (it has been rotated)',
  'reuse-detected': 'refresh token was already used; the whole grant is revoked (reuse detection)',
};

function refreshTokenGrant(rt: ProviderRuntime, flow: FlowDialect, params: Params, client: ResolvedClient) {
  const token = required(params, 'refresh_token');
  const ledger = rt.state.refreshTokens;
  const record = ledger.find(rt.provider.dialect.id, token);
  if (!record || record.flow !== flow.name) throw invalidGrant(REFUSALS.revoked, 'refresh_token');
  if (record.clientId !== client.clientId) throw invalidGrant('refresh token was issued to another client', 'refresh_token');
  // A rotated token presented again: refused, revokes the grant, or works inside a grace window (policy).
  const refusal = ledger.present(record);
  if (refusal) throw invalidGrant(REFUSALS[refusal], 'refresh_token');
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
  const lineage = { fromCode: record.fromCode, family: record.family };
  let refreshToken = token;
  if (rt.config.rotateRefreshTokens) {
    ledger.rotate(record);
    refreshToken = rt.state.issueRefreshToken(grant, lineage).token;
  }
  const access = rt.state.issueAccessToken(grant, rt.provider.accessTokenTtlSeconds, lineage);
  ledger.countGranted(rt.provider.dialect.id);
  return { grant, access, refreshToken };
}

function grant(rt: ProviderRuntime, flow: FlowDialect, params: Params, client: ResolvedClient) {
  const grantType = required(params, 'grant_type');
  if (grantType === 'authorization_code') return authorizationCodeGrant(rt, flow, params, client);
  if (grantType === 'refresh_token') return refreshTokenGrant(rt, flow, params, client);
  throw new SandboxError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
}

/** After a `lost_answer` fault: destroys the connection instead of answering, and counts it. */
function loseAnswer(rt: ProviderRuntime, res: Response): boolean {
  if (!answerLost(res)) return false;
  rt.state.refreshTokens.countLostAnswer(rt.provider.dialect.id);
  return true;
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
  let issued;
  try {
    if (bodyError) throw bodyError;
    issued = grant(rt, flow, params, authenticateClient(req, params, flow.clientAuth, clientsOf(rt)));
  } catch (e) {
    // `lost_answer`: the work is done (or refused); whatever the answer was, it never arrives.
    if (loseAnswer(rt, res)) return;
    throw e;
  }
  if (loseAnswer(rt, res)) return;
  const body = flow.tokenResponse({
    accessToken: issued.access.token,
    refreshToken: issued.refreshToken,
    expiresIn: rt.provider.accessTokenTtlSeconds,
    grant: issued.grant,
  });
  // RFC 6749 section 5.1: token responses must not be cached.
  res.status(200).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
}
