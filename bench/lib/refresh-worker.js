'use strict';
/**
 * One "app process" of figure 2. Parent -> { id, mode: 'ours' | 'ours-nolock' | 'baseline', url, prefix,
 * userKey, callers }; worker -> { id, wallMs, ok, failures, distinctTokens }.
 * REDIS_URL: the shared Redis.
 */
const Redis = require('ioredis');
const { ourClient, baselineClient, runCallers } = require('./refresh-clients');
const { serveRequests } = require('./util');

const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });

serveRequests(async ({ mode, url, prefix, userKey, callers }) => {
  const client =
    mode === 'baseline' ? baselineClient({ url, redis, prefix }) : ourClient({ url, redis, prefix, lock: mode === 'ours' });
  return runCallers(client, userKey, callers);
});

const stop = () => redis.quit().catch(() => redis.disconnect()).finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('disconnect', stop);
redis.once('ready', () => process.send({ ready: true }));
