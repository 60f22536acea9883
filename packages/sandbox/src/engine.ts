/**
 * The one engine: turns a provider dialect table into an Express router. Nothing here knows a provider by
 * name; every difference is in the table (src/providers/<id>.ts).
 */
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { authorize, decide } from './authorize';
import { SandboxError, type ErrorShape } from './errors';
import { authorizationServerMetadata, issuerOf, protectedResourceMetadata, register, revokeToken } from './mcp-server';
import { bearerResource, clientCredentials, introspect, pathTokenResource } from './resources';
import { errorShapeFor, type ProviderRuntime } from './runtime';
import { token } from './token';

type Method = 'get' | 'post';
type Handler = (req: Request, res: Response) => Promise<void>;

/** Any thrown error as a SandboxError: a 4xx from Express (e.g. a bad %-escape in a path) stays a 4xx. */
export function toSandboxError(err: unknown): SandboxError {
  if (err instanceof SandboxError) return err;
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new SandboxError(status, 'invalid_request', 'malformed request');
  }
  return new SandboxError(500, 'server_error', 'internal sandbox error');
}

/** Renders any error in `shape`. Never logs: a stack trace could carry request data. */
export function errorHandler(shape: (res: Response) => ErrorShape): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const e = toSandboxError(err);
    // RFC 6749 section 5.2: a 401 after a Basic attempt names the scheme.
    if (e.status === 401 && e.basicAttempted) res.set('WWW-Authenticate', 'Basic realm="sandbox"');
    res.status(e.status).set('Cache-Control', 'no-store').json(shape(res)(e));
  };
}

/**
 * RFC 8414 section 3.1 and RFC 9728 section 3.1: for an issuer `<origin>/<id>` the metadata lives at
 * `<origin>/.well-known/oauth-authorization-server/<id>`, and for a resource `<origin>/<id>/mcp` at
 * `<origin>/.well-known/oauth-protected-resource/<id>/mcp`. Mounted at `/.well-known`.
 */
export function wellKnownRouter(runtimes: ProviderRuntime[]): express.Router {
  const router = express.Router();
  for (const rt of runtimes) {
    const { id } = rt.provider.dialect;
    for (const flow of rt.provider.dialect.flows) {
      const as = flow.authorizationServer;
      if (!as) continue;
      // The mount path of the sandbox app itself (when an app mounts it under a prefix) comes first.
      const issuer = (req: Request) => issuerOf(req, `${req.baseUrl.replace(/\/\.well-known$/, '')}/${id}`);
      router.get(`/oauth-authorization-server/${id}`, (req, res) => {
        res.json(authorizationServerMetadata(flow, as, issuer(req)));
      });
      router.get(`/oauth-protected-resource/${id}${as.resourcePath}`, (req, res) => {
        res.json(protectedResourceMetadata(as, issuer(req)));
      });
    }
  }
  return router;
}

export function providerRouter(rt: ProviderRuntime): express.Router {
  const router = express.Router();
  const methods = new Map<string, Set<string>>();
  const route = (method: Method, path: string, handler: Handler) => {
    router[method](path, handler);
    if (!methods.has(path)) methods.set(path, new Set());
    methods.get(path)?.add(method.toUpperCase());
  };
  const { dialect } = rt.provider;

  for (const flow of dialect.flows) {
    for (const path of flow.authorizePaths) route('get', path, (req, res) => authorize(rt, flow, req, res));
    route('post', `${flow.authorizePaths[0]}/decision`, (req, res) => decide(rt, flow, req, res));
    for (const path of flow.tokenPaths) route('post', path, (req, res) => token(rt, flow, req, res));
    for (const path of flow.revocationPaths ?? []) route('post', path, (req, res) => revokeToken(rt, flow, req, res));
    const as = flow.authorizationServer;
    if (as) {
      route('post', as.registrationPath, (req, res) => register(rt, flow, req, res));
      route('post', as.revocationPath, (req, res) => revokeToken(rt, flow, req, res));
      // The documents also answer under the issuer's own path (where OpenID-style clients look); the RFC 8414
      // and RFC 9728 locations (`/.well-known/...` inserted before the path) are served by wellKnownRouter.
      route('get', '/.well-known/oauth-authorization-server', async (req, res) => {
        res.json(authorizationServerMetadata(flow, as, issuerOf(req, req.baseUrl)));
      });
      route('get', `${as.resourcePath}/.well-known/oauth-protected-resource`, async (req, res) => {
        res.json(protectedResourceMetadata(as, issuerOf(req, req.baseUrl)));
      });
    }
  }
  for (const r of dialect.resources) {
    if (r.kind === 'bearer') route('get', r.path, (req, res) => bearerResource(rt, r, req, res));
    else if (r.kind === 'path-token') route('get', r.path, (req, res) => pathTokenResource(rt, r, req, res));
    else route('post', r.path, (req, res) => introspect(rt, r, req, res));
  }
  const cc = dialect.clientCredentials;
  if (cc) {
    // DOC: Marketo takes GET or POST here.
    route('get', cc.path, (req, res) => clientCredentials(rt, cc, req, res));
    route('post', cc.path, (req, res) => clientCredentials(rt, cc, req, res));
  }

  // A known path with another method: 405 with Allow, in the provider's shape.
  for (const [path, allowed] of methods) {
    const allow = [...allowed, ...(allowed.has('GET') ? ['HEAD'] : [])].join(', ');
    const notAllowed: RequestHandler = (_req, res) => {
      res.set('Allow', allow);
      throw new SandboxError(405, 'invalid_request', `method not allowed (use ${allow})`);
    };
    router.all(path, notAllowed);
  }
  router.use(() => {
    throw new SandboxError(404, 'not_found', `no such ${dialect.displayName} endpoint in the sandbox`);
  });
  router.use(errorHandler((res) => errorShapeFor(rt, res)));
  return router;
}
