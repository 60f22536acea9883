/**
 * The token-traffic channels as the example shows them: /metrics (Prometheus text, behind a bearer token)
 * and OpenTelemetry-shaped spans, from a real login and API call against the sandbox.
 */
import request from 'supertest';
import { traceTokenTraffic, type SpanTracer } from '../src/instrumentation';
import { csrfFrom, login, useStack } from './helpers';

const METRICS_TOKEN = 'metrics-token-0123456789-abcdefghijklmnop';
const stack = useStack({ env: { METRICS_TOKEN }, logLevel: 'silent' });

async function signedInCall(): Promise<void> {
  const agent = request.agent(stack.app.app);
  await login(agent, 'hubspot');
  const page = await agent.get('/account');
  const call = await agent.post('/account/hubspot/api').type('form').send({ _csrf: csrfFrom(page.text) });
  expect(call.status).toBe(200);
}

test('/metrics answers only the bearer token, with counters of the token traffic and no token values', async () => {
  await signedInCall();
  for (const authorization of [undefined, 'Bearer wrong', `Basic ${METRICS_TOKEN}`]) {
    const refused = request(stack.app.app).get('/metrics');
    if (authorization) refused.set('Authorization', authorization);
    expect((await refused).status).toBe(404);
  }
  const res = await request(stack.app.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
  expect(res.status).toBe(200);
  expect(res.type).toBe('text/plain');
  expect(res.text).toContain('# TYPE martech_provider_requests_total counter');
  expect(res.text).toMatch(/martech_provider_requests_total\{provider="hubspot",kind="token",outcome="200"\} [1-9]/);
  expect(res.text).toMatch(/martech_provider_requests_total\{provider="hubspot",kind="profile",outcome="200"\} [1-9]/);
  expect(res.text).not.toMatch(/access_token|refresh_token|Bearer/);
});

test('a refresh shows as a flight and a refresh_token request', async () => {
  const agent = request.agent(stack.app.app);
  const { accountId } = await loginAndExpire(agent);
  await stack.app.tokens.getAccessToken(accountId, 'hubspot');
  const res = await request(stack.app.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
  expect(res.text).toMatch(/martech_refresh_flights_total\{provider="hubspot",trigger="expiry",outcome="refreshed"\} [1-9]/);
});

test('spans: one per provider request and per refresh flight, ended with the outcome', async () => {
  const spans: { name: string; attributes: Record<string, unknown>; status?: { code: number }; ended: boolean }[] = [];
  const tracer: SpanTracer = {
    startSpan(name, options) {
      const span = { name, attributes: { ...options.attributes } as Record<string, unknown>, status: undefined as { code: number } | undefined, ended: false };
      spans.push(span);
      return {
        setAttribute: (key, value) => void (span.attributes[key] = value),
        setStatus: (status) => void (span.status = status),
        end: () => void (span.ended = true),
      };
    },
  };
  const stop = traceTokenTraffic(tracer);
  try {
    const agent = request.agent(stack.app.app);
    const { accountId } = await loginAndExpire(agent);
    await stack.app.tokens.getAccessToken(accountId, 'hubspot');
  } finally {
    stop();
  }
  expect(spans.every((s) => s.ended)).toBe(true);
  expect(spans.find((s) => s.name === 'hubspot token' && s.attributes['oauth.grant_type'] === 'authorization_code')).toBeDefined();
  expect(spans.find((s) => s.name === 'refresh hubspot')?.attributes).toMatchObject({ 'refresh.outcome': 'refreshed', 'refresh.attempts': 1 });
});

/** Signs in with HubSpot and makes the stored access token look expired (at the sandbox too). */
async function loginAndExpire(agent: ReturnType<typeof request.agent>): Promise<{ accountId: string }> {
  await login(agent, 'hubspot');
  const accountId = /<dt>Account id<\/dt><dd>([^<]+)<\/dd>/.exec((await agent.get('/account')).text)?.[1] as string;
  const stored = await stack.app.tokens.get(accountId, 'hubspot');
  if (!stored) throw new Error('no tokens stored after login');
  stack.sandbox.expire({ provider: 'hubspot', accessToken: stored.accessToken });
  await stack.app.tokens.save(accountId, 'hubspot', { ...stored, expiresAt: Date.now() - 1000 });
  return { accountId };
}
