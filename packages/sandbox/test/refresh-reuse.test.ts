/** Refresh-token reuse policies, the refresh-token status and audit routes, and the lost_answer fault. */
import request from 'supertest';
import { createSandbox, sandboxProviders, startSandbox, type ProviderId, type RunningSandbox } from '../src';
import { FLOWS, client, errorCode, flow, obtainCode, obtainTokens, codeBody, sleep, tokenRequest, type FlowSpec } from './helpers';

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => sb.reset());

const boomtown = flow('boomtown');
const refresh = (spec: FlowSpec, refreshToken: string, base = sb.url) =>
  tokenRequest(base, spec, { grant_type: 'refresh_token', refresh_token: refreshToken, ...client(spec.provider), ...spec.extra });
const leads = (accessToken: string, base = sb.url) => request(base).get('/boomtown/v1/leads').set('Authorization', `Bearer ${accessToken}`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of several shapes
type Json = any;
async function control(path: string, body?: unknown, base = sb.url): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}/_sandbox/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const status = (provider: ProviderId, refreshToken: string) => control('refresh-token-status', { provider, refreshToken });

describe("refreshTokenReuse 'revoke' (default)", () => {
  test('a used refresh token is invalid_grant; its successor and the grant live on', async () => {
    const first = await obtainTokens(sb.url, boomtown);
    const second = await refresh(boomtown, first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);

    const again = await refresh(boomtown, first.refresh_token);
    expect(again.status).toBe(400);
    expect(errorCode('rfc6749', again.body)).toBe('invalid_grant');
    expect((await status('boomtown', first.refresh_token)).body).toEqual({ live: false, grantRevoked: false, rotated: true });
    expect((await status('boomtown', second.body.refresh_token)).body).toEqual({ live: true, grantRevoked: false, rotated: false });
    expect((await leads(second.body.access_token)).status).toBe(200);
    expect((await refresh(boomtown, second.body.refresh_token)).status).toBe(200);
    expect(sb.audit().boomtown).toEqual({ refreshGranted: 2, rotatedPresented: 1, grantsRevokedByReuse: 0, lostAnswers: 0 });
  });
});

