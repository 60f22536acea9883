/**
 * sandboxEndpoints and the dialect facts, for every provider and variant in the registry: the options it
 * returns point at routes the sandbox serves, under the provider's base, and a login driven only by the
 * facts and those URLs succeeds.
 */
import request from 'supertest';
import { allSandboxFacts, sandboxEndpoints, sandboxProviders, sandboxUserinfoURL, sandboxVariants, startSandbox, type RunningSandbox } from '../src';
import { PROVIDERS } from '../src/providers';
import type { ProviderDialect } from '../src/dialect';
import { pkcePair, REDIRECT_URI } from './helpers';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox({ autoApprove: true });
});
afterAll(() => sb.close());

/** Every path the engine routes for a dialect (the v1 path-token route without its `:token`). */
function servedPaths(d: ProviderDialect): string[] {
  const flows = d.flows.flatMap((f) => [
    ...f.authorizePaths,
    ...f.tokenPaths,
    ...(f.revocationPaths ?? []),
    ...(f.authorizationServer ? [f.authorizationServer.registrationPath, f.authorizationServer.revocationPath, f.authorizationServer.resourcePath] : []),
  ]);
  return [...flows, ...d.resources.map((r) => r.path.replace(/\/:token$/, '')), ...(d.clientCredentials ? [d.clientCredentials.path] : [])];
}

const cases = allSandboxFacts().flatMap((p) => p.variants.map((v) => ({ ...v, facts: p })));

test('the served ids are the registry keys, each dialect under its own key', () => {
  expect(sandboxProviders()).toEqual(Object.keys(PROVIDERS));
  for (const [key, dialect] of Object.entries(PROVIDERS)) expect(dialect.id).toBe(key);
  expect(allSandboxFacts().map((f) => f.id)).toEqual(sandboxProviders());
});

describe.each(cases)('$label', (c) => {
  test('every option is the variant itself or a URL under the provider base, leading to a served path', () => {
    const options = sandboxEndpoints(sb.url, c.provider, c.variant);
    const base = `${sb.url}/${c.provider}`;
    const served = servedPaths(PROVIDERS[c.provider]);
    expect(Object.keys(options).length).toBeGreaterThan(Object.keys(c.variant).length);
    for (const [name, value] of Object.entries(options)) {
      if (name in c.variant) {
        expect(value).toBe(c.variant[name]);
        continue;
      }
      expect(value === base || value.startsWith(`${base}/`)).toBe(true);
      const path = value.slice(base.length);
      // The base itself, or a path that is (or leads to) one the engine routes.
      expect(path === '' || served.some((p) => p === path || p.startsWith(`${path}/`))).toBe(true);
    }
    // A trailing slash on the base URL changes nothing.
    expect(sandboxEndpoints(`${sb.url}/`, c.provider, c.variant)).toEqual(options);
  });

  test('a login driven by the facts alone: authorize at authorizePath, token in tokenEncoding, PKCE and resource as required', async () => {
    const base = `/${c.provider}`;
    const pair = c.pkce.required ? pkcePair(c.pkce.methods[0]) : undefined;
    const resource = c.resourceRequired ? `${sb.url}${base}${c.authorizationServer?.resourcePath}` : undefined;
    const query: Record<string, string> = {
      client_id: c.facts.client.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      state: 'facts',
      ...(c.defaultScope.length ? { scope: c.defaultScope.join(' ') } : {}),
      ...(pair ? { code_challenge: pair.challenge, code_challenge_method: pair.method } : {}),
      ...(resource ? { resource } : {}),
    };
    const authorize = await request(sb.url).get(`${base}${c.authorizePath}`).query(query);
    expect(authorize.status).toBe(302);
    const code = new URL(authorize.headers.location as string).searchParams.get('code');
    expect(code).toEqual(expect.any(String));
    // The client authenticates as the facts say: in the body where the flow takes it, else HTTP Basic.
    const { clientId, clientSecret } = c.facts.client;
    const inBody = c.clientAuth.includes('client_secret_post') || !c.clientAuth.includes('client_secret_basic');
    const body = {
      grant_type: 'authorization_code', code: code as string, redirect_uri: REDIRECT_URI,
      ...(inBody ? { client_id: clientId, client_secret: clientSecret } : {}),
      ...(pair ? { code_verifier: pair.verifier } : {}),
      ...(resource ? { resource } : {}),
    };
    const basic = inBody ? {} : { Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` };
    // The URL a strategy gets (sandboxEndpoints), not a path written here.
    const tokenURL = new URL(sandboxEndpoints(sb.url, c.provider, c.variant).tokenURL ?? `${sb.url}${base}${PROVIDERS[c.provider].flows.find((f) => f.name === c.flow)?.tokenPaths[0]}`);
    const post = request(sb.url).post(tokenURL.pathname).set(basic);
    const token = c.tokenEncoding === 'json' ? await post.send(body) : await post.type('form').send(body);
    expect(token.status).toBe(200);
    expect(token.body.access_token).toEqual(expect.any(String));
    if (c.loginHasEmail && !('userProfileURL' in sandboxEndpoints(sb.url, c.provider, c.variant))) {
      expect(JSON.stringify(token.body)).toContain(c.facts.defaultUser.email);
    }
    // The other encoding is refused: the fact is what the sandbox enforces.
    const other = request(sb.url).post(tokenURL.pathname).set(basic);
    const refused = c.tokenEncoding === 'json' ? await other.type('form').send(body) : await other.send(body);
    expect(refused.status).toBe(415);
  });

  test('the sample API path is served', async () => {
    const res = await request(sb.url).get(`/${c.provider}${c.facts.apiPath}`);
    expect(res.status).not.toBe(404);
  });
});

test('variants are listed per provider and combine; unknown providers and variants are TypeErrors naming what is served', () => {
  for (const id of sandboxProviders()) {
    for (const variant of sandboxVariants(id)) expect(sandboxEndpoints(sb.url, id, variant)).toMatchObject(variant);
  }
  expect(() => sandboxEndpoints(sb.url, 'nobody')).toThrow(new TypeError(`@passport-martech/sandbox: unknown provider "nobody" (the sandbox serves ${sandboxProviders().join(', ')})`));
  expect(() => sandboxEndpoints(sb.url, 'toString')).toThrow(TypeError);
  const [withVariant] = sandboxProviders().filter((id) => sandboxVariants(id).length > 0);
  expect(() => sandboxEndpoints(sb.url, withVariant as string, { authServer: 'no-such-server' })).toThrow(/has no variant \{"authServer":"no-such-server"\}/);
});

test('the MCP variants point resource at the MCP resource the sandbox publishes', async () => {
  const mcp = cases.filter((c) => c.authorizationServer);
  expect(mcp.length).toBeGreaterThan(0);
  for (const c of mcp) {
    const { resource } = sandboxEndpoints(sb.url, c.provider, c.variant);
    const published = await request(sb.url).get(`/.well-known/oauth-protected-resource/${c.provider}${c.authorizationServer?.resourcePath}`);
    expect(published.body.resource).toBe(resource);
  }
});

test('sandboxUserinfoURL: the sandbox-only /userinfo of a dialect that has one, undefined otherwise', async () => {
  for (const id of sandboxProviders()) {
    const url = sandboxUserinfoURL(sb.url, id);
    if (url === undefined) continue;
    expect(url.startsWith(`${sb.url}/${id}/`)).toBe(true);
    expect((await request(url).get('')).status).toBe(401);
  }
  expect(sandboxProviders().map((id) => sandboxUserinfoURL(sb.url, id)).filter(Boolean).length).toBeGreaterThan(0);
});
