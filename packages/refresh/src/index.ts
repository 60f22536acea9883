import { TokenRefresher } from './refresher';

export { TokenRefresher, AuthTokenRefresh, fromNodeOAuthError } from './refresher';
export type {
  NodeOAuth2Like,
  RefreshParams,
  RefreshableStrategy,
  RequestNewAccessTokenCallback,
  TokenRefresherOptions,
  UseOptions,
} from './refresher';
export { TokenManager, isInvalidGrant, isTransient } from './manager';
export { ANSWER_LIMITS, ASSUMED_LIFETIME_MS } from './answer';
export type {
  FetchOptions,
  RefreshErrorEvent,
  RefreshErrorReason,
  RefreshEvent,
  RefreshTrigger,
  Refresher,
  RetryEvent,
  RevokeOptions,
  RevokeResult,
  RetryOptions,
  ScheduleOptions,
  TokenManagerOptions,
  TokenRejectedCheck,
} from './manager-options';
export {
  RefreshError,
  RefreshErrorCode,
  ReauthenticationRequiredError,
  RefreshLockTimeoutError,
  StrategyNotRegisteredError,
  isReauthenticationRequired,
} from './errors';
export type { ReauthenticationReason, RefreshErrorCodeValue } from './errors';
export type { TokenStore } from './stores/types';
export { MemoryTokenStore } from './stores/memory';
export type { MemoryTokenStoreOptions } from './stores/memory';
export { RedisTokenStore, ReplicaAckError } from './stores/redis';
export type { CorruptRecordReason, CorruptRecordReport, RedisTokenStoreOptions } from './stores/redis';
export { encryptionKeyId } from './crypto';
export type { EncryptionKey } from './crypto';
export { RedisLock } from './lock';
export type { RedisLockOptions, RefreshLock } from './lock';
export type { RedisClient } from './redis';
export { ensureAccessToken } from './express';
export type { EnsureAccessTokenOptions } from './express';
export { RefreshScheduler } from './scheduler';
export { REFRESH_CHANNELS } from './diagnostics';
export type { LockEvent, RefreshFlightEvent, SchedulerPassEvent } from './diagnostics';
export type { RefreshSchedulerOptions, SchedulerPassResult } from './scheduler';
export { unauthorizedStatus } from './rejection';
export { storeKey, parseStoreKey } from './keys';
export type { TokenSet } from '@passport-martech/oauth2';

/**
 * The ready instance, as passport-oauth2-refresh's default export:
 * `import refresh from '@passport-martech/refresh'; refresh.use(strategy);`.
 */
const refresh: TokenRefresher = new TokenRefresher();
export default refresh;

/*
 * CommonJS: `require('@passport-martech/refresh')` is the instance itself, as
 * `require('passport-oauth2-refresh')` is, and it carries every named export (`.TokenManager`,
 * `.AuthTokenRefresh`, ...) and `.default` (itself, with `__esModule`, so compiled `import refresh from`
 * and `import { TokenManager } from` resolve the same way).
 */
Object.defineProperties(refresh, Object.getOwnPropertyDescriptors(exports));
module.exports = refresh;
