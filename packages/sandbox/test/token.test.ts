/** The token endpoint: encodings, client authentication, PKCE, code reuse, redirect URI and resource checks. */
import request from 'supertest';
import { startSandbox, type RunningSandbox } from '../src';
import {
  FLOWS, REDIRECT_URI, authorizeQuery, client, codeBody, consent, errorCode, flow, obtainCode, obtainTokens, pkcePair, tokenRequest,
  type FlowSpec,
} from './helpers';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('body encoding is enforced', () => {
  test.each(FLOWS)('$label refuses the other encoding with 415 in its error shape', async (spec) => {
    const { code, verifier } = await obtainCode(sb.url, spec);
    const wrong = spec.encoding === 'json' ? 'form' : 'json';
    const refused = await tokenRequest(sb.url, spec, codeBody(spec, code, verifier), wrong);
    expect(refused.status).toBe(415);
    expect(errorCode(spec.shape, refused.body)).toBe('invalid_request');
    // The refused request did not spend the code.
    const accepted = await tokenRequest(sb.url, spec, codeBody(spec, code, verifier));
    expect(accepted.status).toBe(200);
  });

  test('text/plain and a non-UTF-8 charset are refused too', async () => {
    const plain = await request(sb.url).post('/boomtown/oauth/token').set('Content-Type', 'text/plain').send('grant_type=authorization_code');
    expect(plain.status).toBe(415);
    const latin1 = await request(sb.url).post('/hubspot/oauth/v3/token').set('Content-Type', 'application/x-www-form-urlencoded; charset=iso-8859-1').send('grant_type=x');
    expect(latin1.status).toBe(415);
    expect(latin1.body.status).toBe('BAD_REQUEST');
    const utf8 = await request(sb.url).post('/hubspot/oauth/v3/token').set('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8').send('grant_type=x&client_id=demo-hubspot-client&client_secret=demo-hubspot-secret');
    expect(utf8.status).toBe(400);
    expect(utf8.body.error).toBe('unsupported_grant_type');
  });

  test('an empty body names what is missing', async () => {
    const res = await request(sb.url).post('/ontraport/oauth2/token');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    const noGrant = await tokenRequest(sb.url, flow('boomtown'), client('boomtown'));
    expect(noGrant.status).toBe(400);
    expect(noGrant.body).toEqual({ error: 'invalid_request', error_description: 'grant_type is missing' });
  });
});

describe('client authentication', () => {
  test.each(FLOWS)('$label: wrong secret -> 401 invalid_client, code not spent', async (spec) => {
    const { code, verifier } = await obtainCode(sb.url, spec);
    const res = await tokenRequest(sb.url, spec, { ...codeBody(spec, code, verifier), client_secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(errorCode(spec.shape, res.body)).toBe('invalid_client');
    if (spec.shape === 'hubspot') expect(res.body.status).toBe('BAD_CLIENT_ID');
    expect(res.text).not.toContain('demo-');
    expect((await tokenRequest(sb.url, spec, codeBody(spec, code, verifier))).status).toBe(200);
  });

  test('unknown client_id -> 401 invalid_client', async () => {
    const spec = flow('customerio');
    const res = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'who', client_secret: 's' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ meta: { errors: ['invalid_client: unknown client_id'] } });
  });

  test.each(FLOWS.filter((f) => ['ontraport', 'customerio', 'boomtown'].includes(f.provider)))(
    '$label accepts HTTP Basic (RFC 6749 2.3.1)',
    async (spec) => {
      const { code, verifier } = await obtainCode(sb.url, spec);
      const { client_id: id, client_secret: secret, ...body } = codeBody(spec, code, verifier);
      const res = await tokenRequest(sb.url, spec, body).set('Authorization', basic(id, secret));
      expect(res.status).toBe(200);
      const wrong = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: res.body.refresh_token }).set('Authorization', basic(id, 'nope'));
      expect(wrong.status).toBe(401);
      expect(wrong.headers['www-authenticate']).toMatch(/^Basic/);
      // Two methods at once is refused.
      const both = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: res.body.refresh_token, client_secret: secret }).set('Authorization', basic(id, secret));
      expect(both.status).toBe(400);
      expect(errorCode(spec.shape, both.body)).toBe('invalid_request');
    },
  );

  test.each(['hubspot', 'marketo'])('%s refuses HTTP Basic', async (label) => {
    const spec = flow(label);
    const { code } = await obtainCode(sb.url, spec);
    const { client_id: id, client_secret: secret, ...body } = codeBody(spec, code);
    const res = await tokenRequest(sb.url, spec, body).set('Authorization', basic(id, secret));
    expect(res.status).toBe(401);
    expect(errorCode(spec.shape, res.body)).toBe('invalid_client');
  });

  test('malformed Basic credentials -> 401', async () => {
    const res = await tokenRequest(sb.url, flow('boomtown'), { grant_type: 'refresh_token', refresh_token: 'x' }).set('Authorization', 'Basic %%%');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  test.each(['ontraport mcp', 'customerio mcp'])('%s accepts a public client (none) because PKCE is required', async (label) => {
    const spec = flow(label);
    const { code, verifier } = await obtainCode(sb.url, spec);
    const { client_secret: _secret, ...body } = codeBody(spec, code, verifier);
    const res = await tokenRequest(sb.url, spec, body);
    expect(res.status).toBe(200);
    const refreshed = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: res.body.refresh_token, client_id: body.client_id });
    expect(refreshed.status).toBe(200);
  });

  test.each(['ontraport', 'customerio', 'boomtown', 'hubspot'])('%s guide flow refuses a client without secret', async (label) => {
    const spec = flow(label);
    const { code } = await obtainCode(sb.url, spec);
    const { client_secret: _secret, ...body } = codeBody(spec, code);
    const res = await tokenRequest(sb.url, spec, body);
    expect(res.status).toBe(401);
    expect(errorCode(spec.shape, res.body)).toBe('invalid_client');
  });
});

