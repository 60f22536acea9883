/** The authorize endpoint: consent page, Approve/Deny, autoApprove and RFC 6749 4.1.2.1 error handling. */
import request from 'supertest';
import { startSandbox, type RunningSandbox } from '../src';
import { FLOWS, REDIRECT_URI, STATE, authorizeQuery, consent, consentForm, flow, pkcePair } from './helpers';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox({ users: { marketo: { name: '<script>alert("x")</script> & Co' } } });
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const get = (path: string, query: Record<string, string>) => request(sb.url).get(path).query(query);
const redirectParams = (res: { headers: Record<string, string> }) => new URL(res.headers.location).searchParams;

describe('consent page', () => {
  test('names the client and scopes, escapes HTML, and offers exactly Approve and Deny', async () => {
    const spec = flow('marketo');
    const res = await get('/marketo/oauth/authorize', authorizeQuery(spec, { scope: 'leads <b>bold</b>' }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.text).toContain('passport-martech demo');
    expect(res.text).toContain('<code>leads</code>');
    expect(res.text).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(res.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    expect(res.text).not.toMatch(/<script|<b>/);
    const buttons = [...res.text.matchAll(/<button[^>]*>([^<]*)<\/button>/g)].map((m) => m[1]);
    expect(buttons).toEqual(['Approve', 'Deny']);
    expect(consentForm(res.text).action).toBe('/marketo/oauth/authorize/decision');
  });

  test.each(FLOWS)('$label: Approve redirects with a code and the unchanged state', async (spec) => {
    const location = await consent(sb.url, spec, { query: authorizeQuery(spec, {}, spec.pkce ? pkcePair(spec.pkce) : undefined) });
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}/);
    expect(location.searchParams.get('state')).toBe(STATE);
  });

  test('Deny redirects with access_denied and the state, no code', async () => {
    const location = await consent(sb.url, flow('boomtown'), { decision: 'deny' });
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe(STATE);
    expect(location.searchParams.has('code')).toBe(false);
  });

  test('the transaction id is one-time and nothing else is read from the form', async () => {
    const spec = flow('customerio');
    const page = await get('/customerio/oauth/authorize', authorizeQuery(spec));
    const { action, transactionId } = consentForm(page.text);
    const first = await request(sb.url)
      .post(action)
      .type('form')
      .send({ transaction_id: transactionId, decision: 'approve', redirect_uri: 'http://evil.example/', state: 'forged' });
    expect(first.status).toBe(302);
    expect(first.headers.location.startsWith(`${REDIRECT_URI}?`)).toBe(true);
    expect(redirectParams(first).get('state')).toBe(STATE);
    const second = await request(sb.url).post(action).type('form').send({ transaction_id: transactionId, decision: 'approve' });
    expect(second.status).toBe(400);
    expect(second.headers.location).toBeUndefined();
    expect(second.text).toContain('already answered');
  });

  test('a decision with an unknown transaction or a bad decision value is an error page', async () => {
    const unknown = await request(sb.url).post('/hubspot/oauth/authorize/decision').type('form').send({ transaction_id: 'nope', decision: 'approve' });
    expect(unknown.status).toBe(400);
    expect(unknown.headers['content-type']).toMatch(/^text\/html/);
    const bad = await request(sb.url).post('/hubspot/oauth/authorize/decision').type('form').send({ transaction_id: 'x', decision: 'maybe' });
    expect(bad.status).toBe(400);
    const json = await request(sb.url).post('/hubspot/oauth/authorize/decision').send({ transaction_id: 'x', decision: 'approve' });
    expect(json.status).toBe(415);
    expect(json.headers['content-type']).toMatch(/^text\/html/);
  });

  test('a transaction of one provider cannot be decided at another', async () => {
    const page = await get('/boomtown/oauth/authorize', authorizeQuery(flow('boomtown')));
    const { transactionId } = consentForm(page.text);
    const res = await request(sb.url).post('/customerio/oauth/authorize/decision').type('form').send({ transaction_id: transactionId, decision: 'approve' });
    expect(res.status).toBe(400);
  });
});

describe('autoApprove', () => {
  test('authorize redirects with a code at once; the code works', async () => {
    const auto = await startSandbox({ autoApprove: true });
    try {
      const spec = flow('hubspot');
      const res = await request(auto.url).get('/hubspot/oauth/authorize').query(authorizeQuery(spec));
      expect(res.status).toBe(302);
      const params = redirectParams(res);
      expect(params.get('state')).toBe(STATE);
      const token = await request(auto.url).post('/hubspot/oauth/v3/token').type('form').send({
        grant_type: 'authorization_code', code: params.get('code'), redirect_uri: REDIRECT_URI, client_id: 'demo-hubspot-client', client_secret: 'demo-hubspot-secret',
      });
      expect(token.status).toBe(200);
      // Errors are still errors.
      const bad = await request(auto.url).get('/hubspot/oauth/authorize').query(authorizeQuery(spec, { scope: 'contacts' }));
      expect(redirectParams(bad).get('error')).toBe('invalid_scope');
    } finally {
      await auto.close();
    }
  });
});

