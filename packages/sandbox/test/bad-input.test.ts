/**
 * Malformed requests: every one gets a 4xx in the provider's error shape — never a 500, a crash or a
 * stack trace on the console.
 */
import http from 'node:http';
import request from 'supertest';
import { sandboxProviders, startSandbox, type RunningSandbox } from '../src';
import { FLOWS, client, errorCode, flow } from './helpers';

let sb: RunningSandbox;
let stderr: jest.SpyInstance;
let consoleError: jest.SpyInstance;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());
beforeEach(() => {
  sb.reset();
  stderr = jest.spyOn(process.stderr, 'write');
  consoleError = jest.spyOn(console, 'error');
});
afterEach(() => {
  // Nothing may have been printed (Express's default handler would print a stack trace).
  expect(stderr).not.toHaveBeenCalled();
  expect(consoleError).not.toHaveBeenCalled();
  stderr.mockRestore();
  consoleError.mockRestore();
});

const post = (spec: (typeof FLOWS)[number]) => request(sb.url).post(`/${spec.provider}${spec.tokenPath}`);

/** Exact bytes on the wire (supertest would re-serialise a Buffer given with a form or JSON type). */
function rawPost(path: string, contentType: string, bytes: Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: sb.port, path, method: 'POST', headers: { 'Content-Type': contentType, 'Content-Length': bytes.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

describe.each(FLOWS)('$label token endpoint', (spec) => {
  const type = spec.encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';

  test('a 1 MB body -> 413 in the provider shape', async () => {
    const body = spec.encoding === 'json' ? JSON.stringify({ grant_type: 'x'.repeat(1024 * 1024) }) : `grant_type=${'x'.repeat(1024 * 1024)}`;
    const res = await post(spec).set('Content-Type', type).send(body);
    expect(res.status).toBe(413);
    expect(errorCode(spec.shape, res.body)).toBe('invalid_request');
  });

  test('non-UTF-8 bytes -> 400', async () => {
    const bytes = spec.encoding === 'json' ? Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x22, 0x31, 0x22, 0x7d]) : Buffer.from([0x67, 0x72, 0xff, 0xfe, 0x3d, 0x31]);
    const res = await rawPost(`/${spec.provider}${spec.tokenPath}`, type, bytes);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('UTF-8');
    expect(errorCode(spec.shape, res.body)).toBe('invalid_request');
  });

  test('repeated parameters -> 400', async () => {
    const body = spec.encoding === 'json'
      ? '{"grant_type":"authorization_code","code":["a","b"]}'
      : 'grant_type=authorization_code&code=a&code=b';
    const res = await post(spec).set('Content-Type', type).send(body);
    expect(res.status).toBe(400);
    expect(errorCode(spec.shape, res.body)).toBe('invalid_request');
  });
});

describe('body parsing', () => {
  test.each([
    ['invalid JSON', '{"grant_type":'],
    ['a JSON array', '["grant_type"]'],
    ['a JSON string', '"hello"'],
    ['a nested object', '{"grant_type":{"a":1}}'],
    ['a number value', '{"grant_type":"refresh_token","refresh_token":5}'],
  ])('%s -> 400 invalid_request', async (_name, body) => {
    const res = await request(sb.url).post('/boomtown/oauth/token').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  test('bad percent-encoding and non-UTF-8 percent escapes in a form -> 400', async () => {
    for (const body of ['grant_type=%ZZ', 'code=%FF%FE', 'grant_type=%']) {
      const res = await request(sb.url).post('/hubspot/oauth/v1/token').type('form').send(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 'BAD_REQUEST', error: 'invalid_request' });
    }
  });

  test('a compressed body -> 415', async () => {
    const res = await request(sb.url).post('/marketo/oauth/token').type('form').set('Content-Encoding', 'gzip').send('x=1');
    expect(res.status).toBe(415);
  });

  test('a body over 64 KB -> 413, at 64 KB it is read', async () => {
    const limit = 64 * 1024;
    const pad = (n: number) => `grant_type=password&pad=${'x'.repeat(n - 'grant_type=password&pad='.length)}`;
    const over = await request(sb.url).post('/marketo/oauth/token').type('form').send(pad(limit + 1));
    expect(over.status).toBe(413);
    const at = await request(sb.url).post('/marketo/oauth/token').type('form').send(`${pad(limit)}`);
    expect(at.status).toBe(401);
  });

  test('an oversized body to the introspection and decision routes', async () => {
    const big = `x=${'y'.repeat(100 * 1024)}`;
    const introspect = await request(sb.url).post('/hubspot/oauth/v3/token/introspect').type('form').send(big);
    expect(introspect.status).toBe(413);
    expect(introspect.body.status).toBe('BAD_REQUEST');
    const decision = await request(sb.url).post('/hubspot/oauth/authorize/decision').type('form').send(big);
    expect(decision.status).toBe(413);
    expect(decision.headers['content-type']).toMatch(/^text\/html/);
  });

  test('a client that disconnects mid-body does not hurt the server', async () => {
    const { port } = sb;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/boomtown/oauth/token', method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': '1000' } });
      req.on('error', () => resolve());
      req.write('{"grant_type":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    const after = await request(sb.url).post('/boomtown/oauth/token').set('Content-Type', 'application/json').send('{}');
    expect(after.status).toBe(401);
  });
});

