import diagnosticsChannel from 'node:diagnostics_channel';
import type { TracingChannel } from 'node:diagnostics_channel';
import { scrub } from './redact';

/**
 * Events on Node's built-in `diagnostics_channel`, for operators (OpenTelemetry spans, counters)
 * without a dependency in this package. Payloads carry names, statuses, durations and error codes —
 * never a token, code, secret, state value or full URL (query strings can hold secrets).
 *
 * A channel with no subscriber costs one boolean check: payloads are built only when someone listens.
 */
export const CHANNELS = {
  /** Tracing channel (start / end / asyncStart / asyncEnd / error): one request to a provider. */
  providerRequest: 'passport-martech:provider-request',
} as const;

/** The context of a `passport-martech:provider-request` trace; status and duration are set before asyncEnd. */
export interface ProviderRequestEvent extends TraceContext {
  /** Provider id, when the request is made for one. */
  provider: string | undefined;
  /** What the request is for: `token`, `profile`, `registration`, `discovery`, `revocation`, `api`. */
  kind: string;
  /** For token requests: the grant type (`authorization_code`, `refresh_token`, `client_credentials`...). */
  grantType: string | undefined;
  method: string;
  /** Scheme, host and path of the endpoint — never its query string; a secret in the path is replaced. */
  endpoint: string;
  /** HTTP status of the answer; undefined when none arrived. */
  status?: number;
}

/** True when anyone listens to any of the tracing channel's events. */
export function isTraced(channel: TracingChannel<object, object>): boolean {
  return channel.start.hasSubscribers || channel.end.hasSubscribers || channel.asyncStart.hasSubscribers || channel.asyncEnd.hasSubscribers || channel.error.hasSubscribers;
}

/** What every traced context gets: how long the work took, and the stable `code` of its error. */
export interface TraceContext {
  durationMs?: number;
  errorCode?: string;
}

/**
 * Runs `work` inside a trace when the channel has subscribers, else runs it bare (the context is not
 * even built). `work` fills the context; duration and error code are added here. The trace resolves to
 * nothing, so the result (a provider answer, which may hold tokens) never lands on `context.result`.
 */
export async function traced<T, C extends TraceContext & object>(
  channel: TracingChannel<object, C>,
  context: () => C,
  work: (context: C | undefined) => Promise<T>,
  codeOf: (error: unknown) => string | undefined = errorCodeOf,
): Promise<T> {
  if (!isTraced(channel as TracingChannel<object, object>)) return work(undefined);
  const event = context();
  const started = performance.now();
  let result: T | undefined;
  await channel.tracePromise(async () => {
    try {
      result = await work(event);
    } catch (error) {
      event.errorCode ??= codeOf(error);
      throw error;
    } finally {
      event.durationMs = performance.now() - started;
    }
  }, event);
  return result as T;
}

/** A typed error's stable `code`; undefined for anything else (messages are never copied into events). */
export function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const providerRequests = diagnosticsChannel.tracingChannel<object, ProviderRequestEvent>(CHANNELS.providerRequest);

/**
 * `https://host/path` of a URL, without query or fragment, and with any secret of the request in its path
 * replaced (a provider may take the token as a path segment, as HubSpot's v1 identity call does); a
 * malformed URL is named as such.
 */
export function endpointOf(url: string, secrets: readonly (string | undefined)[] = []): string {
  let endpoint: string;
  try {
    const parsed = new URL(url);
    endpoint = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid url)';
  }
  return scrub(endpoint, secrets.flatMap((secret) => (secret ? [secret, encodeURIComponent(secret)] : [])));
}
