import { MemoryTokenStore, RedisLock, RedisTokenStore, TokenManager, TokenRefresher, type RefreshErrorEvent } from '../src';
import { expired, hubspotStrategy, login, rawRefresh, refreshCount, providerAndRedisForFile } from './helpers/provider';
import { freePort } from './helpers/redis';

const world = providerAndRedisForFile();

function managerWith(strategy = hubspotStrategy(world.sandbox.url)): { manager: TokenManager; errors: RefreshErrorEvent[] } {
  const errors: RefreshErrorEvent[] = [];
  const manager = new TokenManager({ refresher: new TokenRefresher().use(strategy), store: new MemoryTokenStore(), onError: (e) => errors.push(e) });
  return { manager, errors };
}

test('revoke ends the grant at the provider, then forgets the tokens', async () => {
  const { manager, errors } = managerWith();
  const tokens = await login(world.sandbox.url);
  await manager.save('ada', 'hubspot', tokens);
  await expect(manager.revoke('ada', 'hubspot')).resolves.toEqual({ revoked: true, deleted: true });
  await expect(manager.get('ada', 'hubspot')).resolves.toBeUndefined();
  // The provider no longer honours the refresh token.
  const after = await rawRefresh(world.sandbox.url, tokens.refreshToken as string);
  expect(after).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  expect(errors).toEqual([]);
});

test('nothing stored: nothing revoked or deleted', async () => {
  const { manager } = managerWith();
  await expect(manager.revoke('nobody', 'hubspot')).resolves.toEqual({ revoked: false, deleted: false });
});

test('a provider that documents no revocation: a typed error in the result, the tokens deleted anyway', async () => {
  const { manager, errors } = managerWith(hubspotStrategy(world.sandbox.url, { apiVersion: 'v3', revocationURL: undefined }));
  const tokens = await login(world.sandbox.url);
  await manager.save('bo', 'hubspot', tokens);
  const result = await manager.revoke('bo', 'hubspot');
  expect(result).toMatchObject({ revoked: false, deleted: true, error: { code: 'OAUTH_REVOCATION_UNSUPPORTED' } });
  await expect(manager.get('bo', 'hubspot')).resolves.toBeUndefined();
  expect(errors.map((e) => e.reason)).toEqual(['revoke_failed']);
  // Not revoked: the grant still works at the provider.
  expect((await rawRefresh(world.sandbox.url, tokens.refreshToken as string)).status).toBe(200);
});

test('an unreachable provider with keepTokensOnError: rejects with the typed error and keeps the tokens; without it, deletes them', async () => {
  const port = await freePort();
  const { manager } = managerWith(hubspotStrategy(world.sandbox.url, { revocationURL: `http://127.0.0.1:${port}/revoke` }));
  const tokens = await login(world.sandbox.url);
  await manager.save('cy', 'hubspot', tokens);
  const refused = await manager.revoke('cy', 'hubspot', { keepTokensOnError: true }).catch((error: Error) => error);
  expect(refused).toMatchObject({ code: 'OAUTH_NETWORK' });
  for (const value of [tokens.accessToken, tokens.refreshToken as string]) expect(String((refused as Error).message)).not.toContain(value);
  await expect(manager.get('cy', 'hubspot')).resolves.toMatchObject({ refreshToken: tokens.refreshToken });
  await expect(manager.revoke('cy', 'hubspot')).resolves.toMatchObject({ revoked: false, deleted: true, error: { code: 'OAUTH_NETWORK' } });
  await expect(manager.get('cy', 'hubspot')).resolves.toBeUndefined();
});

describe('revoke beside a refresh: afterwards nothing is stored and no refresh token of the grant works', () => {
  async function race(revokeWhenRefreshReachedProvider: boolean) {
    const { manager } = managerWith();
    const tokens = await login(world.sandbox.url);
    world.sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
    await manager.save('dee', 'hubspot', expired(tokens));
    const before = refreshCount(world.sandbox);
    const refreshing = manager.getTokenSet('dee', 'hubspot');
    if (revokeWhenRefreshReachedProvider) while (refreshCount(world.sandbox) === before) await new Promise((resolve) => setTimeout(resolve, 1));
    const [refreshed, revoked] = await Promise.allSettled([refreshing, manager.revoke('dee', 'hubspot')]);
    expect(revoked).toEqual({ status: 'fulfilled', value: { revoked: true, deleted: true } });
    await expect(manager.get('dee', 'hubspot')).resolves.toBeUndefined();
    const presented = [tokens.refreshToken as string];
    if (refreshed.status === 'fulfilled') presented.push(refreshed.value.refreshToken as string);
    else expect(refreshed.reason).toMatchObject({ code: 'REAUTHENTICATION_REQUIRED' });
    for (const token of presented) expect((await rawRefresh(world.sandbox.url, token)).body).toMatchObject({ error: 'invalid_grant' });
    return refreshed.status;
  }

  test('revoke called as the refresh starts', async () => {
    await race(false);
  });

  test('revoke called while the refresh is at the provider: the refresh finishes first, its rotated token is the one revoked', async () => {
    await expect(race(true)).resolves.toBe('fulfilled');
  });
});

test('TokenRefresher.revoke: an unknown name is StrategyNotRegisteredError', async () => {
  await expect(new TokenRefresher().revoke('nope', 'x')).rejects.toMatchObject({ code: 'STRATEGY_NOT_REGISTERED' });
});

test('two processes sharing Redis: a refresh in the other one during a revoke waits for it, and ends with the tokens gone', async () => {
  const prefix = `revoke${Math.random()}:`;
  const make = () => {
    const client = world.redis.client();
    return new TokenManager({
      refresher: new TokenRefresher().use(hubspotStrategy(world.sandbox.url)),
      store: new RedisTokenStore({ client, prefix }),
      lock: new RedisLock({ client, ttlMs: 5000 }),
      lockWaitMs: 5000,
      lockPollMs: 10,
    });
  };
  const [here, there] = [make(), make()];
  for (let round = 0; round < 5; round++) {
    const user = `eve${round}`;
    const tokens = await login(world.sandbox.url);
    world.sandbox.expire({ provider: 'hubspot', accessToken: tokens.accessToken });
    await here.save(user, 'hubspot', expired(tokens));
    // The other process asks for a token just as (round 0) or a little after this one starts the revoke.
    const revoked = here.revoke(user, 'hubspot');
    await new Promise((resolve) => setTimeout(resolve, round * 3));
    const [refreshed, result] = await Promise.allSettled([there.getTokenSet(user, 'hubspot'), revoked]);
    expect(result).toEqual({ status: 'fulfilled', value: { revoked: true, deleted: true } });
    await expect(here.get(user, 'hubspot')).resolves.toBeUndefined();
    const presented = [tokens.refreshToken as string];
    if (refreshed.status === 'fulfilled') presented.push(refreshed.value.refreshToken as string);
    for (const token of presented) expect(world.sandbox.refreshTokenStatus('hubspot', token)).toMatchObject({ live: false });
  }
});