describe('routes', () => {
  test.each([
    ['hubspot', (b: Record<string, unknown>) => expect(b).toMatchObject({ status: 'NOT_FOUND', error: 'not_found' })],
    ['marketo', (b: Record<string, unknown>) => expect(b).toMatchObject({ error: 'not_found' })],
    ['ontraport', (b: Record<string, unknown>) => expect(b).toMatchObject({ error: 'not_found' })],
    ['customerio', (b: Record<string, unknown>) => expect(b).toEqual({ meta: { errors: [expect.stringMatching(/^not_found: /)] } })],
    ['boomtown', (b: Record<string, unknown>) => expect(b).toMatchObject({ error: 'not_found' })],
  ])('unknown route under %s -> 404 in its shape', async (provider, check) => {
    const res = await request(sb.url).post(`/${provider}/no/such/route`).send({ a: 1 });
    expect(res.status).toBe(404);
    check(res.body);
  });

  test('a known path with the wrong method -> 405 with Allow', async () => {
    const res = await request(sb.url).get('/customerio/v1/oauth/token');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(errorCode('customerio', res.body)).toBe('invalid_request');
    const del = await request(sb.url).delete('/hubspot/oauth/authorize');
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, HEAD');
  });

  test('a malformed escape in a path parameter -> 400, not 500', async () => {
    const res = await request(sb.url).get('/hubspot/oauth/v1/access-tokens/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  test('malformed query strings at authorize -> error page', async () => {
    const res = await request(sb.url).get('/boomtown/oauth/authorize?client_id=%FF');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
  });

  test('unknown top-level route -> 404 JSON; root lists the providers', async () => {
    expect((await request(sb.url).get('/nope')).status).toBe(404);
    const root = await request(sb.url).get('/');
    expect(Object.keys(root.body.providers)).toEqual(sandboxProviders());
    expect(sandboxProviders().length).toBeGreaterThanOrEqual(5);
  });

  test('a huge body to an unknown route is refused without breaking the server', async () => {
    const res = await request(sb.url).post('/ontraport/unknown').type('form').send(`a=${'b'.repeat(1024 * 1024)}`);
    expect(res.status).toBe(404);
    const ok = await request(sb.url).post('/ontraport/oauth2/token').set('Content-Type', 'application/json').send(JSON.stringify({ grant_type: 'x', ...client('ontraport') }));
    expect(ok.status).toBe(400);
    expect(ok.body.error).toBe('unsupported_grant_type');
  });

  test('the sandbox never answers 500 to any of these provider paths with junk', async () => {
    const paths = FLOWS.flatMap((f) => [`/${f.provider}${f.authorizePath}`, `/${f.provider}${f.tokenPath}`]);
    for (const path of paths) {
      for (const method of ['get', 'post', 'put'] as const) {
        const res = await request(sb.url)[method](`${path}?%%=&&=x&a=%FF`).set('Content-Type', 'application/json').send('{oops');
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
    }
    expect(flow('hubspot')).toBeDefined();
  });
});
