/**
 * Where secrets travel: endpoints must be https (loopback and an explicit opt-in excepted), and GETs
 * through the strategy's node-oauth client carry the token in a header, never in the URL.
 */
import { ProviderStrategyOptions, TokenClientOAuth2, checkEndpointURL, isLoopbackHost } from '../src/provider-kit';
import { ACCESS_TOKEN, CLIENT_SECRET, FakeServer, TestStrategy, sendJson, startFakeServer, testDefinition } from './helpers';

const verify = () => undefined;

describe('https is required for every endpoint but loopback ones', () => {
  const remote = 'http://auth.example.com:8080';

  it.each(['authorizationURL', 'tokenURL', 'userProfileURL'] as const)('%s on plain http to a remote host is refused, naming the option and host', (option) => {
    const url = `${remote}/path/with-${CLIENT_SECRET}?token=${ACCESS_TOKEN}`;
    let thrown: unknown;
    try {
      new TestStrategy('https://auth.example.com', { [option]: url }, verify);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    const message = (thrown as Error).message;
    expect(message).toContain(`option "${option}" must be an https: URL`);
    expect(message).toContain('host auth.example.com:8080');
    expect(message).toContain('allowInsecureHttp');
    expect(message).not.toContain(CLIENT_SECRET);
    expect(message).not.toContain(ACCESS_TOKEN);
    expect(message).not.toContain('/path');
  });

  it("a provider definition's own http default is refused the same way", () => {
    expect(() => new TestStrategy(remote, {}, verify)).toThrow(/option "authorizationURL" must be an https: URL \(got http: for host auth\.example\.com:8080\)/);
    expect(() => new TestStrategy('https://a.example', {}, verify, { refreshURL: `${remote}/refresh` })).toThrow(/option "refreshURL" must be an https: URL/);
  });

  it('https and loopback http are accepted without the opt-in', () => {
    for (const base of ['https://auth.example.com', 'http://localhost:4000', 'http://127.0.0.1:4000/x', 'http://127.8.9.10', 'http://[::1]:4000', 'http://LOCALHOST']) {
      expect(() => new TestStrategy(base, {}, verify)).not.toThrow();
    }
  });

  it('allowInsecureHttp: true accepts plain http on any host; anything but a boolean is refused', () => {
    const strategy = new TestStrategy(remote, { allowInsecureHttp: true }, verify);
    expect(strategy.provider.tokenURL).toBe(`${remote}/oauth/token`);
    expect(() => new TestStrategy(remote, { allowInsecureHttp: false }, verify)).toThrow(/must be an https: URL/);
    expect(() => new TestStrategy(remote, { allowInsecureHttp: 'yes' } as unknown as Partial<ProviderStrategyOptions>, verify)).toThrow(
      /option "allowInsecureHttp" must be true or false/,
    );
  });

  it('isLoopbackHost: only localhost, 127.0.0.0/8 and ::1', () => {
    const host = (url: string) => new URL(url).hostname;
    for (const url of ['http://localhost', 'http://127.0.0.1', 'http://127.255.0.1', 'http://127.1', 'http://[::1]', 'http://localhost.']) {
      expect([url, isLoopbackHost(host(url))]).toEqual([url, true]);
    }
    for (const url of ['http://localhost.evil.example', 'http://127.0.0.1.evil.example', 'http://128.0.0.1', 'http://0.0.0.0', 'http://[::2]', 'http://evil-localhost']) {
      expect([url, isLoopbackHost(host(url))]).toEqual([url, false]);
    }
  });

  it('checkEndpointURL returns the URL unchanged and refuses other schemes', () => {
    expect(checkEndpointURL('pkg', 'x', 'https://a.example/p?q=1')).toBe('https://a.example/p?q=1');
    expect(() => checkEndpointURL('pkg', 'x', 'ftp://a.example')).toThrow(/pkg: option "x" must be an http\(s\) URL/);
    expect(() => checkEndpointURL('pkg', 'x', 'http://a.example')).toThrow(TypeError);
    expect(checkEndpointURL('pkg', 'x', 'http://a.example', { allowInsecureHttp: true })).toBe('http://a.example');
  });

  it('the definition defaults of the test helper stay valid (sanity for the other suites)', () => {
    expect(testDefinition('https://a.example').tokenURL).toBe('https://a.example/oauth/token');
  });
});

describe("GETs through the strategy's _oauth2 (node-oauth's get, used by third-party helpers)", () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeServer();
    server.route('GET', '/api/me', (_req, res) => sendJson(res, 200, { ok: true }));
  });
  afterAll(() => server.close());

  it('carry Authorization: Bearer and no access_token in the URL', async () => {
    const strategy = new TestStrategy(server.url, {}, verify);
    const oauth2 = (strategy as unknown as { _oauth2: TokenClientOAuth2 })._oauth2;
    const body = await new Promise<string>((resolve, reject) =>
      oauth2.get(`${server.url}/api/me?page=2`, ACCESS_TOKEN, (err, result) => (err ? reject(new Error(JSON.stringify(err))) : resolve(String(result)))),
    );
    expect(JSON.parse(body)).toEqual({ ok: true });
    const [sent] = server.requestsTo('/api/me');
    expect(sent?.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(sent?.path).toBe('/api/me?page=2');
    expect(sent?.path).not.toContain('access_token');
    expect(sent?.path).not.toContain(ACCESS_TOKEN);
  });

  it('so does a clone made the way passport-oauth2-refresh makes one', async () => {
    const strategy = new TestStrategy(server.url, {}, verify);
    const original = (strategy as unknown as { _oauth2: TokenClientOAuth2 })._oauth2;
    const Clone = original.constructor as new (...args: unknown[]) => TokenClientOAuth2;
    const clone = new Clone('id', 'secret', '', `${server.url}/oauth/authorize`, `${server.url}/oauth/token`, undefined);
    server.requests.length = 0;
    await new Promise<void>((resolve, reject) => clone.get(`${server.url}/api/me`, ACCESS_TOKEN, (err) => (err ? reject(new Error('get failed')) : resolve())));
    const [sent] = server.requestsTo('/api/me');
    expect(sent?.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(sent?.path).toBe('/api/me');
  });
});
