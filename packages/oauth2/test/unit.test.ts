import { createHash } from 'node:crypto';
import type { Request } from 'express';
import {
  MAX_PENDING_LOGINS,
  STATE_TTL_MS,
  SessionStateStore,
  bodyExcerpt,
  cleanIdentity,
  emailList,
  expiresWithin,
  joinURL,
  normalizeScope,
  profileFromTokenResponse,
  profileFromUserInfo,
  redactJson,
  scrub,
  toTokenSet,
} from '../src/provider-kit';

describe('redact', () => {
  it('bodyExcerpt masks sensitive JSON keys at any depth, case-insensitively', () => {
    const body = JSON.stringify({
      access_token: 'at-1',
      Refresh_Token: 'rt-1',
      nested: { client_secret: 'cs', code: 'c', keep: 'visible' },
      list: [{ state: 'st', id_token: 'idt' }, 'plain'],
      password: 'pw',
      api_key: 'k',
      error: 'invalid_grant',
    });
    expect(bodyExcerpt(body)).toBe(
      '{"access_token":"[redacted]","Refresh_Token":"[redacted]","nested":{"client_secret":"[redacted]","code":"[redacted]","keep":"visible"},"list":[{"state":"[redacted]","id_token":"[redacted]"},"plain"],"password":"[redacted]","api_key":"[redacted]","error":"invalid_grant"}'.slice(0, 160) + '…',
    );
  });

  it('bodyExcerpt masks query-style pairs in text', () => {
    expect(bodyExcerpt('error=bad&code=code-ABC123456&state=xyz&refresh_token=r1&client_secret=s&ok=1')).toBe(
      'error=bad&code=[redacted]&state=[redacted]&refresh_token=[redacted]&client_secret=[redacted]&ok=1',
    );
    expect(bodyExcerpt('<a href="/cb?code=abc&access_token=t1">x</a>')).toBe('<a href="/cb?code=[redacted]&access_token=[redacted]">x</a>');
  });

  it('bodyExcerpt collapses whitespace and truncates to 160 characters with an ellipsis', () => {
    expect(bodyExcerpt('  a\n\n  b\t c  ')).toBe('a b c');
    const long = 'x'.repeat(500);
    expect(bodyExcerpt(long)).toBe(`${'x'.repeat(160)}…`);
    expect(bodyExcerpt('y'.repeat(160))).toBe('y'.repeat(160));
    expect(bodyExcerpt('')).toBe('');
  });

  it('bodyExcerpt scrubs listed secrets, in JSON values under innocent keys and in text', () => {
    const secret = 's3cr3t-client-secret-XYZ';
    expect(bodyExcerpt(JSON.stringify({ message: `bad secret ${secret}` }), [secret])).toBe('{"message":"bad secret [redacted]"}');
    expect(bodyExcerpt(`oops ${secret} and again ${secret}`, [undefined, secret])).toBe('oops [redacted] and again [redacted]');
  });

  it('scrub ignores undefined and very short values (they would mask ordinary words)', () => {
    expect(scrub('the cat sat', ['cat', undefined, ''])).toBe('the cat sat');
    expect(scrub('token abcdef here', ['abcdef'])).toBe('token [redacted] here');
  });

  it('redactJson returns a copy and leaves its input alone', () => {
    const input = { access_token: 'a', inner: { refresh_token: 'r', n: 1 } };
    const copy = JSON.parse(JSON.stringify(input));
    expect(redactJson(input)).toEqual({ access_token: '[redacted]', inner: { refresh_token: '[redacted]', n: 1 } });
    expect(input).toEqual(copy);
  });
});