describe("refreshTokenReuse 'revoke-grant' (reuse detection)", () => {
  test.each(FLOWS)('$label: a rotated token presented again revokes every refresh token of the grant', async (spec) => {
    sb.setRefreshTokenReuse('revoke-grant');
    const first = await obtainTokens(sb.url, spec);
    const other = await obtainTokens(sb.url, spec);
    const second = await refresh(spec, first.refresh_token);
    expect(second.status).toBe(200);
    const reuse = await refresh(spec, first.refresh_token);
    expect(reuse.status).toBe(400);
    expect(errorCode(spec.shape, reuse.body)).toBe('invalid_grant');
    if (spec.shape === 'hubspot') expect(reuse.body.status).toBe('BAD_REFRESH_TOKEN');
    // The successor died with the grant; another login's grant did not.
    expect((await refresh(spec, second.body.refresh_token)).status).toBe(400);
    expect(sb.refreshTokenStatus(spec.provider, second.body.refresh_token)).toEqual({ live: false, grantRevoked: true, rotated: false });
    expect(sb.refreshTokenStatus(spec.provider, first.refresh_token)).toEqual({ live: false, grantRevoked: true, rotated: true });
    expect(sb.refreshTokenStatus(spec.provider, other.refresh_token)).toEqual({ live: true, grantRevoked: false, rotated: false });
    expect((await refresh(spec, other.refresh_token)).status).toBe(200);
    expect(sb.audit()[spec.provider]).toMatchObject({ refreshGranted: 2, rotatedPresented: 1, grantsRevokedByReuse: 1 });
  });

  test('the access tokens of the grant are revoked too (the code exchange one and the refreshed one)', async () => {
    const strict = await startSandbox({ refreshTokenReuse: 'revoke-grant' });
    try {
      const first = await obtainTokens(strict.url, boomtown);
      const other = await obtainTokens(strict.url, boomtown);
      const second = await refresh(boomtown, first.refresh_token, strict.url);
      expect((await leads(first.access_token, strict.url)).status).toBe(200);
      expect((await leads(second.body.access_token, strict.url)).status).toBe(200);
      expect((await refresh(boomtown, first.refresh_token, strict.url)).status).toBe(400);
      expect((await leads(first.access_token, strict.url)).status).toBe(401);
      expect((await leads(second.body.access_token, strict.url)).status).toBe(401);
      expect((await leads(other.access_token, strict.url)).status).toBe(200);
      // Presenting the rotated token once more counts, but revokes nothing more.
      expect((await refresh(boomtown, first.refresh_token, strict.url)).status).toBe(400);
      expect(strict.audit().boomtown).toEqual({ refreshGranted: 1, rotatedPresented: 2, grantsRevokedByReuse: 1, lostAnswers: 0 });
    } finally {
      await strict.close();
    }
  });

  test('two concurrent refreshes with one token: one wins, and the reuse then revokes the winner too', async () => {
    sb.setRefreshTokenReuse('revoke-grant');
    const first = await obtainTokens(sb.url, boomtown);
    const answers = await Promise.all([refresh(boomtown, first.refresh_token), refresh(boomtown, first.refresh_token)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    const winner = answers.find((a) => a.status === 200)?.body.refresh_token as string;
    expect(sb.refreshTokenStatus('boomtown', winner)).toEqual({ live: false, grantRevoked: true, rotated: false });
    expect(sb.audit().boomtown.grantsRevokedByReuse).toBe(1);
  });

  test('without rotation the same token keeps working: nothing is ever a reuse', async () => {
    const plain = await startSandbox({ rotateRefreshTokens: false, refreshTokenReuse: 'revoke-grant' });
    try {
      const first = await obtainTokens(plain.url, boomtown);
      for (let i = 0; i < 3; i++) expect((await refresh(boomtown, first.refresh_token, plain.url)).body.refresh_token).toBe(first.refresh_token);
      expect(plain.refreshTokenStatus('boomtown', first.refresh_token)).toEqual({ live: true, grantRevoked: false, rotated: false });
      expect(plain.audit().boomtown).toMatchObject({ refreshGranted: 3, rotatedPresented: 0, grantsRevokedByReuse: 0 });
    } finally {
      await plain.close();
    }
  });
});

describe('refreshTokenReuse { graceSeconds }', () => {
  test('the old token works inside the window (new tokens each time), then is invalid_grant', async () => {
    sb.setRefreshTokenReuse({ graceSeconds: 0.5 });
    const first = await obtainTokens(sb.url, boomtown);
    const second = await refresh(boomtown, first.refresh_token);
    expect(second.status).toBe(200);
    expect((await status('boomtown', first.refresh_token)).body).toEqual({ live: true, grantRevoked: false, rotated: true });
    const third = await refresh(boomtown, first.refresh_token);
    expect(third.status).toBe(200);
    expect(third.body.refresh_token).not.toBe(second.body.refresh_token);
    expect(third.body.access_token).not.toBe(second.body.access_token);
    expect((await leads(third.body.access_token)).status).toBe(200);

    await sleep(700);
    const late = await refresh(boomtown, first.refresh_token);
    expect(late.status).toBe(400);
    expect(errorCode('rfc6749', late.body)).toBe('invalid_grant');
    expect((await status('boomtown', first.refresh_token)).body).toEqual({ live: false, grantRevoked: false, rotated: true });
    // A stale token past the window revokes nothing: both successors still work.
    expect((await refresh(boomtown, second.body.refresh_token)).status).toBe(200);
    expect((await refresh(boomtown, third.body.refresh_token)).status).toBe(200);
    expect(sb.audit().boomtown).toEqual({ refreshGranted: 4, rotatedPresented: 2, grantsRevokedByReuse: 0, lostAnswers: 0 });
  });
});

describe('settings', () => {
  test('POST /_sandbox/settings sets the policy; GET reads it; reset() restores the configured one', async () => {
    expect((await control('settings')).body).toEqual({ refreshTokenReuse: 'revoke' });
    const set = await control('settings', { refreshTokenReuse: 'revoke-grant' });
    expect(set).toEqual({ status: 200, body: { refreshTokenReuse: 'revoke-grant' } });
    const first = await obtainTokens(sb.url, boomtown);
    const second = await refresh(boomtown, first.refresh_token);
    await refresh(boomtown, first.refresh_token);
    expect(sb.refreshTokenStatus('boomtown', second.body.refresh_token).grantRevoked).toBe(true);
    expect((await control('settings', { refreshTokenReuse: { graceSeconds: 30 } })).body).toEqual({ refreshTokenReuse: { graceSeconds: 30 } });
    sb.reset();
    expect((await control('settings')).body).toEqual({ refreshTokenReuse: 'revoke' });
  });

  test.each([
    [{ refreshTokenReuse: 'sometimes' }],
    [{ refreshTokenReuse: { graceSeconds: -1 } }],
    [{ refreshTokenReuse: { graceSeconds: '5' } }],
    [{ refreshTokenReuse: { graceSeconds: 5, extra: 1 } }],
    [{ refreshTokenReuse: null }],
    [{ rotateRefreshTokens: false }],
    [['revoke']],
  ])('a malformed setting is a 400 and changes nothing: %j', async (body) => {
    const res = await control('settings', body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(sb.state.refreshTokenReuse()).toBe('revoke');
  });

  test('a malformed option or setter call throws', () => {
    expect(() => createSandbox({ refreshTokenReuse: 'never' as never })).toThrow(/refreshTokenReuse must be/);
    expect(() => createSandbox({ refreshTokenReuse: { graceSeconds: Infinity } })).toThrow(TypeError);
    expect(() => sb.setRefreshTokenReuse({ graceSeconds: NaN })).toThrow(/refreshTokenReuse must be/);
  });
});

describe('refresh-token status and audit routes', () => {
  test('status of an unknown token is all false; a bad body is a 400', async () => {
    expect(await status('hubspot', 'not-a-token')).toEqual({ status: 200, body: { live: false, grantRevoked: false, rotated: false } });
    const first = await obtainTokens(sb.url, boomtown);
    // Tokens are per provider.
    expect((await status('hubspot', first.refresh_token)).body.live).toBe(false);
    expect((await control('refresh-token-status', { provider: 'boomtown' })).status).toBe(400);
    expect((await control('refresh-token-status', { provider: 'nope', refreshToken: 'x' })).status).toBe(400);
    expect((await control('refresh-token-status', { provider: 'boomtown', refreshToken: 7 })).status).toBe(400);
  });

  test('revoke marks the grant revoked; a replayed code too', async () => {
    const first = await obtainTokens(sb.url, boomtown);
    expect(sb.revoke({ provider: 'boomtown', refreshToken: first.refresh_token })).toBe(1);
    expect((await status('boomtown', first.refresh_token)).body).toEqual({ live: false, grantRevoked: true, rotated: false });
    // `revoke` leaves access tokens alone, as before.
    expect((await leads(first.access_token)).status).toBe(200);

    const { code } = await obtainCode(sb.url, boomtown);
    const exchanged = await tokenRequest(sb.url, boomtown, codeBody(boomtown, code));
    expect((await status('boomtown', exchanged.body.refresh_token)).body.live).toBe(true);
    expect((await tokenRequest(sb.url, boomtown, codeBody(boomtown, code))).status).toBe(400);
    expect((await status('boomtown', exchanged.body.refresh_token)).body).toEqual({ live: false, grantRevoked: true, rotated: false });
  });

  test('GET /_sandbox/audit has every provider, no token values, and reset() clears it', async () => {
    const first = await obtainTokens(sb.url, boomtown);
    await refresh(boomtown, first.refresh_token);
    await refresh(boomtown, first.refresh_token);
    const audit = await control('audit');
    expect(audit.status).toBe(200);
    expect(Object.keys(audit.body).sort()).toEqual(sandboxProviders().sort());
    expect(audit.body.boomtown).toEqual({ refreshGranted: 1, rotatedPresented: 1, grantsRevokedByReuse: 0, lostAnswers: 0 });
    expect(audit.body.hubspot).toEqual({ refreshGranted: 0, rotatedPresented: 0, grantsRevokedByReuse: 0, lostAnswers: 0 });
    expect(JSON.stringify(audit.body)).not.toMatch(/-rt-|-at-/);
    await fetch(`${sb.url}/_sandbox/reset`, { method: 'POST' });
    expect((await control('audit')).body.boomtown).toEqual({ refreshGranted: 0, rotatedPresented: 0, grantsRevokedByReuse: 0, lostAnswers: 0 });
    expect(sb.refreshTokenStatus('boomtown', first.refresh_token).rotated).toBe(false);
  });
});

describe('lost_answer fault', () => {
  const rawRefresh = (refreshToken: string) =>
    fetch(`${sb.url}/boomtown/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken, ...client('boomtown') }),
    });

  test('refresh: the provider rotates and issues, then the answer is lost', async () => {
    const first = await obtainTokens(sb.url, boomtown);
    sb.addFault({ provider: 'boomtown', endpoint: 'refresh', fault: 'lost_answer', times: 1 });
    await expect(rawRefresh(first.refresh_token)).rejects.toThrow();
    // The work was done: the token the client still holds has been rotated away.
    expect(sb.refreshTokenStatus('boomtown', first.refresh_token)).toEqual({ live: false, grantRevoked: false, rotated: true });
    expect(sb.audit().boomtown).toEqual({ refreshGranted: 1, rotatedPresented: 0, grantsRevokedByReuse: 0, lostAnswers: 1 });
    expect(sb.stats().boomtown.refresh).toBe(1);
    const retry = await rawRefresh(first.refresh_token);
    expect(retry.status).toBe(400);
    expect(sb.state.faults()).toEqual([]);
  });

  test('unlike drop, which drops before doing anything', async () => {
    const first = await obtainTokens(sb.url, boomtown);
    sb.addFault({ provider: 'boomtown', endpoint: 'refresh', fault: 'drop', times: 1 });
    await expect(rawRefresh(first.refresh_token)).rejects.toThrow();
    expect(sb.refreshTokenStatus('boomtown', first.refresh_token)).toEqual({ live: true, grantRevoked: false, rotated: false });
    expect((await rawRefresh(first.refresh_token)).status).toBe(200);
    expect(sb.audit().boomtown).toMatchObject({ refreshGranted: 1, lostAnswers: 0 });
  });

  test('with a grace window, the client can retry its old token after a lost answer', async () => {
    sb.setRefreshTokenReuse({ graceSeconds: 30 });
    const first = await obtainTokens(sb.url, boomtown);
    sb.addFault({ provider: 'boomtown', endpoint: 'token', fault: 'lost_answer', times: 1 });
    await expect(rawRefresh(first.refresh_token)).rejects.toThrow();
    const retry = await rawRefresh(first.refresh_token);
    expect(retry.status).toBe(200);
    expect(sb.audit().boomtown).toEqual({ refreshGranted: 2, rotatedPresented: 1, grantsRevokedByReuse: 0, lostAnswers: 1 });
  });

  test('code exchange: the code is spent although no tokens arrived; an error answer is lost too', async () => {
    const { code } = await obtainCode(sb.url, boomtown);
    sb.addFault({ provider: 'boomtown', endpoint: 'token', fault: 'lost_answer', times: 2 });
    await expect(tokenRequest(sb.url, boomtown, codeBody(boomtown, code))).rejects.toThrow(/socket hang up|ECONNRESET/);
    await expect(tokenRequest(sb.url, boomtown, codeBody(boomtown, code))).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(sb.audit().boomtown.lostAnswers).toBe(2);
    const again = await tokenRequest(sb.url, boomtown, codeBody(boomtown, code));
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
  });

  test('only on the token and refresh endpoints', async () => {
    for (const endpoint of ['api', 'identity', 'authorize', 'clientCredentials'] as const) {
      expect(() => sb.addFault({ provider: 'boomtown', endpoint, fault: 'lost_answer' })).toThrow(/token and refresh/);
    }
    const res = await control('faults', { provider: 'hubspot', endpoint: 'api', fault: 'lost_answer' });
    expect(res.status).toBe(400);
    expect((await control('faults', { provider: 'hubspot', endpoint: 'token', fault: 'lost_answer' })).status).toBe(201);
  });
});
