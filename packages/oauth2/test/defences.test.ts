/**
 * The response defences seen through a whole login (the strategy, Express, a real provider on loopback),
 * a second line beside token-client.test.ts and unit.test.ts: the 1 MiB cap on streamed answers, 3xx
 * never followed on the profile request, and secrets echoed by the identity endpoint scrubbed.
 */
import type { ServerResponse } from 'node:http';
import request from 'supertest';
import { MemoryStateClaims, OAuthRequestError, SessionStateStore, TokenClient } from '../src/provider-kit';
import { createHash } from 'node:crypto';
import { InFlightLogins } from '../src/state-claims';
import { ACCESS_TOKEN, AUTH_CODE, CLIENT_SECRET, FakeServer, TestStrategy, buildApp, expectNoSecrets, fakeProviderForFile, startFakeServer } from './helpers';

const fake = fakeProviderForFile();

/** A body of `bytes` bytes sent in chunks without Content-Length (chunked encoding). */
function streamHuge(res: ServerResponse, bytes: number): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  const chunk = 'x'.repeat(64 * 1024);
  res.write('{"access_token":"');
  let sent = 0;
  const pump = () => {
    while (sent < bytes) {
      sent += chunk.length;
      // The client hangs up once over the cap: stop writing then.
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end('"}');
  };
  res.on('error', () => undefined);
  pump();
}

async function login(verify = (_a: string, _r: string, p: { id: string }, done: (e: unknown, u?: unknown) => void) => done(null, { id: p.id })) {
  const { app, errors } = buildApp(new TestStrategy(fake().url, {}, verify));
  const agent = request.agent(app);
  const start = await agent.get('/auth/test').expect(302);
  const state = new URL(start.headers.location as string).searchParams.get('state') as string;
  const res = await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state });
  return { res, errors, state };
}

describe('the 1 MiB cap, on answers that do not declare their length', () => {
  it('a streamed token answer over 1 MiB ends the login with OAUTH_UNEXPECTED_RESPONSE', async () => {
    fake().route('POST', '/oauth/token', (_req, res) => streamHuge(res, 3 * 1024 * 1024));
    const { res, errors } = await login();
    expect(res.status).toBe(500);
    expect(errors[0]).toBeInstanceOf(OAuthRequestError);
    expect(errors[0]).toMatchObject({ code: 'OAUTH_UNEXPECTED_RESPONSE', message: 'Token request failed: the answer is larger than 1048576 bytes' });
  });

  it('a streamed profile answer over 1 MiB too', async () => {
    fake().route('GET', '/userinfo', (_req, res) => streamHuge(res, 3 * 1024 * 1024));
    const { res, errors } = await login();
    expect(res.status).toBe(500);
    expect(errors[0]).toMatchObject({ code: 'OAUTH_UNEXPECTED_RESPONSE', message: 'Profile request failed: the answer is larger than 1048576 bytes' });
  });

  it('an answer just under the cap is read', async () => {
    fake().route('GET', '/userinfo', (_req, res) => {
      const body = JSON.stringify({ id: 7, pad: 'p'.repeat(1024 * 1024 - 100) });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    });
    const { res } = await login();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user: { id: '7' } });
  });
});

describe('3xx on the profile request', () => {
  let elsewhere: FakeServer;
  beforeAll(async () => {
    elsewhere = await startFakeServer();
  });
  afterAll(() => elsewhere.close());

  it('is OAUTH_UNEXPECTED_REDIRECT and the Location is never requested (the token would go with it)', async () => {
    fake().route('GET', '/userinfo', (_req, res) => {
      res.writeHead(307, { Location: `${elsewhere.url}/steal` });
      res.end();
    });
    const { res, errors } = await login();
    expect(res.status).toBe(500);
    expect(errors[0]).toMatchObject({ code: 'OAUTH_UNEXPECTED_REDIRECT', status: 307 });
    expect(elsewhere.requests).toEqual([]);
  });
});

describe('secrets echoed by the identity endpoint', () => {
  it('never reach the error: the token in a 401 body and in a header echo, the client secret in text', async () => {
    fake().route('GET', '/userinfo', (req, res) => {
      const body = JSON.stringify({ message: `token ${ACCESS_TOKEN} is bad`, seen: req.headers.authorization, hint: `client ${CLIENT_SECRET}` });
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(body);
    });
    const { res, errors, state } = await login();
    expect(res.status).toBe(500);
    expect(errors[0]).toMatchObject({ code: 'OAUTH_HTTP_ERROR', status: 401 });
    expectNoSecrets(errors[0], [ACCESS_TOKEN, CLIENT_SECRET, AUTH_CODE, state]);
    expect(res.text).not.toContain(ACCESS_TOKEN);
  });
});

describe('a Basic credential echoed without its "Basic " prefix', () => {
  it('is scrubbed from the error', async () => {
    fake().route('POST', '/oauth/token', (req, res) => {
      const credential = String(req.headers.authorization).slice('Basic '.length);
      const body = JSON.stringify({ error: 'invalid_client', error_description: `unknown credential ${credential}` });
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(body);
    });
    const client = new TokenClient({ tokenURL: `${fake().url}/oauth/token`, clientID: 'id', clientSecret: CLIENT_SECRET, clientAuthentication: 'client_secret_basic' });
    const error = await client.exchangeCode(AUTH_CODE).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_client', description: 'unknown credential [redacted]' });
    expectNoSecrets(error, [Buffer.from(`id:${CLIENT_SECRET}`).toString('base64'), CLIENT_SECRET, AUTH_CODE]);
  });
});

describe('SessionStateStore: a state already claimed with no login in flight here', () => {
  it('fails the state check even though the session still holds it (another process or an earlier copy won)', async () => {
    const localClaims = new MemoryStateClaims();
    const store = new SessionStateStore({ key: 'oauth2:test', localClaims, inFlight: new InFlightLogins() });
    const req = { session: {} } as never;
    const state = await new Promise<string>((resolve, reject) => store.store(req, undefined, undefined, {}, (err, s) => (err ? reject(err) : resolve(s as string))));
    // The process's own claim record is keyed by the state's digest.
    localClaims.claim(createHash('sha256').update(state).digest('base64url'), 60_000);
    const [ok, info] = await new Promise<[unknown, unknown]>((resolve) => store.verify(req, state, {}, (_err, result, details) => resolve([result, details])));
    expect(ok).toBe(false);
    expect(info).toEqual({ message: 'Unable to verify authorization request state: it is unknown, expired or already used.' });
  });
});