describe('normalizeScope', () => {
  it('splits strings on spaces and commas, keeps arrays, adds required scopes first without duplicates', () => {
    expect(normalizeScope('o', 'a b,c ,, d')).toEqual(['a', 'b', 'c', 'd']);
    expect(normalizeScope('o', ['x', '', 'y'])).toEqual(['x', 'y']);
    expect(normalizeScope('o', ['x', 'oauth'], ['oauth', 'base'])).toEqual(['base', 'x', 'oauth']);
    expect(normalizeScope('o', undefined, ['oauth'])).toEqual(['oauth']);
  });

  it('is undefined when nothing is asked for', () => {
    expect(normalizeScope('o', undefined)).toBeUndefined();
    expect(normalizeScope('o', '')).toBeUndefined();
    expect(normalizeScope('o', [])).toBeUndefined();
  });

  it('rejects anything else with a TypeError naming the option and the package', () => {
    expect(() => normalizeScope('@passport-martech/x', 42)).toThrow(new TypeError('@passport-martech/x: option "scope" must be a string or an array of strings'));
    expect(() => normalizeScope('@passport-martech/x', ['a', 1])).toThrow(TypeError);
  });

  it('never mutates its input', () => {
    const scopes = Object.freeze(['a']);
    const required = Object.freeze(['r']);
    expect(normalizeScope('o', scopes, required)).toEqual(['r', 'a']);
    expect(scopes).toEqual(['a']);
  });
});

describe('joinURL', () => {
  it('keeps the base path', () => {
    expect(joinURL('http://127.0.0.1:4000/marketo', '/oauth/token')).toBe('http://127.0.0.1:4000/marketo/oauth/token');
    expect(joinURL('http://127.0.0.1:4000/marketo/', 'oauth/token')).toBe('http://127.0.0.1:4000/marketo/oauth/token');
    expect(joinURL('https://abc.mktorest.com/identity//', '//oauth/token')).toBe('https://abc.mktorest.com/identity/oauth/token');
    expect(joinURL('https://api.test', '/v1/me')).toBe('https://api.test/v1/me');
  });

  it('keeps the base query string', () => {
    expect(joinURL('https://api.test/base?x=1', '/p')).toBe('https://api.test/base/p?x=1');
  });
});

describe('profileFromTokenResponse', () => {
  const all = { user_id: 'u', account_id: 'a', id: 'i', sub: 's', email: 'e@x.test' };

  it('takes the first present of user_id, account_id, id, sub, email', () => {
    const order = ['user_id', 'account_id', 'id', 'sub', 'email'] as const;
    const expected = ['u', 'a', 'i', 's', 'e@x.test'];
    for (let i = 0; i < order.length; i++) {
      const raw: Record<string, unknown> = { access_token: 'at' };
      for (const key of order.slice(i)) raw[key] = all[key];
      expect(profileFromTokenResponse('p', raw)?.id).toBe(expected[i]);
    }
  });

  it('skips empty and non-scalar values, turns numbers into strings', () => {
    expect(profileFromTokenResponse('p', { user_id: '', account_id: 12345, id: 'x' })?.id).toBe('12345');
    expect(profileFromTokenResponse('p', { user_id: { n: 1 }, account_id: Number.NaN, id: 0 })?.id).toBe('0');
  });

  it('builds a full profile without tokens in _json or _raw', () => {
    const raw = { access_token: 'at-SECRET-1', refresh_token: 'rt-SECRET-2', id_token: 'idt-SECRET-3', user_id: 7, email: 'me@x.test', name: 'Me', expires_in: 60 };
    const profile = profileFromTokenResponse('prov', raw);
    expect(profile).toEqual({
      provider: 'prov',
      id: '7',
      displayName: 'Me',
      emails: [{ value: 'me@x.test' }],
      photos: [],
      _raw: JSON.stringify({ user_id: 7, email: 'me@x.test', name: 'Me', expires_in: 60 }),
      _json: { user_id: 7, email: 'me@x.test', name: 'Me', expires_in: 60 },
    });
    expect(JSON.stringify(profile)).not.toMatch(/SECRET/);
    expect(raw.access_token).toBe('at-SECRET-1');
  });

  it('identity hook: a provider-supplied field names the user when no standard key does, and adds its email', () => {
    const identity = (json: Record<string, unknown>) => (typeof json.owner === 'string' && json.owner.includes('@') ? { id: json.owner, email: json.owner } : undefined);
    const raw = { access_token: 'at', owner: 'api.user@example.com', token_type: 'bearer' };
    expect(profileFromTokenResponse('p', raw)).toBeUndefined();
    const profile = profileFromTokenResponse('p', raw, { identity });
    expect(profile?.id).toBe('api.user@example.com');
    expect(profile?.emails).toEqual([{ value: 'api.user@example.com' }]);
    expect(profile?.displayName).toBe('api.user@example.com');
    expect(profileFromTokenResponse('p', { access_token: 'at', owner: 'nobody' }, { identity })).toBeUndefined();
    // a standard id field still wins; the hook's email is kept as an email
    const both = profileFromTokenResponse('p', { id: 'x', owner: 'a@b.test' }, { identity });
    expect([both?.id, both?.emails]).toEqual(['x', [{ value: 'a@b.test' }]]);
    // the hook never sees the tokens
    profileFromTokenResponse('p', raw, { identity: (json) => (expect(json.access_token).toBeUndefined(), undefined) });
  });

  it('is undefined when nothing identifies the user', () => {
    expect(profileFromTokenResponse('p', { access_token: 'at', refresh_token: 'rt', expires_in: 1 })).toBeUndefined();
  });
});

