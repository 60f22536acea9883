/** startSandbox: createSandbox listening on a port (a free one by default) on 127.0.0.1. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSandbox } from './app';
import type { SandboxState } from './state';
import type {
  ExpireRequest,
  Fault,
  ProviderId,
  RefreshTokenReuse,
  RefreshTokenStatus,
  RevokeRequest,
  SandboxAudit,
  SandboxStats,
  StartOptions,
} from './types';
import { PROVIDER_IDS } from './types';

export interface RunningSandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234`; each provider lives under `${url}/<id>`. */
  url: string;
  port: number;
  /** `${url}/<id>` per provider. */
  urls: Record<ProviderId, string>;
  server: Server;
  state: SandboxState;
  /** Stops listening and drops open connections. Safe to call twice. */
  close(): Promise<void>;
  stats(): SandboxStats;
  /** Per-provider refresh-token counters (no token values). */
  audit(): SandboxAudit;
  /** Clears faults, stats, the audit, codes and tokens; the reuse policy goes back to the configured one. */
  reset(): void;
  addFault(fault: Fault): Fault;
  clearFaults(): void;
  /** Makes access tokens expired now; returns how many. */
  expire(request: ExpireRequest): number;
  /** Revokes the grants of refresh tokens; returns how many live refresh tokens stopped working. */
  revoke(request: RevokeRequest): number;
  /** Sets what a rotated refresh token does when presented again; throws on a malformed policy. */
  setRefreshTokenReuse(policy: RefreshTokenReuse): RefreshTokenReuse;
  /** Whether a refresh token would work now, was rotated, or had its grant revoked. */
  refreshTokenStatus(provider: ProviderId, refreshToken: string): RefreshTokenStatus;
}

/** A host as it appears in a URL: IPv6 in brackets, wildcard addresses as loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSandbox(options: StartOptions = {}): Promise<RunningSandbox> {
  const { port = 0, host = '127.0.0.1', ...sandboxOptions } = options;
  const { app, state } = createSandbox(sandboxOptions);
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${actualPort}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: actualPort,
    urls: Object.fromEntries(PROVIDER_IDS.map((id) => [id, `${url}/${id}`])) as Record<ProviderId, string>,
    server,
    state,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
    stats: () => state.stats(),
    audit: () => state.audit(),
    reset: () => state.reset(),
    addFault: (fault) => state.addFault(fault),
    clearFaults: () => state.clearFaults(),
    expire: (request) => state.expire(request),
    revoke: (request) => state.revoke(request),
    setRefreshTokenReuse: (policy) => state.setRefreshTokenReuse(policy),
    refreshTokenStatus: (provider, refreshToken) => state.refreshTokenStatus(provider, refreshToken),
  };
}
