/**
 * The HTTP server's limits (server.ts): a client that trickles its headers or its body is cut off within
 * the configured time, idle keep-alive connections are closed, and connections beyond the cap are refused.
 * Small limits through the same variables a deployment sets, raw sockets as a slow client would use.
 */
import { createConnection, type Socket } from 'node:net';
import { loadConfig } from '../src/config';
import { freePort } from '../src/redis-server';
import { startServer, type RunningServer } from '../src/server';
import { SECRET } from './helpers';

let server: RunningServer | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close(500);
  server = undefined;
});

async function start(env: Record<string, string>): Promise<number> {
  const port = await freePort();
  server = await startServer(
    loadConfig({ PORT: String(port), HOST: '127.0.0.1', REDIS_URL: 'memory', SESSION_SECRET: SECRET, LOG_LEVEL: 'silent', ...env }),
  );
  return server.port;
}

interface Slow {
  socket: Socket;
  /** Resolves when the server closes the connection: ms since connect, and what it answered. */
  closed: Promise<{ ms: number; answer: string }>;
}

function connect(port: number): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    sockets.push(socket);
    let answer = '';
    let connectedAt = 0;
    socket.on('data', (chunk) => (answer += chunk.toString()));
    const closed = new Promise<{ ms: number; answer: string }>((done) => socket.once('close', () => done({ ms: Date.now() - connectedAt, answer })));
    socket.once('error', () => undefined);
    socket.once('connect', () => {
      connectedAt = Date.now();
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
function trickle(socket: Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

const LIMITS = { HTTP_HEADERS_TIMEOUT_MS: '600', HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '500' };

test('a client trickling an 8 KB body is cut off (408) within the request timeout', async () => {
  const port = await start(LIMITS);
  const { socket, closed } = await connect(port);
  socket.write('POST /logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 8192\r\n\r\n');
  trickle(socket, `_csrf=${'x'.repeat(8186)}`, 50);
  const { ms, answer } = await closed;
  expect(ms).toBeLessThan(1000 + 600);
  expect(answer).toMatch(/^HTTP\/1\.1 408/);
});

test('a client trickling its headers is cut off within the headers timeout', async () => {
  const port = await start(LIMITS);
  const { socket, closed } = await connect(port);
  trickle(socket, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'y'.repeat(500)}\r\n\r\n`, 40);
  const { ms } = await closed;
  expect(ms).toBeLessThan(600 + 400);
});

test('an idle keep-alive connection is closed after the keep-alive timeout; a prompt request is served', async () => {
  const port = await start(LIMITS);
  const { socket, closed } = await connect(port);
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const { ms, answer } = await closed;
  expect(answer).toMatch(/^HTTP\/1\.1 200/);
  expect(answer).toMatch(/Keep-Alive: timeout=0\b/); // what clients are told: 500 ms, rounded down
  // Node keeps the socket one second past the advertised timeout (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER), so
  // that a client reusing it at the last moment is not cut off mid-request.
  expect(ms).toBeLessThan(500 + 1000 + 400);
});

test('connections beyond MAX_CONNECTIONS are closed at once; the ones within are served', async () => {
  const port = await start({ ...LIMITS, MAX_CONNECTIONS: '3' });
  const open = await Promise.all([connect(port), connect(port), connect(port)]);
  const extra = await connect(port);
  const { ms, answer } = await extra.closed;
  expect(answer).toBe('');
  expect(ms).toBeLessThan(300);
  open[0].socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  expect((await open[0].closed).answer).toMatch(/^HTTP\/1\.1 200/);
});

test('the defaults are what a reverse proxy would use, and are checked', () => {
  const config = loadConfig({ REDIS_URL: 'memory', SESSION_SECRET: SECRET });
  expect(config).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 65_000, maxConnections: 1000, authRateLimit: 30 });
  expect(() => loadConfig({ REDIS_URL: 'memory', SESSION_SECRET: SECRET, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(
    /HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS/,
  );
});
