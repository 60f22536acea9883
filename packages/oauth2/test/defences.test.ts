/**
 * The response defences seen through a whole login (the strategy, Express, a real provider on loopback),
 * a second line beside token-client.test.ts and unit.test.ts: the 1 MiB cap on streamed answers, 3xx
 * never followed on the profile request, and secrets echoed by the identity endpoint scrubbed.
 */
import type { ServerResponse } from 'node:http';
import request from 'supertest';
import { OAuthRequestError } from '../src';
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