describe('authorization code checks', () => {
  test.each(FLOWS)('$label: a reused code is invalid_grant and revokes what it issued', async (spec) => {
    const { code, verifier } = await obtainCode(sb.url, spec);
    const first = await tokenRequest(sb.url, spec, codeBody(spec, code, verifier));
    expect(first.status).toBe(200);
    const again = await tokenRequest(sb.url, spec, codeBody(spec, code, verifier));
    expect(again.status).toBe(400);
    expect(errorCode(spec.shape, again.body)).toBe('invalid_grant');
    if (spec.shape === 'hubspot') expect(again.body.status).toBe('BAD_AUTH_CODE');
    const refresh = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, ...client(spec.provider) });
    expect(refresh.status).toBe(400);
  });

  test.each(FLOWS)('$label: redirect_uri must match the authorize one', async (spec) => {
    const { code, verifier } = await obtainCode(sb.url, spec);
    const res = await tokenRequest(sb.url, spec, { ...codeBody(spec, code, verifier), redirect_uri: 'http://localhost:3000/other' });
    expect(res.status).toBe(400);
    expect(errorCode(spec.shape, res.body)).toBe('invalid_grant');
  });

  test('unknown code, missing code and missing redirect_uri', async () => {
    const spec = flow('hubspot');
    const unknown = await tokenRequest(sb.url, spec, codeBody(spec, 'not-a-code'));
    expect(unknown.body).toMatchObject({ status: 'BAD_AUTH_CODE', error: 'invalid_grant' });
    const { code: _c, ...noCode } = codeBody(spec, 'x');
    expect((await tokenRequest(sb.url, spec, noCode)).body.error).toBe('invalid_request');
    const { redirect_uri: _r, ...noRedirect } = codeBody(spec, 'x');
    expect((await tokenRequest(sb.url, spec, noRedirect)).body.error).toBe('invalid_request');
  });

  test('a code is bound to its client', async () => {
    const other = await startSandbox({ clients: { boomtown: [client2('a'), client2('b')] } });
    try {
      const spec = flow('boomtown');
      const location = await consent(other.url, spec, { query: authorizeQuery(spec, { client_id: 'a' }) });
      const code = location.searchParams.get('code') as string;
      const res = await tokenRequest(other.url, spec, { ...codeBody(spec, code), client_id: 'b', client_secret: 'b-secret' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    } finally {
      await other.close();
    }
  });

  test('a code from one flow is not accepted at another flow of the same provider', async () => {
    const mcp = flow('ontraport mcp');
    const { code, verifier } = await obtainCode(sb.url, mcp);
    const res = await tokenRequest(sb.url, flow('ontraport'), codeBody(mcp, code, verifier), 'json');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  test('unsupported grant type', async () => {
    for (const spec of [flow('hubspot'), flow('customerio'), flow('marketo')]) {
      const res = await tokenRequest(sb.url, spec, { grant_type: 'password', ...client(spec.provider) });
      expect(res.status).toBe(400);
      expect(errorCode(spec.shape, res.body)).toBe('unsupported_grant_type');
    }
  });
});

describe('PKCE', () => {
  async function codeWith(spec: FlowSpec, method: 'S256' | 'plain') {
    const pair = pkcePair(method);
    const location = await consent(sb.url, spec, { query: authorizeQuery(spec, {}, pair) });
    return { code: location.searchParams.get('code') as string, verifier: pair.verifier };
  }

  test.each([
    ['hubspot', 'S256'],
    ['marketo', 'plain'],
    ['boomtown', 'S256'],
    ['customerio mcp', 'plain'],
    ['ontraport mcp', 'S256'],
  ] as const)('%s %s: the right verifier works', async (label, method) => {
    const spec = flow(label);
    const { code, verifier } = await codeWith(spec, method);
    expect((await tokenRequest(sb.url, spec, codeBody(spec, code, verifier))).status).toBe(200);
  });

  test.each(FLOWS)('$label: a wrong verifier is invalid_grant and spends the code', async (spec) => {
    const { code, verifier } = await codeWith(spec, spec.pkce ?? 'S256');
    const wrong = await tokenRequest(sb.url, spec, codeBody(spec, code, pkcePair().verifier));
    expect(wrong.status).toBe(400);
    expect(errorCode(spec.shape, wrong.body)).toBe('invalid_grant');
    expect((await tokenRequest(sb.url, spec, codeBody(spec, code, verifier))).status).toBe(400);
  });

  test('a missing verifier is invalid_grant', async () => {
    const spec = flow('customerio');
    const { code } = await codeWith(spec, 'S256');
    const res = await tokenRequest(sb.url, spec, codeBody(spec, code));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ meta: { errors: ['invalid_grant: code_verifier is required (PKCE)'] } });
  });

  test('a verifier without a recorded challenge is refused (downgrade protection)', async () => {
    const spec = flow('boomtown');
    const { code } = await obtainCode(sb.url, spec);
    const res = await tokenRequest(sb.url, spec, codeBody(spec, code, pkcePair().verifier));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });
});

