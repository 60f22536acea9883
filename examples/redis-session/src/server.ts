/** Listening and graceful shutdown around createApp. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppHandle, type CreateAppOptions } from './app';
import type { AppConfig } from './config';

export interface RunningServer {
  /** The URL people open (config.baseUrl). */
  url: string;
  /** The port actually listened on. */
  port: number;
  server: Server;
  handle: AppHandle;
  /** Stop taking connections, let in-flight requests finish (up to `graceMs`), then quit Redis. */
  close(graceMs?: number): Promise<void>;
}

export interface StartServerOptions extends CreateAppOptions {
  /** How long to wait for Redis before listening anyway (it then answers 503 until Redis is up). */
  redisWaitMs?: number;
}

export async function startServer(config: AppConfig, options: StartServerOptions = {}): Promise<RunningServer> {
  const handle = createApp(config, options);
  try {
    await handle.ready(options.redisWaitMs ?? Math.max(2000, config.redisConnectTimeoutMs * 2));
  } catch {
    handle.logger.warn('Redis is not reachable yet; pages that need a session answer 503 until it is');
  }
  const server = createServer(
    {
      // Node's defaults let a client take 5 minutes to send one request (requestTimeout 300 s, checked
      // only every 30 s): a few hundred connections trickling a body hold the server. These are the limits
      // a reverse proxy puts on its clients (README "Connections and timeouts").
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // How often Node looks for requests past those limits (its default, 30 s, would let a request run
      // up to 30 s over them); a cheap scan of the connections in flight.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    handle.app,
  );
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  // Beyond the cap a new connection is closed at once, before any of its bytes are read.
  if (config.maxConnections > 0) server.maxConnections = config.maxConnections;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await handle.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: config.baseUrl,
    port,
    server,
    handle,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.closeAllConnections(), graceMs);
          // Keep-alive sockets would hold close() open: drop each one as soon as it is idle, so
          // requests in flight finish and nothing else waits.
          const sweep = setInterval(() => server.closeIdleConnections(), 50);
          force.unref();
          sweep.unref();
          server.close(() => {
            clearTimeout(force);
            clearInterval(sweep);
            resolve();
          });
          server.closeIdleConnections();
        });
        await handle.close();
      })();
      return closing;
    },
  };
}

/** Runs `stop` on SIGINT/SIGTERM, once; a second signal exits at once. */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    stop(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
