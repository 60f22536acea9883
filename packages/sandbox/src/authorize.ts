/** The authorize endpoint, its consent page and the Approve/Deny decision (RFC 6749 section 4.1.1-4.1.2). */
import type { Request, Response } from 'express';
import { parseUrlEncodedCollecting, rawQuery, readParams, type Params } from './body';
import type { ResolvedClient } from './config';
import type { FlowDialect } from './dialect';
import { SandboxError } from './errors';
import { sendConsentPage, sendErrorPage } from './html';
import { readChallenge } from './pkce';
import { redirectToClient, redirectUriAllowed } from './redirect-uri';
import { clientsOf, issParam } from './mcp-server';
import { preamble, type ProviderRuntime } from './runtime';
import type { Authorization } from './state';

/** Shown instead of redirecting: the client or redirect URI cannot be trusted. */
class ErrorPage extends Error {}

/** Problems reported to the client by redirect. */
class RedirectError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

function splitScopes(value: string | undefined): string[] {
  return value ? value.split(' ').filter(Boolean) : [];
}

/** Client and redirect URI first: until both are known good, nothing may be redirected. */
function trustedClient(rt: ProviderRuntime, params: Params, repeated: string[]): { client: ResolvedClient; redirectUri: string } {
  for (const name of ['client_id', 'redirect_uri']) {
    if (repeated.includes(name)) throw new ErrorPage(`The ${name} parameter is repeated.`);
  }
  const clientId = params.get('client_id');
  if (!clientId) throw new ErrorPage('The client_id parameter is missing.');
  const client = clientsOf(rt).get(clientId);
  if (!client) throw new ErrorPage('Unknown client_id: no application is registered under it.');
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) throw new ErrorPage('The redirect_uri parameter is missing.');
  if (!redirectUriAllowed(client, redirectUri)) {
    throw new ErrorPage('The redirect_uri is not registered for this application.');
  }
  return { client, redirectUri };
}

function checkResource(resource: string | undefined): string {
  if (!resource) throw new RedirectError('invalid_request', 'resource is required (RFC 8707)');
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    throw new RedirectError('invalid_target', 'resource must be an absolute URI');
  }
  if (url.hash || resource.includes('#')) throw new RedirectError('invalid_target', 'resource must not have a fragment');
  return resource;
}

/** The rest of the request, now that errors can go back to the client. */
function validate(
  rt: ProviderRuntime,
  flow: FlowDialect,
  req: Request,
  params: Params,
  repeated: string[],
): Omit<Authorization, 'redirectUri' | 'state' | 'clientId'> {
  if (repeated.length) throw new RedirectError('invalid_request', `parameter "${repeated[0].slice(0, 40)}" is repeated`);
  const responseType = params.get('response_type');
  if (!responseType) throw new RedirectError('invalid_request', 'response_type is missing');
  if (responseType !== 'code') throw new RedirectError('unsupported_response_type', 'only response_type=code is supported');
  const requested = splitScopes(params.get('scope'));
  const missing = flow.requiredScopes.filter((s) => !requested.includes(s));
  if (missing.length) throw new RedirectError('invalid_scope', `scope must include ${missing.join(' ')}`);
  const optional = flow.optionalScopeParam ? splitScopes(params.get(flow.optionalScopeParam)) : [];
  const scopes = [...new Set([...requested, ...optional])];
  let challenge;
  try {
    challenge = readChallenge(params, flow.pkce);
  } catch (e) {
    throw new RedirectError('invalid_request', (e as SandboxError).description);
  }
  const resource = flow.resourceRequired ? checkResource(params.get('resource')) : undefined;
  const user = { ...rt.provider.user };
  const pinned: unknown = req.params.accountId;
  if (pinned !== undefined) {
    if (typeof pinned !== 'string') throw new RedirectError('invalid_request', 'malformed account id');
    if (!/^[1-9][0-9]{0,15}$/.test(pinned)) throw new RedirectError('invalid_request', 'the account id in the path must be a number');
    user.accountId = Number(pinned);
  }
  return { provider: rt.provider.dialect.id, flow: flow.name, scopes, user, resource, ...challenge };
}

export async function authorize(rt: ProviderRuntime, flow: FlowDialect, req: Request, res: Response): Promise<void> {
  const { dialect } = rt.provider;
  if (await preamble(rt, res, { countAs: 'authorize', faultsFor: ['authorize'], latency: false })) return;
  let trusted: { client: ResolvedClient; redirectUri: string } | undefined;
  let state: string | undefined;
  try {
    let parsed;
    try {
      parsed = parseUrlEncodedCollecting(rawQuery(req));
    } catch (e) {
      throw new ErrorPage(`Malformed request: ${(e as SandboxError).description}.`);
    }
    const { params, repeated } = parsed;
    trusted = trustedClient(rt, params, repeated);
    state = repeated.includes('state') ? undefined : params.get('state');
    const authorization: Authorization = {
      ...validate(rt, flow, req, params, repeated),
      clientId: trusted.client.clientId,
      redirectUri: trusted.redirectUri,
      state,
    };
    if (rt.config.autoApprove) {
      redirectToClient(res, authorization.redirectUri, { code: rt.state.issueCode(authorization), state, ...issParam(rt, flow, req) });
      return;
    }
    sendConsentPage(res, {
      providerName: dialect.displayName,
      clientName: trusted.client.name,
      userName: authorization.user.name,
      userEmail: authorization.user.email,
      scopes: authorization.scopes,
      redirectUri: authorization.redirectUri,
      action: `${req.baseUrl}${flow.authorizePaths[0]}/decision`,
      transactionId: rt.state.createTransaction(authorization),
    });
  } catch (e) {
    if (e instanceof ErrorPage) return sendErrorPage(res, 400, dialect.displayName, e.message);
    if (e instanceof RedirectError && trusted) {
      return redirectToClient(res, trusted.redirectUri, { error: e.error, error_description: e.description, state, ...issParam(rt, flow, req) });
    }
    throw e;
  }
}

/** The consent form's POST. Only the one-time transaction id is read from it; everything else was recorded. */
export async function decide(rt: ProviderRuntime, flow: FlowDialect, req: Request, res: Response): Promise<void> {
  const name = rt.provider.dialect.displayName;
  let params: Params;
  try {
    params = await readParams(req, 'form');
  } catch (e) {
    const err = e instanceof SandboxError ? e : new SandboxError(400, 'invalid_request', 'unreadable body');
    return sendErrorPage(res, err.status, name, `Malformed request: ${err.description}.`);
  }
  const id = params.get('transaction_id');
  const decision = params.get('decision');
  if (!id || (decision !== 'approve' && decision !== 'deny')) {
    return sendErrorPage(res, 400, name, 'Malformed decision: transaction_id and decision (approve or deny) are required.');
  }
  const authorization = rt.state.takeTransaction(rt.provider.dialect.id, id);
  if (!authorization || authorization.flow !== flow.name) {
    return sendErrorPage(res, 400, name, 'This authorization request is unknown, expired or already answered. Start again from the application.');
  }
  const { redirectUri, state } = authorization;
  if (decision === 'deny') {
    return redirectToClient(res, redirectUri, { error: 'access_denied', error_description: 'The user denied the request', state, ...issParam(rt, flow, req) });
  }
  redirectToClient(res, redirectUri, { code: rt.state.issueCode(authorization), state, ...issParam(rt, flow, req) });
}
