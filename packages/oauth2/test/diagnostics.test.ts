import diagnosticsChannel from 'node:diagnostics_channel';
import { CHANNELS, ProviderRequestEvent, TokenClient } from '../src/provider-kit';
import { FakeServer, freePort, sendJson, startFakeServer } from './helpers';

const SECRET = 'diag-client-secret-7731';
const REFRESH = 'diag-refresh-token-5521';
const ACCESS = 'diag-access-token-9034';
const SECRETS = [SECRET, REFRESH, ACCESS];

let provider: FakeServer;
beforeAll(async () => {
  provider = await startFakeServer();
});
afterAll(() => provider.close());

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';

/** Subscribes to every phase of the provider-request tracing channel; records copies of the context. */
function record(): { events: { phase: Phase; context: ProviderRequestEvent & { error?: unknown; result?: unknown } }[]; stop(): void } {
  const channel = diagnosticsChannel.tracingChannel(CHANNELS.providerRequest);
  const events: { phase: Phase; context: ProviderRequestEvent }[] = [];
  const handlers = Object.fromEntries(
    (['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as Phase[]).map((phase) => [phase, (context: unknown) => void events.push({ phase, context: { ...(context as ProviderRequestEvent) } })]),
  ) as Record<Phase, (context: unknown) => void>;
  channel.subscribe(handlers);
  return { events, stop: () => channel.unsubscribe(handlers) };
}

function client(path: string): TokenClient {
  return new TokenClient({ tokenURL: `${provider.url}${path}?tenant=abc`, clientID: 'diag-client', clientSecret: SECRET, provider: 'acme' });
}

test('a token request publishes start and asyncEnd with provider, grant type, endpoint (no query), status and duration', async () => {
  provider.route('POST', '/token', (_req, res) => sendJson(res, 200, { access_token: ACCESS, refresh_token: 'next-rt', expires_in: 1800 }));
  const { events, stop } = record();
  try {
    await client('/token').refresh(REFRESH);
  } finally {
    stop();
  }
  expect(events.map((e) => e.phase)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
  const done = events[3].context;
  expect(done).toMatchObject({ provider: 'acme', kind: 'token', grantType: 'refresh_token', method: 'POST', endpoint: `${provider.url}/token`, status: 200 });
  expect(done.durationMs).toBeGreaterThan(0);
  expect(done.errorCode).toBeUndefined();
  // The answer (it holds tokens) is not put on the context.
  expect(done).not.toHaveProperty('result', expect.anything());
  const text = JSON.stringify(events);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
});

test('a rejected refresh publishes the error event with the status and the stable error code', async () => {
  provider.route('POST', '/token-bad', (_req, res) => sendJson(res, 400, { error: 'invalid_grant', error_description: `token ${REFRESH} revoked` }));
  const { events, stop } = record();
  try {
    await expect(client('/token-bad').refresh(REFRESH)).rejects.toMatchObject({ code: 'invalid_grant' });
  } finally {
    stop();
  }
  const failed = events.find((e) => e.phase === 'error');
  expect(failed?.context).toMatchObject({ kind: 'token', grantType: 'refresh_token', status: 400, errorCode: 'invalid_grant' });
  expect(events.map((e) => e.phase)).toContain('asyncEnd');
  for (const secret of SECRETS) expect(JSON.stringify(events.map((e) => ({ ...e.context, error: undefined })))).not.toContain(secret);
  // The error the subscriber sees is the typed, redacted one.
  expect(String((failed?.context as { error?: Error }).error?.message)).not.toContain(REFRESH);
});

test('a transport failure publishes a code and no status', async () => {
  const port = await freePort();
  const unreachable = new TokenClient({ tokenURL: `http://127.0.0.1:${port}/token`, clientID: 'diag-client', clientSecret: SECRET, provider: 'acme' });
  const { events, stop } = record();
  try {
    await expect(unreachable.refresh(REFRESH)).rejects.toBeInstanceOf(Error);
  } finally {
    stop();
  }
  const failed = events.find((e) => e.phase === 'error');
  expect(failed?.context.status).toBeUndefined();
  expect(typeof failed?.context.errorCode).toBe('string');
});

test('with no subscriber nothing is published and no context is built', async () => {
  provider.route('POST', '/token', (_req, res) => sendJson(res, 200, { access_token: ACCESS, expires_in: 1800 }));
  // Subscribed once and left again: the channel exists but has no subscriber.
  record().stop();
  const channel = diagnosticsChannel.tracingChannel(CHANNELS.providerRequest);
  const traces = jest.spyOn(channel, 'tracePromise');
  const phases = (['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const).map((phase) => jest.spyOn(diagnosticsChannel.channel(`tracing:${CHANNELS.providerRequest}:${phase}`), 'publish'));
  try {
    await client('/token').refresh(REFRESH);
    expect(traces).not.toHaveBeenCalled();
    for (const publish of phases) expect(publish).not.toHaveBeenCalled();
  } finally {
    traces.mockRestore();
    for (const publish of phases) publish.mockRestore();
  }
});

test('a token in the path of a request (HubSpot v1 identity style) does not reach the event', async () => {
  provider.route('GET', `/identity/${ACCESS}`, (_req, res) => sendJson(res, 200, { user: 'ada@example.com' }));
  const { events, stop } = record();
  try {
    const { requestProvider } = await import('../src/provider-kit');
    await requestProvider(
      { url: `${provider.url}/identity/${encodeURIComponent(ACCESS)}`, method: 'GET', timeout: 5000, secrets: [ACCESS], label: 'Profile request', provider: 'acme', kind: 'profile' },
      (response) => response.status,
    );
  } finally {
    stop();
  }
  const done = events.find((e) => e.phase === 'asyncEnd')?.context;
  expect(done?.endpoint).toBe(`${provider.url}/identity/[redacted]`);
  expect(JSON.stringify(events)).not.toContain(ACCESS);
});
