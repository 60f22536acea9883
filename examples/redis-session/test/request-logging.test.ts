/** The request logger and the fixed security headers, on a bare Express app (no Redis, no providers). */
import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { createLogger, requestLogger } from '../src/logging';
import { fixedHeaders } from '../src/security';

function appWith(level: 'info' | 'warn') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const app = express();
  app.use(requestLogger(logger));
  app.get('/ok', (_req, res) => res.json({ ok: true }));
  app.get('/note', (req, res) => {
    req.log?.warn({ accessToken: 'secret-access-token' }, 'a note');
    res.status(404).json({});
  });
  app.get('/boom', (_req, res) => res.status(502).send('bad gateway'));
  app.get('/healthz', (_req, res) => res.status(500).end());
  return { app, lines };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('at warn, a 2xx writes nothing; a 4xx is a warn and a 5xx an error, in pino-http line format', async () => {
  const { app, lines } = appWith('warn');
  await request(app).get('/ok?code=abc').set('Cookie', 'sid=s%3Asecret').expect(200);
  await settle();
  expect(lines).toHaveLength(0);
  await request(app).get('/note?code=the-code&state=the-state').set('Cookie', 'sid=s%3Asecret').expect(404);
  await request(app).get('/boom').expect(502);
  await settle();
  const note = lines.find((l) => l.msg === 'a note') as { req: { url: string; headers: Record<string, string> }; accessToken: string; level: number };
  expect(note.level).toBe(40);
  expect(note.accessToken).toBe('[Redacted]');
  expect(note.req.url).toBe('/note?code=%5BRedacted%5D&state=%5BRedacted%5D');
  expect(note.req.headers.cookie).toBe('[Redacted]');
  const completed = lines.find((l) => l.msg === 'request completed') as { level: number; res: { statusCode: number }; responseTime: number };
  expect(completed).toMatchObject({ level: 40, res: { statusCode: 404 } });
  expect(typeof completed.responseTime).toBe('number');
  const errored = lines.find((l) => l.msg === 'request errored') as { level: number; res: { statusCode: number }; err: { message: string } };
  expect(errored).toMatchObject({ level: 50, res: { statusCode: 502 }, err: { message: 'failed with status code 502' } });
  expect(JSON.stringify(lines)).not.toMatch(/secret-access-token|the-code|the-state|s%3Asecret/);
});

test('at info every request is logged with a request id, except /healthz', async () => {
  const { app, lines } = appWith('info');
  await request(app).get('/ok').expect(200);
  await request(app).get('/ok').expect(200);
  await request(app).get('/healthz').expect(500);
  await settle();
  const ids = lines.map((l) => (l.req as { id: number }).id);
  expect(lines.map((l) => l.msg)).toEqual(['request completed', 'request completed']);
  expect(ids[1]).toBeGreaterThan(ids[0]);
});

test('fixedHeaders sets exactly the headers helmet sets', async () => {
  const options = { contentSecurityPolicy: { directives: { 'form-action': ["'self'", 'https://app.hubspot.com'] } } };
  const headersOf = async (use: express.RequestHandler) => {
    const app = express();
    app.use(use);
    app.get('/', (_req, res) => res.send('ok'));
    const res = await request(app).get('/').expect(200);
    const { date: _date, etag: _etag, ...rest } = res.headers;
    return rest;
  };
  const fixed = await headersOf(fixedHeaders(helmet(options)) as express.RequestHandler);
  expect(fixed).toEqual(await headersOf(helmet(options) as express.RequestHandler));
  expect(fixed['content-security-policy']).toContain("form-action 'self' https://app.hubspot.com");
  expect(() => fixedHeaders((_req, _res, next) => setImmediate(next))).toThrow(/at once/);
});
