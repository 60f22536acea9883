/**
 * The node:http transport under the token client: keep-alive reuse, idle connections closed before the
 * server's own idle timeout, the one retry a reset connection earns, and the `agent` option (and
 * passport-oauth2's `_oauth2.setAgent`) for token, refresh and profile requests. Real loopback servers.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { IDLE_SOCKET_MS, TokenClient, defaultAgents } from '../src/provider-kit';
import { TestStrategy } from './helpers';

interface Served {
  url: string;
  connections: number;
  requests: number;
  close(): Promise<void>;
}

/** A token endpoint that counts connections and requests; `onRequest` may act on the raw socket. */
async function tokenServer(onRequest?: (n: number, req: IncomingMessage, res: ServerResponse) => boolean): Promise<Served> {
  const sockets = new Set<Socket>();
  const served = { connections: 0, requests: 0 } as Served;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served.requests++;
      if (onRequest?.(served.requests, req, res)) return;
      const body = JSON.stringify({ access_token: `at-${served.requests}`, token_type: 'bearer', expires_in: 60 });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    served.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  served.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  served.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  Object.defineProperty(served, 'openSockets', { get: () => sockets.size });
  return served;
}

const client = (url: string, extra: Partial<ConstructorParameters<typeof TokenClient>[0]> = {}) =>
  new TokenClient({ tokenURL: url, clientID: 'id', clientSecret: 'secret-value', ...extra });

test('keep-alive: consecutive token requests share one connection', async () => {
  const server = await tokenServer();
  try {
    const c = client(server.url);
    for (let i = 0; i < 5; i++) await c.requestToken({ grant_type: 'client_credentials' });
    expect(server.requests).toBe(5);
    expect(server.connections).toBe(1);
  } finally {
    await server.close();
  }
});

test(`an idle connection is closed by us after ${IDLE_SOCKET_MS} ms, before the usual server idle timeouts`, async () => {
  const options = (agent: object) => (agent as { options: { keepAlive?: boolean; timeout?: number } }).options;
  expect(options(defaultAgents.http)).toMatchObject({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  expect(options(defaultAgents.https)).toMatchObject({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  const server = await tokenServer();
  try {
    await client(server.url).requestToken({ grant_type: 'client_credentials' });
    const open = () => (server as unknown as { openSockets: number }).openSockets;
    expect(open()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SOCKET_MS + 700));
    expect(open()).toBe(0);
  } finally {
    await server.close();
  }
}, 15_000);

test('a token request on a reused connection that breaks before any answer is not sent again (the provider may have processed it): OAUTH_NETWORK', async () => {
  // The second request arrives on the kept-alive connection; the server processes it, then drops the
  // connection unanswered. A resend would present a refresh token the provider may have rotated.
  const server = await tokenServer((n, req) => {
    if (n !== 2) return false;
    req.socket.destroy();
    return true;
  });
  try {
    const c = client(server.url);
    await c.requestToken({ grant_type: 'client_credentials' });
    await expect(c.requestToken({ grant_type: 'client_credentials' })).rejects.toMatchObject({ code: 'OAUTH_NETWORK' });
    expect(server.requests).toBe(2);
  } finally {
    await server.close();
  }
});

test('a profile request (GET) whose connection breaks before any answer is sent once more, on a new connection', async () => {
  const server = await tokenServer((n, req, res) => {
    if (n === 2) {
      req.socket.destroy();
      return true;
    }
    if (!req.url?.startsWith('/me')) return false;
    const body = JSON.stringify({ id: 'u1' });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return true;
  });
  try {
    const base = server.url.replace('/token', '');
    const strategy = new TestStrategy(base, { tokenURL: server.url, userProfileURL: `${base}/me` }, () => undefined);
    const tokens = await strategy.tokenClient.requestToken({ grant_type: 'client_credentials' });
    await new Promise<void>((resolve, reject) => strategy.userProfile(tokens.accessToken, (err) => (err ? reject(err) : resolve())));
    expect(server.requests).toBe(3);
    expect(server.connections).toBe(2);
  } finally {
    await server.close();
  }
});

test('a POST reset on a fresh connection is not sent again (it may have reached the server): OAUTH_NETWORK', async () => {
  const server = await tokenServer((_n, req) => {
    req.socket.destroy();
    return true;
  });
  try {
    const fresh = new http.Agent({ keepAlive: false });
    await expect(client(server.url, { agent: fresh }).requestToken({ grant_type: 'client_credentials' })).rejects.toMatchObject({ code: 'OAUTH_NETWORK' });
    expect(server.requests).toBe(1);
  } finally {
    await server.close();
  }
});

test('an answer cut half-way is not retried: OAUTH_NETWORK, one request', async () => {
  const server = await tokenServer((_n, _req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '500' });
    res.write('{"access_token":"at');
    setTimeout(() => res.socket?.destroy(), 20);
    return true;
  });
  try {
    await expect(client(server.url).requestToken({ grant_type: 'client_credentials' })).rejects.toMatchObject({ code: 'OAUTH_NETWORK' });
    expect(server.requests).toBe(1);
  } finally {
    await server.close();
  }
});

/** An agent that counts the connections it opens: stands in for a proxy agent. */
function countingAgent() {
  const agent = new http.Agent({ keepAlive: true }) as http.Agent & { created: number };
  agent.created = 0;
  const original = agent.createConnection.bind(agent);
  agent.createConnection = ((...args: Parameters<typeof original>) => {
    agent.created++;
    return original(...args);
  }) as typeof agent.createConnection;
  return agent;
}

test('the `agent` option carries the strategy\'s token and profile requests', async () => {
  const server = await tokenServer((_n, req, res) => {
    if (!req.url?.startsWith('/me')) return false;
    const body = JSON.stringify({ id: 'u1', email: 'u1@example.com' });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    return true;
  });
  const agent = countingAgent();
  try {
    const base = server.url.replace('/token', '');
    const strategy = new TestStrategy(base, { tokenURL: server.url, userProfileURL: `${base}/me`, agent }, () => undefined);
    expect(strategy.tokenClient.agent).toBe(agent);
    const tokens = await strategy.tokenClient.requestToken({ grant_type: 'client_credentials' });
    await new Promise<void>((resolve, reject) => strategy.userProfile(tokens.accessToken, (err) => (err ? reject(err) : resolve())));
    expect(agent.created).toBeGreaterThanOrEqual(1);
    expect(server.requests).toBe(2);
  } finally {
    agent.destroy();
    await server.close();
  }
});

test("passport-oauth2's `_oauth2.setAgent(agent)` reroutes the token client too", async () => {
  const server = await tokenServer();
  const agent = countingAgent();
  try {
    const strategy = new TestStrategy(server.url.replace('/token', ''), { tokenURL: server.url }, () => undefined);
    const oauth2 = (strategy as unknown as { _oauth2: { setAgent(a: http.Agent): void } })._oauth2;
    oauth2.setAgent(agent);
    await strategy.tokenClient.requestToken({ grant_type: 'client_credentials' });
    expect(agent.created).toBe(1);
  } finally {
    agent.destroy();
    await server.close();
  }
});
