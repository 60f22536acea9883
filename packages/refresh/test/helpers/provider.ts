/** The sandbox as a real HubSpot, and the real authorization-code flow to get a first token set. */
import { HubSpotStrategy, type HubSpotStrategyOptions } from '@passport-martech/hubspot';
import type { TokenSet } from '@passport-martech/oauth2';
import { sandboxEndpoints, sandboxFacts, startSandbox, type RunningSandbox, type StartOptions } from '@passport-martech/sandbox';
import { startRedis, type RedisServer } from './redis';

export const CLIENT_ID = 'demo-hubspot-client';
export const CLIENT_SECRET = 'demo-hubspot-secret';
export const CALLBACK_URL = 'http://127.0.0.1:3999/cb';

/** HubSpot's endpoints in a sandbox at `url`, from its dialect (the one place sandbox paths are written). */
export function hubspotEndpoints(url: string): { authorizationURL: string; tokenURL: string; userProfileURL: string; revocationURL: string } {
  const { authorizationURL, tokenURL, userProfileURL, revocationURL } = sandboxEndpoints(url, 'hubspot');
  return { authorizationURL, tokenURL, userProfileURL, revocationURL } as { authorizationURL: string; tokenURL: string; userProfileURL: string; revocationURL: string };
}

/** HubSpot's sample API endpoint (Bearer) in a sandbox at `url`. */
export function hubspotApiURL(url: string): string {
  return `${url}/hubspot${sandboxFacts('hubspot').apiPath}`;
}

export function hubspotOptions(url: string, extra: Partial<HubSpotStrategyOptions> = {}): HubSpotStrategyOptions & { passReqToCallback?: false } {
  return {
    clientID: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    callbackURL: CALLBACK_URL,
    ...hubspotEndpoints(url),
    pkce: false,
    ...extra,
    passReqToCallback: false,
  };
}

export function hubspotStrategy(url: string, extra: Partial<HubSpotStrategyOptions> = {}): HubSpotStrategy {
  return new HubSpotStrategy(hubspotOptions(url, extra), (_accessToken, _refreshToken, _profile, done) => done(null, false));
}

/** Follows the sandbox's (auto-approved) authorize redirect and reads the code from its Location. */
export async function authorizationCode(url: string): Promise<string> {
  const authorize = new URL(hubspotEndpoints(url).authorizationURL);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: CALLBACK_URL,
    scope: 'oauth',
    state: 'test-state',
  }).toString();
  const response = await fetch(authorize, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) throw new Error(`authorize answered ${response.status} without a redirect`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}

/** A first token set by the real authorization-code flow, through the strategy's own token client. */
export async function login(url: string, strategy: HubSpotStrategy = hubspotStrategy(url)): Promise<TokenSet> {
  return strategy.tokenClient.exchangeCode(await authorizationCode(url), { redirectURI: CALLBACK_URL });
}

/** The same token set, as if it had been received long ago (expired by our clock). */
export function expired(tokens: TokenSet): TokenSet {
  return { ...tokens, expiresAt: Date.now() - 1000 };
}

export async function startProvider(options: StartOptions = {}): Promise<RunningSandbox> {
  return startSandbox({ autoApprove: true, rotateRefreshTokens: true, ...options });
}

export const refreshCount = (sandbox: RunningSandbox): number => sandbox.stats().hubspot.refresh;

/** A refresh_token grant straight at the sandbox: proves a refresh token is (still) good. */
export async function rawRefresh(url: string, refreshToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(hubspotEndpoints(url).tokenURL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * The sandbox and a private Redis for one test file: started before its tests, stopped after. Read the
 * fields inside tests (they are set in beforeAll).
 */
export function providerAndRedisForFile(): { readonly sandbox: RunningSandbox; readonly redis: RedisServer } {
  const world = {} as { sandbox: RunningSandbox; redis: RedisServer };
  beforeAll(async () => {
    [world.sandbox, world.redis] = await Promise.all([startProvider(), startRedis()]);
  });
  afterAll(async () => {
    await Promise.all([world.sandbox?.close(), world.redis?.stop()]);
  });
  return world;
}
