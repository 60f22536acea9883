#!/usr/bin/env node
/** `node dist/main.js`: the example server, configured from environment variables. */
import { ConfigError, loadConfig } from './config';
import { onShutdownSignal, startServer } from './server';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.message}\n\nSee examples/redis-session/README.md (or .env.example) for every variable.`);
      process.exit(1);
    }
    throw err;
  }
  const running = await startServer(config);
  running.handle.logger.info({ url: running.url, providers: Object.keys(config.providers) }, 'listening');
  onShutdownSignal(async (signal) => {
    running.handle.logger.info({ signal }, 'shutting down');
    await running.close();
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
