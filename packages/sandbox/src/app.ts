/** createSandbox: the Express app with every provider mounted under `/<id>`. */
import express, { type Express } from 'express';
import { resolveConfig } from './config';
import { controlRouter } from './control';
import { errorHandler, providerRouter, wellKnownRouter } from './engine';
import { SandboxError, rfc6749Shape } from './errors';
import { SandboxState } from './state';
import type { SandboxOptions } from './types';
import { PROVIDER_IDS } from './types';

export interface Sandbox {
  /** Mount it, or listen on it yourself (`startSandbox` does that for you). */
  app: Express;
  /** Stats, audit, faults, settings, reset, expire, revoke and refresh-token status, as methods. */
  state: SandboxState;
}

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const config = resolveConfig(options);
  let state: SandboxState;
  try {
    state = new SandboxState(options.faults ?? [], config.refreshTokenReuse);
  } catch (e) {
    const why = e instanceof SandboxError ? e.description : String(e);
    throw new TypeError(`@passport-martech/sandbox: faults: ${why}`, { cause: e });
  }
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Parameters are parsed strictly by the sandbox itself (src/body.ts).
  app.set('query parser', false);

  app.use('/_sandbox', controlRouter(state));
  const runtimes = PROVIDER_IDS.map((id) => ({ provider: config.providers[id], config, state }));
  app.use('/.well-known', wellKnownRouter(runtimes));
  for (const rt of runtimes) app.use(`/${rt.provider.dialect.id}`, providerRouter(rt));
  app.get('/', (_req, res) => {
    res.json({
      name: 'passport-martech sandbox',
      providers: Object.fromEntries(PROVIDER_IDS.map((id) => [id, `/${id}`])),
      control: '/_sandbox',
    });
  });
  app.use(() => {
    throw new SandboxError(404, 'not_found', `no such route; providers live under /${PROVIDER_IDS.join(', /')}`);
  });
  app.use(errorHandler(() => rfc6749Shape));
  return { app, state };
}
