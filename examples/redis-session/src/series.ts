/**
 * Several middlewares mounted as one. The router does work of its own for each middleware a request
 * passes (a path match, a params object, its dispatch and tracing checks), and for the few that run on
 * every request that costs about as much as they do (bench figure 3). Errors behave as between separate
 * layers: a middleware's `next(err)`, throw or rejected promise skips the rest and goes on to `next(err)`;
 * `next('route')` goes on to the following middleware, as it would to the following layer.
 */
import type { RequestHandler } from 'express';

export function series(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let index = 0;
    const step = (err?: unknown): void => {
      if (err === 'route') err = undefined;
      if (err || index === handlers.length) return next(err);
      const handler = handlers[index++]!;
      try {
        const returned: unknown = handler(req, res, step);
        if (returned instanceof Promise) returned.then(undefined, (rejection: unknown) => step(rejection || new Error('Rejected promise')));
      } catch (thrown) {
        step(thrown);
      }
    };
    step();
  };
}
