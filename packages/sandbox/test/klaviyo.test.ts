/** The Klaviyo dialect over real HTTP: PKCE S256 required, Basic client auth, revocation, the revision header. */
import request from 'supertest';
import { startSandbox, type RunningSandbox } from '../src';
import { REDIRECT_URI, authorizeQuery, consent, pkcePair, type FlowSpec } from './helpers';

const spec: FlowSpec = {
  label: 'klaviyo', provider: 'klaviyo', authorizePath: '/oauth/authorize', tokenPath: '/oauth/token', encoding: 'form',
  scope: 'accounts:read profiles:read', pkce: 'S256', shape: 'rfc6749',
};
const CLIENT = { id: 'demo-klaviyo-client', secret: 'demo-klaviyo-secret' };
const basic = (id = CLIENT.id, secret = CLIENT.secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const REVISION = '2026-10-15';

describe('Klaviyo dialect', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ port: 0 });
  });
  afterAll(() => sandbox.close());
  beforeEach(() => sandbox.reset());

  async function code(): Promise<{ code: string; verifier: string }> {
    const pair = pkcePair('S256');
    const location = await consent(sandbox.url, spec, { query: authorizeQuery(spec, {}, pair) });
    return { code: location.searchParams.get('code') as string, verifier: pair.verifier };
  }

  const token = (body: Record<string, string>, authorization: string | null = basic()) => {
    const req = request(sandbox.url).post('/klaviyo/oauth/token').type('form');
    return (authorization ? req.set('Authorization', authorization) : req).send(body);
  };

  async function tokens() {
    const { code: c, verifier } = await code();
    const res = await token({ grant_type: 'authorization_code', code: c, code_verifier: verifier, redirect_uri: REDIRECT_URI });
    expect(res.status).toBe(200);
    return res.body as { access_token: string; refresh_token: string };
  }

  it('authorize refuses a request without PKCE, and the plain method', async () => {
    for (const pair of [undefined, pkcePair('plain')]) {
      const res = await request(sandbox.url).get('/klaviyo/oauth/authorize').query(authorizeQuery(spec, {}, pair));
      expect(res.status).toBe(302);
      expect(new URL(res.headers.location).searchParams.get('error')).toBe('invalid_request');
    }
  });

  it('token: Basic client auth and a form body give the documented fields; credentials in the body are refused', async () => {
    const { code: c, verifier } = await code();
    const inBody = await token(
      { grant_type: 'authorization_code', code: c, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: CLIENT.id, client_secret: CLIENT.secret },
      null,
    );
    expect(inBody.status).toBe(401);
    expect(inBody.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    const ok = await token({ grant_type: 'authorization_code', code: c, code_verifier: verifier, redirect_uri: REDIRECT_URI });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, refresh_token: expect.any(String), scope: 'accounts:read profiles:read',
    });
    const badSecret = await token({ grant_type: 'refresh_token', refresh_token: ok.body.refresh_token }, basic(CLIENT.id, 'wrong'));
    expect(badSecret.status).toBe(401);
    expect(JSON.stringify(badSecret.body)).not.toContain(ok.body.refresh_token);
  });

  it('a wrong code_verifier is invalid_grant', async () => {
    const { code: c } = await code();
    const res = await token({ grant_type: 'authorization_code', code: c, code_verifier: pkcePair().verifier, redirect_uri: REDIRECT_URI });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
  });

  it('the Accounts API needs the revision header and a live Bearer token, and answers JSON:API', async () => {
    const { access_token } = await tokens();
    const noRevision = await request(sandbox.url).get('/klaviyo/api/accounts').set('Authorization', `Bearer ${access_token}`);
    expect(noRevision.status).toBe(400);
    expect(noRevision.body.errors[0]).toMatchObject({ status: 400, code: expect.any(String), detail: expect.stringContaining('revision') });
    const badToken = await request(sandbox.url).get('/klaviyo/api/accounts').set({ Authorization: 'Bearer nope', revision: REVISION });
    expect(badToken.status).toBe(401);
    expect(badToken.body).toEqual({ errors: [expect.objectContaining({ id: expect.any(String), status: 401, code: 'not_authenticated' })] });
    const ok = await request(sandbox.url).get('/klaviyo/api/accounts').set({ Authorization: `Bearer ${access_token}`, revision: REVISION });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(ok.body.data).toEqual([
      expect.objectContaining({ type: 'account', id: 'AbC123', attributes: expect.objectContaining({ contact_information: expect.objectContaining({ organization_name: 'Sandbox Store' }) }) }),
    ]);
    const profiles = await request(sandbox.url).get('/klaviyo/api/profiles').set({ Authorization: `Bearer ${access_token}`, revision: REVISION });
    expect(profiles.status).toBe(200);
    expect(profiles.body.data[0]).toMatchObject({ type: 'profile', attributes: { email: 'ada@example.com' } });
    expect(sandbox.stats().klaviyo).toMatchObject({ token: 1, identity: 3, api: 1 });
  });

  it('refresh returns a refresh token; revoking it ends the grant (refresh invalid_grant, access token 401)', async () => {
    const first = await tokens();
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toEqual(expect.any(String));
    const current = refreshed.body as { access_token: string; refresh_token: string };
    const inBody = await request(sandbox.url).post('/klaviyo/oauth/revoke').type('form').send({ token: current.refresh_token, client_id: CLIENT.id, client_secret: CLIENT.secret });
    expect(inBody.status).toBe(401);
    const revoked = await request(sandbox.url)
      .post('/klaviyo/oauth/revoke')
      .set('Authorization', basic())
      .type('form')
      .send({ token: current.refresh_token, token_type_hint: 'refresh_token' });
    expect(revoked.status).toBe(200);
    const again = await token({ grant_type: 'refresh_token', refresh_token: current.refresh_token });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    const api = await request(sandbox.url).get('/klaviyo/api/accounts').set({ Authorization: `Bearer ${current.access_token}`, revision: REVISION });
    expect(api.status).toBe(401);
  });
});
