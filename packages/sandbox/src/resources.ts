/** Identity and sample-API endpoints, and Marketo's client-credentials endpoint. */
import type { Request, Response } from 'express';
import { queryParams, readParams, readRawBody } from './body';
import { authenticateClient } from './client-auth';
import type {
  BearerResource,
  ClientCredentialsDialect,
  IntrospectContext,
  IntrospectResource,
  PathTokenResource,
  ResourceAnswer,
} from './dialect';
import { SandboxError, invalidClient, invalidRequest } from './errors';
import { preamble, type ProviderRuntime } from './runtime';
import { clientsOf } from './mcp-server';
import { secondsLeft } from './state';

/** RFC 6750 section 2.1 `b64token`. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function send(res: Response, answer: ResourceAnswer): void {
  res.status(answer.status ?? 200).set(answer.headers ?? {}).json(answer.body);
}

/** Looks the token up and answers with the route's render or its "unauthorized" answer. */
function answerForToken(rt: ProviderRuntime, res: Response, route: BearerResource | PathTokenResource, token: string | undefined): void {
  if (token === undefined) return send(res, route.unauthorized('missing'));
  const record = rt.state.findAccessToken(rt.provider.dialect.id, token);
  if (!record) return send(res, route.unauthorized('invalid'));
  const expiresIn = secondsLeft(record.expiresAt);
  if (expiresIn === 0) return send(res, route.unauthorized('expired'));
  let rateLimit;
  if (route.kind === 'bearer' && route.rateLimit) {
    const { limit, windowMs } = route.rateLimit;
    const window = rt.state.rateWindow(`${rt.provider.dialect.id}:${route.path}`, windowMs);
    rateLimit = { limit, remaining: Math.max(0, limit - window.used), resetSeconds: Math.ceil((window.resetsAt - Date.now()) / 1000) };
  }
  send(res, route.render({ token, grant: record, user: record.user, expiresIn, rateLimit }));
}

export async function bearerResource(rt: ProviderRuntime, route: BearerResource, req: Request, res: Response): Promise<void> {
  if (await preamble(rt, res, { countAs: route.endpoint, faultsFor: [route.endpoint], latency: true })) return;
  const refused = route.checkRequest?.(req.headers);
  if (refused) return send(res, refused);
  const header = req.headers.authorization;
  const match = header ? BEARER.exec(header) : null;
  // A present but malformed header is an invalid token, not a missing one.
  answerForToken(rt, res, route, match ? match[1] : header ? '' : undefined);
}

export async function pathTokenResource(rt: ProviderRuntime, route: PathTokenResource, req: Request, res: Response): Promise<void> {
  if (await preamble(rt, res, { countAs: route.endpoint, faultsFor: [route.endpoint], latency: true })) return;
  answerForToken(rt, res, route, String(req.params.token));
}

/** RFC 7662: the client authenticates; an unknown or expired token is `active: false`, not an error. */
export async function introspect(rt: ProviderRuntime, route: IntrospectResource, req: Request, res: Response): Promise<void> {
  let params;
  let bodyError: unknown;
  try {
    params = await readParams(req, 'form');
  } catch (e) {
    bodyError = e;
  }
  if (await preamble(rt, res, { countAs: 'identity', faultsFor: ['identity'], latency: true })) return;
  if (bodyError || !params) throw bodyError;
  authenticateClient(req, params, ['client_secret_post'], clientsOf(rt));
  const token = params.get('token');
  if (token === undefined) throw invalidRequest('token is missing');
  const id = rt.provider.dialect.id;
  let ctx: IntrospectContext | undefined;
  const access = rt.state.findAccessToken(id, token);
  const refresh = rt.state.findRefreshToken(id, token);
  if (access && secondsLeft(access.expiresAt) > 0) {
    ctx = { token, grant: access, user: access.user, tokenType: 'access', expiresIn: secondsLeft(access.expiresAt) };
  } else if (refresh) {
    ctx = { token, grant: refresh, user: refresh.user, tokenType: 'refresh' };
  }
  res.set('Cache-Control', 'no-store');
  send(res, route.render(ctx));
}

/**
 * Marketo's client-credentials endpoint (DOC): parameters in the QUERY string, GET or POST. A POST body is
 * still read (and size-limited) so a client that put the parameters there is told where they belong.
 */
export async function clientCredentials(rt: ProviderRuntime, cc: ClientCredentialsDialect, req: Request, res: Response): Promise<void> {
  let bodyBytes = 0;
  let bodyError: unknown;
  if (req.method === 'POST') {
    try {
      bodyBytes = (await readRawBody(req)).length;
    } catch (e) {
      bodyError = e;
    }
  }
  if (await preamble(rt, res, { countAs: 'clientCredentials', faultsFor: ['clientCredentials'], latency: true })) return;
  if (bodyError) throw bodyError;
  const params = queryParams(req);
  const grantType = params.get('grant_type');
  if (grantType === undefined) {
    throw invalidRequest(bodyBytes > 0 ? 'parameters go in the query string, not the body' : 'grant_type is missing');
  }
  if (grantType !== 'client_credentials') {
    throw new SandboxError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
  }
  const clientId = params.get('client_id');
  const client = clientId === undefined ? undefined : clientsOf(rt).get(clientId);
  // DOC: one answer for every credential problem.
  if (!client) throw invalidClient('Bad client credentials');
  try {
    authenticateClient(req, params, ['client_secret_post'], clientsOf(rt));
  } catch {
    throw invalidClient('Bad client credentials');
  }
  const user = rt.provider.user;
  const record = rt.state.clientCredentialsToken(
    { provider: rt.provider.dialect.id, flow: 'client_credentials', clientId: client.clientId, scopes: [user.email], user },
    rt.provider.accessTokenTtlSeconds,
  );
  res
    .status(200)
    .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
    .json(cc.render({ accessToken: record.token, expiresIn: secondsLeft(record.expiresAt), user }));
}
