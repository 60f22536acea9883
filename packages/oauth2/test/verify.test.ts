import type { Request } from 'express';
import request from 'supertest';
import { Profile, ProviderStrategyOptions, TokenParams } from '../src/provider-kit';
import { ACCESS_TOKEN, AUTH_CODE, FakeServer, REFRESH_TOKEN, TestStrategy, Verify, buildApp, serveProvider, startFakeServer } from './helpers';

let provider: FakeServer;

/*
 * Unhandled rejections: a `process.on('unhandledRejection')` listener registered here never fires, because
 * Jest gives each test file a copy of `process` whose listeners the real process never calls (checked:
 * a deliberate `Promise.reject()` did not reach it). jest-circus itself listens on the real process and
 * fails the running test or hook on any unhandled rejection (checked: the same deliberate rejection
 * failed its test). The afterEach below gives a late rejection time to surface inside the hook, and the
 * thenable test checks directly that a rejection handler is attached.
 */
beforeAll(async () => {
  provider = await startFakeServer();
});
afterAll(async () => {
  await provider.close();
});
beforeEach(() => {
  provider.requests.length = 0;
  serveProvider(provider);
});
afterEach(async () => {
  // let a stray rejection surface while this hook runs (jest-circus then fails it)
  await new Promise((resolve) => setTimeout(resolve, 20));
});

type Done = (err: unknown, user?: unknown, info?: unknown) => void;

/** A full login (redirect, then callback on /auth/test/callback) with the given verify. */
async function login(verify: Verify, options: Partial<ProviderStrategyOptions> = {}) {
  const strategy = new TestStrategy(provider.url, options, verify);
  const { app, errors } = buildApp(strategy);
  const agent = request.agent(app);
  const start = await agent.get('/auth/test').expect(302);
  const state = new URL(start.headers.location as string).searchParams.get('state')!;
  const res = await agent.get('/auth/test/callback').query({ code: AUTH_CODE, state });
  const failed = res.status === 302 && res.headers.location === '/failed' ? (await agent.get('/failed')).body : undefined;
  return { res, errors, failed, app };
}

function expectProfile(value: unknown): void {
  expect((value as Profile).provider).toBe('test');
  expect((value as Profile).id).toBe('4242');
}

function expectParams(value: unknown): void {
  const params = value as TokenParams;
  expect(params.access_token).toBe(ACCESS_TOKEN);
  expect(params.tokenSet.accessToken).toBe(ACCESS_TOKEN);
  expect(params.tokenSet.refreshToken).toBe(REFRESH_TOKEN);
  expect('refresh_token' in params).toBe(false);
}

describe('callback forms', () => {
  it('(accessToken, refreshToken, profile, done)', async () => {
    const seen: unknown[][] = [];
    const verify = (at: string, rt: string, profile: Profile, done: Done) => {
      seen.push([at, rt, profile]);
      done(null, { id: profile.id, form: 4 });
    };
    const { res, errors } = await login(verify);
    expect([res.status, res.body]).toEqual([200, { user: { id: '4242', form: 4 } }]);
    expect(errors).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(seen[0].slice(0, 2)).toEqual([ACCESS_TOKEN, REFRESH_TOKEN]);
    expectProfile(seen[0][2]);
  });

  it('(accessToken, refreshToken, params, profile, done)', async () => {
    const seen: unknown[][] = [];
    const verify = (at: string, rt: string, params: TokenParams, profile: Profile, done: Done) => {
      seen.push([at, rt, params, profile]);
      done(null, { id: profile.id, form: 5 });
    };
    const { res } = await login(verify);
    expect([res.status, res.body]).toEqual([200, { user: { id: '4242', form: 5 } }]);
    expect(seen[0].slice(0, 2)).toEqual([ACCESS_TOKEN, REFRESH_TOKEN]);
    expectParams(seen[0][2]);
    expectProfile(seen[0][3]);
  });

  it('passReqToCallback: (req, accessToken, refreshToken, profile, done)', async () => {
    const seen: unknown[][] = [];
    const verify = (req: Request, at: string, rt: string, profile: Profile, done: Done) => {
      seen.push([req, at, rt, profile]);
      done(null, { id: profile.id, form: 'req5' });
    };
    const { res, app } = await login(verify, { passReqToCallback: true });
    expect([res.status, res.body]).toEqual([200, { user: { id: '4242', form: 'req5' } }]);
    const req = seen[0][0] as Request;
    expect(req.app).toBe(app);
    expect(req.path).toBe('/auth/test/callback');
    expect(req.query.code).toBe(AUTH_CODE);
    expect(seen[0].slice(1, 3)).toEqual([ACCESS_TOKEN, REFRESH_TOKEN]);
    expectProfile(seen[0][3]);
  });

  it('passReqToCallback: (req, accessToken, refreshToken, params, profile, done)', async () => {
    const seen: unknown[][] = [];
    const verify = (req: Request, at: string, rt: string, params: TokenParams, profile: Profile, done: Done) => {
      seen.push([req, at, rt, params, profile]);
      done(null, { id: profile.id, form: 'req6' });
    };
    const { res, app } = await login(verify, { passReqToCallback: true });
    expect([res.status, res.body]).toEqual([200, { user: { id: '4242', form: 'req6' } }]);
    expect((seen[0][0] as Request).app).toBe(app);
    expect(seen[0].slice(1, 3)).toEqual([ACCESS_TOKEN, REFRESH_TOKEN]);
    expectParams(seen[0][3]);
    expectProfile(seen[0][4]);
  });
});

