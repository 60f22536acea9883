/** Shared test helpers: flow specs per provider, the consent round trip, token requests, error shapes. */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import type { ProviderId } from '../src';

export const REDIRECT_URI = 'http://localhost:3000/auth/callback';
/** State with characters that must survive unchanged. */
export const STATE = 'st 123/ü+=&x';

export type Shape = 'hubspot' | 'rfc6749' | 'customerio';

/** One authorization-code flow as a strategy would drive it. */
export interface FlowSpec {
  label: string;
  provider: ProviderId;
  authorizePath: string;
  tokenPath: string;
  encoding: 'form' | 'json';
  scope?: string;
  pkce?: 'S256' | 'plain';
  /** Extra parameters for both the authorize and the token request (MCP `resource`). */
  extra?: Record<string, string>;
  shape: Shape;
}

/**
 * The original five dialects' flows with the exact expectations their own tests check (HubSpot's extra
 * scope, the error shape). A new dialect brings its own test file; the registry-wide checks every dialect
 * gets without edits (served URLs, a login by its facts, the encoding it enforces) are in endpoints.test.ts.
 */
export const FLOWS: FlowSpec[] = [
  { label: 'hubspot', provider: 'hubspot', authorizePath: '/oauth/authorize', tokenPath: '/oauth/2026-03/token', encoding: 'form', scope: 'oauth crm.objects.contacts.read', shape: 'hubspot' },
  { label: 'marketo', provider: 'marketo', authorizePath: '/oauth/authorize', tokenPath: '/oauth/token', encoding: 'form', shape: 'rfc6749' },
  { label: 'ontraport', provider: 'ontraport', authorizePath: '/oauth2/auth', tokenPath: '/oauth2/token', encoding: 'json', shape: 'rfc6749' },
  {
    label: 'ontraport mcp', provider: 'ontraport', authorizePath: '/oauth/authorize', tokenPath: '/oauth/token', encoding: 'form',
    scope: 'mcp:tools', pkce: 'S256', extra: { resource: 'https://mcp.ontraport.com' }, shape: 'rfc6749',
  },
  { label: 'customerio', provider: 'customerio', authorizePath: '/oauth/authorize', tokenPath: '/v1/oauth/token', encoding: 'json', scope: 'full_access', shape: 'customerio' },
  {
    label: 'customerio mcp', provider: 'customerio', authorizePath: '/oauth2/authorize', tokenPath: '/oauth2/token', encoding: 'form',
    pkce: 'plain', extra: { resource: 'https://mcp.customer.io' }, shape: 'rfc6749',
  },
  { label: 'boomtown', provider: 'boomtown', authorizePath: '/oauth/authorize', tokenPath: '/oauth/token', encoding: 'json', scope: 'offline_access', shape: 'rfc6749' },
];

export const flow = (label: string): FlowSpec => {
  const spec = FLOWS.find((f) => f.label === label);
  if (!spec) throw new Error(`no flow ${label}`);
  return spec;
};

export const client = (provider: ProviderId) => ({
  client_id: `demo-${provider}-client`,
  client_secret: `demo-${provider}-secret`,
});

export function pkcePair(method: 'S256' | 'plain' = 'S256') {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return { verifier, challenge, method };
}

/** Authorize query for a spec (client, redirect, scope, state, PKCE, extras). */
export function authorizeQuery(spec: FlowSpec, overrides: Record<string, string | undefined> = {}, challenge?: { challenge: string; method: string }) {
  const q: Record<string, string | undefined> = {
    client_id: client(spec.provider).client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: spec.scope,
    state: STATE,
    ...(challenge ? { code_challenge: challenge.challenge, code_challenge_method: challenge.method } : {}),
    ...spec.extra,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<string, string>;
}

/** The consent page's form: where it posts and its transaction id. */
export function consentForm(html: string): { action: string; transactionId: string } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const transactionId = /name="transaction_id" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !transactionId) throw new Error('no consent form in page');
  return { action, transactionId };
}

/** GET authorize, then press Approve (or Deny); returns the redirect the client receives. */
export async function consent(
  base: string,
  spec: FlowSpec,
  options: { decision?: 'approve' | 'deny'; query?: Record<string, string> } = {},
): Promise<URL> {
  const page = await request(base).get(`/${spec.provider}${spec.authorizePath}`).query(options.query ?? authorizeQuery(spec));
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${page.headers.location ?? page.text}`);
  const form = consentForm(page.text);
  const decided = await request(base)
    .post(form.action)
    .type('form')
    .send({ transaction_id: form.transactionId, decision: options.decision ?? 'approve' });
  if (decided.status !== 302) throw new Error(`decision answered ${decided.status}`);
  return new URL(decided.headers.location);
}

/** A code for `spec`, with the PKCE verifier when the flow needs one. */
export async function obtainCode(base: string, spec: FlowSpec): Promise<{ code: string; verifier?: string }> {
  const pair = spec.pkce ? pkcePair(spec.pkce) : undefined;
  const location = await consent(base, spec, { query: authorizeQuery(spec, {}, pair) });
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code in ${location.search}`);
  return { code, verifier: pair?.verifier };
}

/** POST to the flow's token endpoint in the flow's encoding. */
export function tokenRequest(base: string, spec: FlowSpec, body: Record<string, string>, encoding = spec.encoding) {
  const req = request(base).post(`/${spec.provider}${spec.tokenPath}`);
  return encoding === 'json' ? req.set('Content-Type', 'application/json').send(JSON.stringify(body)) : req.type('form').send(body);
}

/** The code-exchange body for a spec. */
export function codeBody(spec: FlowSpec, code: string, verifier?: string): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    ...client(spec.provider),
    ...(verifier ? { code_verifier: verifier } : {}),
    ...spec.extra,
  };
}

/** Authorize + exchange: a token response body. */
export async function obtainTokens(base: string, spec: FlowSpec): Promise<{ access_token: string; refresh_token: string } & Record<string, unknown>> {
  const { code, verifier } = await obtainCode(base, spec);
  const res = await tokenRequest(base, spec, codeBody(spec, code, verifier));
  if (res.status !== 200) throw new Error(`token answered ${res.status}: ${res.text}`);
  return res.body;
}

/**
 * The OAuth error code from a body, checking the whole shape: HubSpot's legacy fields, Customer.io's
 * `meta.errors`, or plain RFC 6749.
 */
export function errorCode(shape: Shape, body: Record<string, unknown>): string {
  if (shape === 'hubspot') {
    expect(body).toEqual({
      status: expect.any(String),
      message: expect.any(String),
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      error: expect.any(String),
      error_description: body.message,
    });
    return body.error as string;
  }
  if (shape === 'customerio') {
    expect(body).toEqual({ meta: { errors: [expect.stringMatching(/^[a-z_]+: .+/)] } });
    return (body.meta as { errors: string[] }).errors[0].split(':')[0];
  }
  expect(body).toEqual({ error: expect.any(String), error_description: expect.any(String) });
  return body.error as string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
