/** The example's building blocks, for tests and for reading. */
export { createApp, SESSION_COOKIE, SESSION_PREFIX, TOKEN_PREFIX, ACCOUNT_PREFIX } from './app';
export type { AppHandle, CreateAppOptions } from './app';
export { loadConfig, ConfigError } from './config';
export type { AppConfig } from './config';
export { ENV_VARS, SERVER_VARS, envTemplate } from './env-vars';
export { catalog, catalogEntry, isProviderId, PROVIDER_IDS } from './catalog';
export type { CatalogEntry, ProviderId } from './catalog';
export type { ProviderSettings } from './provider-config';
export { startServer } from './server';
export type { RunningServer } from './server';
export { startRedisServer, freePort, findOnPath } from './redis-server';
export type { PrivateRedis } from './redis-server';
export { safeReturnTo } from './security';
export { escapeHtml, html } from './html';
export { redactUrl } from './logging';
