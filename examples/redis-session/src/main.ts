#!/usr/bin/env node
/**
 * `node dist/main.js`: the example server, configured from environment variables.
 * `node dist/main.js --print-env`: prints a `.env` template with every variable, each provider's included.
 */
import { ConfigError, loadConfig } from './config';
import { envTemplate } from './env-vars';
import { onShutdownSignal, startServer } from './server';

async function main(): Promise<void> {
  if (process.argv.includes('--print-env')) {
    process.stdout.write(envTemplate());
    return;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.message}\n\nSee examples/redis-session/README.md for the variables; "node examples/redis-session/dist/main.js --print-env" lists every one.`);
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
