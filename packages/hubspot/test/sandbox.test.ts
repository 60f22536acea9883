import { sandboxEndpoints, sandboxLogin, startSandbox } from '@passport-martech/sandbox';
import { HubSpotProfile, HubSpotStrategy, HubSpotStrategyOptions } from '../src';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

/** HubSpot's endpoints in the sandbox, from its dialect (the one place sandbox paths are written). */
function endpoints(sandbox: Sandbox): { authorizationURL: string; tokenURL: string; userProfileURL: string } {
  const { authorizationURL, tokenURL, userProfileURL } = sandboxEndpoints(sandbox.url, 'hubspot');
  return { authorizationURL: authorizationURL as string, tokenURL: tokenURL as string, userProfileURL: userProfileURL as string };
}
type Outcome = { kind: 'success'; user: unknown; profile: HubSpotProfile } | { kind: 'fail' | 'error'; detail: unknown };

/** One login through the strategy against the sandbox, so each version and profile source is seen on the wire. */
async function login(options: Partial<HubSpotStrategyOptions> & { passReqToCallback?: false }, sandbox: Sandbox): Promise<Outcome> {
  let profile: HubSpotProfile | undefined;
  const strategy = new HubSpotStrategy(
    {
      clientID: 'demo-hubspot-client',
      clientSecret: 'demo-hubspot-secret',
      callbackURL: 'http://127.0.0.1:3999/auth/hubspot/callback',
      authorizationURL: endpoints(sandbox).authorizationURL,
      ...options,
    },
    (_accessToken, _refreshToken, p, done) => {
      profile = p;
      done(null, { id: p.id });
    },
  );
  const outcome = await sandboxLogin(strategy);
  return outcome.kind === 'success' ? { ...outcome, profile: profile as HubSpotProfile } : outcome;
}

describe('HubSpot against the sandbox', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ autoApprove: true });
  });
  afterAll(() => sandbox.close());
  beforeEach(() => sandbox.reset());

  it.each([
    ['2026-03', '/oauth/2026-03/token', '/oauth/2026-03/token/introspect'],
    ['v3', '/oauth/v3/token', '/oauth/v3/token/introspect'],
    ['v1', '/oauth/v1/token', '/oauth/v1/access-tokens'],
  ] as const)('apiVersion %s: token and introspection profile (email, domain, hub, app, scopes)', async (apiVersion, tokenPath, identityPath) => {
    const outcome = await login(
      { apiVersion, tokenURL: `${sandbox.url}/hubspot${tokenPath}`, userProfileURL: `${sandbox.url}/hubspot${identityPath}`, scope: ['crm.objects.contacts.read'] },
      sandbox,
    );
    expect(outcome.kind).toBe('success');
    const { profile } = outcome as Extract<Outcome, { kind: 'success' }>;
    expect(profile).toMatchObject({
      provider: 'hubspot',
      id: expect.stringMatching(/^\d+$/),
      displayName: expect.stringContaining('@'),
      emails: [{ value: expect.stringContaining('@') }],
      hubId: expect.any(Number),
      hubDomain: expect.any(String),
      appId: expect.any(Number),
      scopes: expect.arrayContaining(['oauth', 'crm.objects.contacts.read']),
    });
    expect(JSON.stringify(profile)).not.toMatch(/"token"/);
    expect(sandbox.stats().hubspot).toMatchObject({ token: 1, identity: 1 });
    // The identity answer carries signed_access_token (signature, newSignature): none of it is kept.
    expect(profile._json).not.toHaveProperty('signed_access_token');
    expect(profile._raw).not.toMatch(/signed_access_token|ignature/);
  });

  it('the identity answer the strategy reads does carry signed_access_token (so the check above can fail)', async () => {
    const strategy = new HubSpotStrategy(
      { clientID: 'demo-hubspot-client', clientSecret: 'demo-hubspot-secret', callbackURL: 'http://127.0.0.1:3999/auth/hubspot/callback', tokenURL: endpoints(sandbox).tokenURL, pkce: false },
      () => undefined,
    );
    const authorize = new URL(endpoints(sandbox).authorizationURL);
    authorize.search = new URLSearchParams({ response_type: 'code', client_id: 'demo-hubspot-client', redirect_uri: 'http://127.0.0.1:3999/auth/hubspot/callback', scope: 'oauth', state: 's' }).toString();
    const code = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location') as string).searchParams.get('code') as string;
    const tokens = await strategy.tokenClient.exchangeCode(code, { redirectURI: 'http://127.0.0.1:3999/auth/hubspot/callback' });
    const response = await fetch(endpoints(sandbox).userProfileURL, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'demo-hubspot-client', client_secret: 'demo-hubspot-secret', token: tokens.accessToken }),
    });
    expect(await response.json()).toMatchObject({ active: true, signed_access_token: { signature: expect.any(String), newSignature: expect.any(String) } });
  });

  it("profileSource 'token': the profile from the token response, one upstream call per login", async () => {
    const outcome = await login(
      { profileSource: 'token', tokenURL: endpoints(sandbox).tokenURL, userProfileURL: endpoints(sandbox).userProfileURL },
      sandbox,
    );
    expect(outcome.kind).toBe('success');
    const { profile } = outcome as Extract<Outcome, { kind: 'success' }>;
    expect(profile).toMatchObject({ provider: 'hubspot', id: expect.stringMatching(/^\d+$/), hubId: expect.any(Number), emails: [] });
    expect(profile._raw).not.toMatch(/"(access|refresh)_token":/);
    expect(sandbox.stats().hubspot).toMatchObject({ token: 1, identity: 0 });
  });

  it('an introspection failure is a typed error, not a crash', async () => {
    sandbox.addFault({ provider: 'hubspot', endpoint: 'identity', fault: 'http503' });
    const outcome = await login(
      { tokenURL: endpoints(sandbox).tokenURL, userProfileURL: endpoints(sandbox).userProfileURL },
      sandbox,
    );
    expect(outcome).toMatchObject({ kind: 'error', detail: { status: 503 } });
    expect(String((outcome as { detail: Error }).detail.message)).not.toContain('demo-hubspot-secret');
  });
});
