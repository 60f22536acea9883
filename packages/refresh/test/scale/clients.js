/*
 * The ioredis client an app would build for each topology, from a JSON-able description (so a child
 * process builds the same one). The Sentinel options are the ones the refresh README recommends.
 */
const Redis = require('ioredis');

/**
 * Sentinel client options the README recommends: follow a failover as soon as the sentinels announce
 * it (+switch-master) instead of at the next reconnect, and drop a connection whose server answers
 * READONLY (a demoted master) so the next command asks the sentinels for the current master.
 */
const RECOMMENDED_SENTINEL_OPTIONS = {
  failoverDetector: true,
  reconnectOnError: (error) => /^READONLY/.test(error.message),
};

/**
 * `{ kind: 'cluster', nodes }` or `{ kind: 'sentinel', sentinels, name, options: 'recommended' | 'default' }`.
 */
function connect(topology) {
  let client;
  if (topology.kind === 'cluster') client = new Redis.Cluster(topology.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  else if (topology.kind === 'sentinel') {
    const options = topology.options === 'recommended' ? RECOMMENDED_SENTINEL_OPTIONS : {};
    client = new Redis({ sentinels: topology.sentinels, name: topology.name, ...options });
  } else throw new TypeError(`unknown topology ${JSON.stringify(topology)}`);
  client.on('error', () => undefined);
  return client;
}

module.exports = { connect, RECOMMENDED_SENTINEL_OPTIONS };