describe('MCP resource (RFC 8707)', () => {
  test.each(['ontraport mcp', 'customerio mcp'])('%s: resource required on token and must equal the authorize one', async (label) => {
    const spec = flow(label);
    const a = await obtainCode(sb.url, spec);
    const { resource: _r, ...noResource } = codeBody(spec, a.code, a.verifier);
    const missing = await tokenRequest(sb.url, spec, noResource);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const b = await obtainCode(sb.url, spec);
    const other = await tokenRequest(sb.url, spec, { ...codeBody(spec, b.code, b.verifier), resource: 'https://other.example' });
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_target');
  });
});

describe('refresh', () => {
  test('refresh may narrow the scope, never widen it', async () => {
    const spec = flow('hubspot');
    const tokens = await obtainTokens(sb.url, spec);
    const wider = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'oauth tickets', ...client('hubspot') });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
    const narrower = await tokenRequest(sb.url, spec, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, scope: 'oauth', ...client('hubspot') });
    expect(narrower.status).toBe(200);
    expect(narrower.body.scopes).toEqual(['oauth']);
  });

  test('a refresh token is bound to its provider and flow', async () => {
    const tokens = await obtainTokens(sb.url, flow('boomtown'));
    const res = await tokenRequest(sb.url, flow('ontraport'), { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...client('ontraport') });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    const hub = await tokenRequest(sb.url, flow('hubspot'), { grant_type: 'refresh_token', refresh_token: 'nope', ...client('hubspot') });
    expect(hub.body).toMatchObject({ status: 'BAD_REFRESH_TOKEN', error: 'invalid_grant' });
  });
});

function client2(id: string) {
  return { clientId: id, clientSecret: `${id}-secret`, redirectUris: [REDIRECT_URI] };
}