describe('Promise verify', () => {
  it('an async function returning a user logs in', async () => {
    const seen: unknown[][] = [];
    const verify = async (at: string, rt: string, profile: Profile) => {
      seen.push([at, rt, profile]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { id: profile.id, form: 'async' };
    };
    const { res, errors } = await login(verify);
    expect([res.status, res.body]).toEqual([200, { user: { id: '4242', form: 'async' } }]);
    expect(errors).toEqual([]);
    expect(seen[0].slice(0, 2)).toEqual([ACCESS_TOKEN, REFRESH_TOKEN]);
    expectProfile(seen[0][2]);
  });

  it('an async function declaring the params form (with an unused done) gets params', async () => {
    const seen: unknown[] = [];
    const verify = async (_at: string, _rt: string, params: TokenParams, profile: Profile, _done: Done) => {
      seen.push(params, profile);
      return { id: profile.id };
    };
    const { res } = await login(verify);
    expect(res.status).toBe(200);
    expectParams(seen[0]);
    expectProfile(seen[1]);
  });

  it('an async function with passReqToCallback gets the request', async () => {
    let seenReq: unknown;
    const verify = async (req: Request, _at: string, _rt: string, profile: Profile) => {
      seenReq = req;
      return { id: profile.id };
    };
    const { res, app } = await login(verify, { passReqToCallback: true });
    expect(res.status).toBe(200);
    expect((seenReq as Request).app).toBe(app);
  });

  it('resolving false is a failure (failureRedirect)', async () => {
    const { res, errors, failed } = await login(async () => false);
    expect([res.status, res.headers.location]).toEqual([302, '/failed']);
    expect(failed).toEqual({ failed: true, messages: [] });
    expect(errors).toEqual([]);
  });

  it('resolving undefined is a failure too', async () => {
    const { res, errors } = await login(async () => undefined);
    expect([res.status, res.headers.location]).toEqual([302, '/failed']);
    expect(errors).toEqual([]);
  });

  it('a rejected promise reaches the error handler, never an unhandled rejection', async () => {
    const boom = Object.assign(new Error('database down'), { code: 'DB_DOWN' });
    const { res, errors } = await login(async () => {
      throw boom;
    });
    expect([res.status, res.body]).toEqual([500, { error: 'DB_DOWN' }]);
    expect(errors).toEqual([boom]);
  });

  it('a rejection handler is attached to the returned thenable', async () => {
    const boom = Object.assign(new Error('thenable rejected'), { code: 'THENABLE' });
    const subscriptions: [boolean, boolean][] = [];
    const verify = () => ({
      then(onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) {
        subscriptions.push([typeof onFulfilled === 'function', typeof onRejected === 'function']);
        setTimeout(() => onRejected?.(boom), 1);
      },
    });
    const { res, errors } = await login(verify);
    expect(subscriptions).toEqual([[true, true]]);
    expect([res.status, res.body]).toEqual([500, { error: 'THENABLE' }]);
    expect(errors).toEqual([boom]);
  });

  it('a promise rejected without a reason still becomes an error', async () => {
    const { res, errors } = await login(() => Promise.reject(undefined));
    expect(res.status).toBe(500);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('verify callback rejected without a reason');
  });

  it('done and a returned promise: done wins, the outcome is reported once', async () => {
    const verify = (_at: string, _rt: string, profile: Profile, done: Done) => {
      done(null, { id: profile.id, via: 'done' });
      return Promise.reject(new Error('late rejection'));
    };
    const { res, errors } = await login(verify);
    expect([res.status, res.body]).toEqual([200, { user: { id: '4242', via: 'done' } }]);
    expect(errors).toEqual([]);
  });
});

describe('failures and errors through done or throw', () => {
  it('a verify that throws synchronously reaches the error handler', async () => {
    const boom = Object.assign(new Error('verify exploded'), { code: 'VERIFY_THREW' });
    const { res, errors } = await login(() => {
      throw boom;
    });
    expect([res.status, res.body]).toEqual([500, { error: 'VERIFY_THREW' }]);
    expect(errors).toEqual([boom]);
  });

  it('done(null, false, { message }) is a failure carrying the message', async () => {
    const verify = (_at: string, _rt: string, _profile: Profile, done: Done) => done(null, false, { message: 'Account suspended' });
    const { res, errors, failed } = await login(verify);
    expect([res.status, res.headers.location]).toEqual([302, '/failed']);
    expect(failed).toEqual({ failed: true, messages: ['Account suspended'] });
    expect(errors).toEqual([]);
  });

  it('done(err) reaches the error handler', async () => {
    const boom = Object.assign(new Error('lookup failed'), { code: 'LOOKUP' });
    const verify = (_at: string, _rt: string, _profile: Profile, done: Done) => done(boom);
    const { res, errors } = await login(verify);
    expect([res.status, res.body]).toEqual([500, { error: 'LOOKUP' }]);
    expect(errors).toEqual([boom]);
  });
});