describe('cleanIdentity / emailList', () => {
  it('drops token keys (and the provider\'s own), keeps the raw text only when nothing was dropped', () => {
    const document = { user: 'a@x.test', token: 't', access_token: 'at', signature: 's', hub_id: 1 };
    expect(cleanIdentity(document, 'RAW', ['signature'])).toEqual({ json: { user: 'a@x.test', hub_id: 1 }, raw: '{"user":"a@x.test","hub_id":1}' });
    expect(cleanIdentity({ user: 'a@x.test' }, 'RAW')).toEqual({ json: { user: 'a@x.test' }, raw: 'RAW' });
  });

  it('copies a "__proto__" key from JSON as a plain key, never as the copy\'s prototype', () => {
    const document = JSON.parse('{"__proto__": {"polluted": true}, "access_token": "at", "id": 1}') as Record<string, unknown>;
    const { json, raw } = cleanIdentity(document);
    expect(Object.getPrototypeOf(json)).toBe(Object.prototype);
    expect((json as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(json)).toEqual(['__proto__', 'id']);
    expect(JSON.parse(raw)).toEqual(JSON.parse('{"__proto__": {"polluted": true}, "id": 1}'));
  });

  it('lists each valid address once, in order', () => {
    expect(emailList('a@x.test', 'not an email', undefined, 'b@x.test', 'a@x.test')).toEqual([{ value: 'a@x.test' }, { value: 'b@x.test' }]);
  });
});

describe('profileFromUserInfo', () => {
  it('reads id (then user_id, sub, account_id, email), name, email and picture', () => {
    const json = { sub: 'sub-1', user_id: 99, email: 'a@b.test', name: 'A B', picture: 'https://img.test/a.png' };
    const raw = JSON.stringify(json);
    expect(profileFromUserInfo('p', json, raw)).toEqual({
      provider: 'p',
      id: '99',
      displayName: 'A B',
      emails: [{ value: 'a@b.test' }],
      photos: [{ value: 'https://img.test/a.png' }],
      _raw: raw,
      _json: json,
    });
    expect(profileFromUserInfo('p', { id: 'i', user_id: 'u' }, '')?.id).toBe('i');
    expect(profileFromUserInfo('p', { sub: 's', account_id: 'a' }, '')?.id).toBe('s');
    expect(profileFromUserInfo('p', { account_id: 'a', email: 'e@x.test' }, '')?.id).toBe('a');
    expect(profileFromUserInfo('p', { email: 'e@x.test' }, '')?.id).toBe('e@x.test');
  });

  it('falls back to display_name, then the email; avatar_url as photo; always arrays', () => {
    const p1 = profileFromUserInfo('p', { id: 1, display_name: 'DN', avatar_url: 'https://i.test/x' }, '{}');
    expect([p1?.displayName, p1?.photos, p1?.emails]).toEqual(['DN', [{ value: 'https://i.test/x' }], []]);
    const p2 = profileFromUserInfo('p', { id: 1, email: 'not an email' }, '{}');
    expect([p2?.displayName, p2?.emails, p2?.photos]).toEqual([undefined, [], []]);
  });

  it('is undefined for non-objects and documents naming nobody', () => {
    expect(profileFromUserInfo('p', [{ id: 1 }], '')).toBeUndefined();
    expect(profileFromUserInfo('p', null, '')).toBeUndefined();
    expect(profileFromUserInfo('p', { name: 'x' }, '')).toBeUndefined();
  });
});

describe('toTokenSet / expiresWithin', () => {
  it('computes expiresAt from the receipt time and ignores bad expires_in', () => {
    expect(toTokenSet({ access_token: 'a', expires_in: 1.5 }, 1000).expiresAt).toBe(2500);
    expect(toTokenSet({ access_token: 'a', expires_in: -1 }, 1000).expiresAt).toBeUndefined();
    expect(toTokenSet({ access_token: 'a', expires_in: 'soon' }, 1000).expiresAt).toBeUndefined();
    expect(() => toTokenSet({ token_type: 'bearer' })).toThrow(TypeError);
  });

  it('expiresWithin compares against the skew, and is false for an unknown expiry', () => {
    expect(expiresWithin({ expiresAt: 60_001 }, 60, 0)).toBe(false);
    expect(expiresWithin({ expiresAt: 60_000 }, 60, 0)).toBe(true);
    expect(expiresWithin({}, 60, 0)).toBe(false);
  });
});

describe('SessionStateStore', () => {
  type Session = Record<string, unknown> & { save?: (cb: (err?: unknown) => void) => void };
  const KEY = 'oauth2:unit';
  const events: string[] = [];

  function fakeReq(session: Session = { save: (cb) => (events.push('save'), cb()) }): Request {
    return { session } as unknown as Request;
  }

  function store(req: Request, s: SessionStateStore, verifier?: string, appState?: unknown): Promise<string> {
    return new Promise((resolve, reject) =>
      s.store(req, verifier, appState, {}, (err, state) => {
        events.push('callback');
        if (err) reject(err);
        else resolve(state!);
      }),
    );
  }

  function verify(req: Request, s: SessionStateStore, state: unknown): Promise<[unknown, unknown]> {
    return new Promise((resolve, reject) => s.verify(req, state, {}, (err, ok, info) => (err ? reject(err) : resolve([ok, info]))));
  }

  beforeEach(() => {
    events.length = 0;
  });

  it('has the documented defaults', () => {
    expect([STATE_TTL_MS, MAX_PENDING_LOGINS]).toEqual([600_000, 10]);
  });

  it('saves the session before calling back, and keeps no plain state in it', async () => {
    const req = fakeReq();
    const s = new SessionStateStore({ key: KEY });
    const state = await store(req, s, 'verifier-1');
    expect(events).toEqual(['save', 'callback']);
    expect(state).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const session = (req as unknown as { session: Session }).session;
    const serialized = JSON.stringify(session);
    expect(serialized).not.toContain(state);
    expect(serialized).toContain(createHash('sha256').update(state).digest('base64url'));
  });

  it('reports a failing session save as the error, without a state', async () => {
    const req = fakeReq({ save: (cb) => cb(new Error('redis down')) });
    await expect(store(req, new SessionStateStore({ key: KEY }))).rejects.toThrow('redis down');
  });

  it('is one-time, and returns the PKCE verifier (or true without one)', async () => {
    const req = fakeReq();
    const s = new SessionStateStore({ key: KEY });
    const withVerifier = await store(req, s, 'verifier-XYZ');
    const withoutVerifier = await store(req, s);
    expect(await verify(req, s, withVerifier)).toEqual(['verifier-XYZ', undefined]);
    expect(await verify(req, s, withoutVerifier)).toEqual([true, undefined]);
    const [ok, info] = await verify(req, s, withVerifier);
    expect(ok).toBe(false);
    expect(info).toEqual({ message: 'Unable to verify authorization request state: it is unknown, expired or already used.' });
    expect(JSON.stringify(info)).not.toContain(withVerifier);
    expect((req as unknown as { session: Session }).session[KEY]).toBeUndefined();
  });

  it('keeps an object appState and hands it back', async () => {
    const req = fakeReq();
    const s = new SessionStateStore({ key: KEY });
    const state = await store(req, s, undefined, { returnTo: '/account' });
    expect(await verify(req, s, state)).toEqual([true, { returnTo: '/account' }]);
  });

  it('fails missing, empty and non-string states with the no-state message', async () => {
    const req = fakeReq();
    const s = new SessionStateStore({ key: KEY });
    const state = await store(req, s);
    for (const bad of [undefined, '', ['a'], 42]) {
      expect(await verify(req, s, bad)).toEqual([false, { message: 'Unable to verify authorization request state: the callback carries no state.' }]);
    }
    expect((await verify(req, s, state))[0]).toBe(true);
  });

  it('expires entries after ttlMs', async () => {
    const req = fakeReq();
    const s = new SessionStateStore({ key: KEY, ttlMs: 30 });
    const old = await store(req, s);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const fresh = await store(req, s);
    expect((await verify(req, s, old))[0]).toBe(false);
    expect((await verify(req, s, fresh))[0]).toBe(true);
  });

  it('keeps at most 10 pending logins per session, dropping the oldest', async () => {
    const req = fakeReq();
    const s = new SessionStateStore({ key: KEY });
    const states: string[] = [];
    for (let i = 0; i < 11; i++) states.push(await store(req, s, `v${i}`));
    const pending = ((req as unknown as { session: Session }).session[KEY] as { pending: unknown[] }).pending;
    expect(pending).toHaveLength(10);
    expect((await verify(req, s, states[0]))[0]).toBe(false);
    for (let i = 1; i < 11; i++) expect((await verify(req, s, states[i]))[0]).toBe(`v${i}`);
  });

  it('honours maxPending', async () => {
    const req = fakeReq();
    const s = new SessionStateStore({ key: KEY, maxPending: 2 });
    const states = [await store(req, s), await store(req, s), await store(req, s)];
    expect((await verify(req, s, states[0]))[0]).toBe(false);
    expect((await verify(req, s, states[1]))[0]).toBe(true);
    expect((await verify(req, s, states[2]))[0]).toBe(true);
  });

  it('keeps separate keys apart (two strategies in one session)', async () => {
    const req = fakeReq();
    const a = new SessionStateStore({ key: 'oauth2:a' });
    const b = new SessionStateStore({ key: 'oauth2:b' });
    const stateA = await store(req, a);
    expect((await verify(req, b, stateA))[0]).toBe(false);
    expect((await verify(req, a, stateA))[0]).toBe(true);
  });

  it('works with a session that has no save()', async () => {
    const req = fakeReq({});
    const s = new SessionStateStore({ key: KEY });
    const state = await store(req, s);
    expect((await verify(req, s, state))[0]).toBe(true);
  });

  it('without a session: an error naming express-session and the owner', async () => {
    const s = new SessionStateStore({ key: KEY, owner: '@passport-martech/unit' });
    const noSession = { session: undefined } as unknown as Request;
    const err = await store(noSession, s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      '@passport-martech/unit: OAuth 2.0 state needs a session. Add express-session (app.use(session({...}))) before passport, or, in an app without sessions, keep it in an encrypted cookie with the option state: { cookie: { key } } (a 32-byte key; see "Apps without sessions" in the @passport-martech/oauth2 README).',
    );
    await expect(verify(noSession, s, 'x')).rejects.toThrow(/express-session/);
  });
});
