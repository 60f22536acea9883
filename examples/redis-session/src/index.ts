/** The example's building blocks, for tests and for reading. */
export { createApp, SESSION_COOKIE, SESSION_PREFIX, TOKEN_PREFIX, ACCOUNT_PREFIX } from './app';
export type { AppHandle, CreateAppOptions } from './app';
export { loadConfig, ConfigError, ENV_VARS, PROVIDER_IDS, PROVIDER_INFO } from './config';
export type { AppConfig, ProviderId, ProviderSettings } from './config';
export { startServer } from './server';
export type { RunningServer } from './server';
export { startRedisServer, freePort, findOnPath } from './redis-server';
export type { PrivateRedis } from './redis-server';
export { safeReturnTo } from './security';
export { escapeHtml, html } from './html';
export { redactUrl } from './logging';