describe('errors shown as a page, never redirected (bad client or redirect URI)', () => {
  const spec = flow('hubspot');
  test.each([
    ['unknown client_id', { client_id: 'who' }],
    ['missing client_id', { client_id: undefined }],
    ['missing redirect_uri', { redirect_uri: undefined }],
    ['unregistered host', { redirect_uri: 'http://evil.example/cb' }],
    ['https is not loopback http', { redirect_uri: 'https://localhost/cb' }],
    ['look-alike host', { redirect_uri: 'http://localhost.evil.example/cb' }],
    ['userinfo in URI', { redirect_uri: 'http://user@127.0.0.1/cb' }],
    ['fragment', { redirect_uri: 'http://127.0.0.1/cb#x' }],
    ['not a URL', { redirect_uri: 'not a url' }],
  ])('%s', async (_name, overrides) => {
    const res = await get('/hubspot/oauth/authorize', authorizeQuery(spec, overrides));
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toMatch(/client_id|redirect_uri/);
  });

  test('repeated redirect_uri', async () => {
    const res = await request(sb.url).get(
      `/hubspot/oauth/authorize?client_id=demo-hubspot-client&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code&scope=oauth`,
    );
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  test('loopback variants are allowed without registration', async () => {
    for (const uri of ['http://127.0.0.1:8080/cb', 'http://[::1]:9/x?y=1', 'http://localhost/cb']) {
      const res = await get('/hubspot/oauth/authorize', authorizeQuery(spec, { redirect_uri: uri }));
      expect(res.status).toBe(200);
    }
  });

  test('registered redirect URIs must match exactly', async () => {
    const strict = await startSandbox({ clients: { marketo: [{ clientId: 'c', clientSecret: 's', redirectUris: ['https://app.example/cb'] }] } });
    try {
      const ok = await request(strict.url).get('/marketo/oauth/authorize').query({ client_id: 'c', redirect_uri: 'https://app.example/cb', response_type: 'code' });
      expect(ok.status).toBe(200);
      for (const uri of ['https://app.example/cb/', 'https://app.example/cb?x=1', 'http://localhost/cb']) {
        const bad = await request(strict.url).get('/marketo/oauth/authorize').query({ client_id: 'c', redirect_uri: uri, response_type: 'code' });
        expect(bad.status).toBe(400);
        expect(bad.headers.location).toBeUndefined();
      }
    } finally {
      await strict.close();
    }
  });
});

describe('errors redirected with error and the unchanged state', () => {
  test.each([
    ['hubspot', { response_type: 'token' }, 'unsupported_response_type'],
    ['hubspot', { response_type: undefined }, 'invalid_request'],
    ['hubspot', { scope: 'crm.objects.contacts.read' }, 'invalid_scope'],
    ['hubspot', { scope: undefined }, 'invalid_scope'],
    ['customerio', { scope: 'read' }, 'invalid_scope'],
    ['boomtown', { scope: 'leads' }, 'invalid_scope'],
    ['ontraport mcp', { scope: 'other' }, 'invalid_scope'],
    ['ontraport mcp', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
    ['ontraport mcp', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['customerio mcp', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
    ['ontraport mcp', { resource: undefined }, 'invalid_request'],
    ['customerio mcp', { resource: 'not-absolute' }, 'invalid_target'],
    ['marketo', { code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request'],
    ['marketo', { code_challenge_method: 'S512', code_challenge: 'x'.repeat(43) }, 'invalid_request'],
    ['marketo', { code_challenge_method: 'S256' }, 'invalid_request'],
  ])('%s %j -> %s', async (label, overrides, error) => {
    const spec = flow(label);
    const pair = spec.pkce ? pkcePair(spec.pkce) : undefined;
    const res = await get(`/${spec.provider}${spec.authorizePath}`, authorizeQuery(spec, overrides as Record<string, string | undefined>, pair));
    expect(res.status).toBe(302);
    const params = redirectParams(res);
    expect(params.get('error')).toBe(error);
    expect(params.get('error_description')).toEqual(expect.any(String));
    expect(params.get('state')).toBe(STATE);
    expect(params.has('code')).toBe(false);
  });

  test('a repeated state is an invalid_request redirect (without a state to echo)', async () => {
    const res = await request(sb.url).get(
      `/boomtown/oauth/authorize?client_id=demo-boomtown-client&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&response_type=code&scope=offline_access&state=a&state=b`,
    );
    expect(res.status).toBe(302);
    expect(redirectParams(res).get('error')).toBe('invalid_request');
    expect(redirectParams(res).has('state')).toBe(false);
  });

  test("the redirect keeps the redirect URI's own query", async () => {
    const res = await get('/hubspot/oauth/authorize', authorizeQuery(flow('hubspot'), { redirect_uri: 'http://127.0.0.1:5000/cb?tenant=7', scope: 'x' }));
    const location = new URL(res.headers.location);
    expect(location.searchParams.get('tenant')).toBe('7');
    expect(location.searchParams.get('error')).toBe('invalid_scope');
  });
});
