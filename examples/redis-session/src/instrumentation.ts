/**
 * Token traffic as metrics and spans, from the `diagnostics_channel` events the packages publish
 * (see the oauth2 and refresh READMEs, "Instrumentation"). No dependency: counters render in the
 * Prometheus text format, and spans go to any tracer shaped like OpenTelemetry's.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { RequestHandler } from 'express';
import { CHANNELS, type ProviderRequestEvent } from '@passport-martech/oauth2';
import { REFRESH_CHANNELS, type LockEvent, type RefreshFlightEvent, type SchedulerPassEvent } from '@passport-martech/refresh';

const PROVIDER_REQUEST = CHANNELS.providerRequest;
const { refresh: REFRESH, lock: REFRESH_LOCK, schedulerPass: SCHEDULER_PASS } = REFRESH_CHANNELS;

type Labels = Record<string, string | number | undefined>;
type TraceHandlers<C> = { start(c: C): void; end(c: C): void; asyncStart(c: C): void; asyncEnd(c: C): void; error(c: C): void };

const ignore = (): void => undefined;

function traceHandlers<C>(handlers: Partial<TraceHandlers<C>>): TraceHandlers<C> {
  return { start: ignore, end: ignore, asyncStart: ignore, asyncEnd: ignore, error: ignore, ...handlers };
}

/** Counters and duration sums keyed by metric name and label set. */
class Counters {
  readonly #values = new Map<string, { name: string; labels: Labels; value: number }>();

  add(name: string, labels: Labels, value = 1): void {
    const key = `${name}${JSON.stringify(labels)}`;
    const entry = this.#values.get(key) ?? { name, labels, value: 0 };
    entry.value += value;
    this.#values.set(key, entry);
  }

  /** The Prometheus text exposition format (counters only). */
  render(): string {
    const lines: string[] = [];
    const typed = new Set<string>();
    for (const { name, labels, value } of [...this.#values.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (!typed.has(name)) {
        lines.push(`# TYPE ${name} counter`);
        typed.add(name);
      }
      const text = Object.entries(labels)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, '_')}"`)
        .join(',');
      lines.push(`${name}{${text}} ${Number.isInteger(value) ? value : value.toFixed(3)}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

export interface TokenMetrics {
  /** The counters so far, in the Prometheus text format. */
  render(): string;
  /** Unsubscribes (the channels cost nothing again). */
  stop(): void;
}

/**
 * Subscribes to the token-traffic channels and counts: provider requests by provider, kind and outcome
 * (status or error code) with their total seconds; refresh flights by outcome, with joined callers;
 * lock attempts by outcome; scheduler passes and their refreshed / failed members.
 */
export function collectTokenMetrics(): TokenMetrics {
  const counters = new Counters();
  const requests = traceHandlers<ProviderRequestEvent>({
    asyncEnd: (e) => {
      const labels = { provider: e.provider, kind: e.kind, outcome: e.errorCode ?? e.status };
      counters.add('martech_provider_requests_total', labels);
      counters.add('martech_provider_request_seconds_total', labels, (e.durationMs ?? 0) / 1000);
    },
  });
  const flights = traceHandlers<RefreshFlightEvent>({
    asyncEnd: (e) => {
      counters.add('martech_refresh_flights_total', { provider: e.provider, trigger: e.trigger, outcome: e.outcome, error: e.errorCode });
      counters.add('martech_refresh_joined_callers_total', { provider: e.provider }, e.joined);
    },
  });
  const passes = traceHandlers<SchedulerPassEvent>({
    asyncEnd: (e) => {
      counters.add('martech_scheduler_passes_total', {});
      counters.add('martech_scheduler_refreshed_total', {}, e.refreshed ?? 0);
      counters.add('martech_scheduler_failed_total', {}, e.failed ?? 0);
    },
    error: (e) => counters.add('martech_scheduler_pass_errors_total', { error: e.errorCode }),
  });
  const lock = (message: unknown) => {
    const e = message as LockEvent;
    counters.add('martech_refresh_lock_attempts_total', { provider: e.provider, outcome: e.outcome, error: e.errorCode });
  };
  diagnosticsChannel.tracingChannel(PROVIDER_REQUEST).subscribe(requests as TraceHandlers<unknown>);
  diagnosticsChannel.tracingChannel(REFRESH).subscribe(flights as TraceHandlers<unknown>);
  diagnosticsChannel.tracingChannel(SCHEDULER_PASS).subscribe(passes as TraceHandlers<unknown>);
  diagnosticsChannel.subscribe(REFRESH_LOCK, lock);
  return {
    render: () => counters.render(),
    stop: () => {
      diagnosticsChannel.tracingChannel(PROVIDER_REQUEST).unsubscribe(requests as TraceHandlers<unknown>);
      diagnosticsChannel.tracingChannel(REFRESH).unsubscribe(flights as TraceHandlers<unknown>);
      diagnosticsChannel.tracingChannel(SCHEDULER_PASS).unsubscribe(passes as TraceHandlers<unknown>);
      diagnosticsChannel.unsubscribe(REFRESH_LOCK, lock);
    },
  };
}

/** The part of an OpenTelemetry `Tracer` this needs (`trace.getTracer('passport-martech')` fits). */
export interface SpanTracer {
  startSpan(name: string, options: { attributes: Record<string, string | number | boolean> }): {
    setAttribute(key: string, value: string | number | boolean): unknown;
    setStatus(status: { code: number; message?: string }): unknown;
    end(): void;
  };
}

/** OpenTelemetry's SpanStatusCode.ERROR. */
const SPAN_STATUS_ERROR = 2;

/**
 * Provider requests and refresh flights as spans: opened at `start`, kept on the event's context,
 * closed at `asyncEnd` with the outcome as attributes (an error sets the span's status).
 */
export function traceTokenTraffic(tracer: SpanTracer): () => void {
  type Span = ReturnType<SpanTracer['startSpan']>;
  const spans = new WeakMap<object, Span>();
  const finish = (context: object, attributes: Record<string, string | number | boolean | undefined>, errorCode: string | undefined) => {
    const span = spans.get(context);
    if (!span) return;
    for (const [key, value] of Object.entries(attributes)) if (value !== undefined) span.setAttribute(key, value);
    if (errorCode) span.setStatus({ code: SPAN_STATUS_ERROR, message: errorCode });
    span.end();
    spans.delete(context);
  };
  const requests = traceHandlers<ProviderRequestEvent>({
    start: (e) => spans.set(e, tracer.startSpan(`${e.provider ?? 'provider'} ${e.kind}`, { attributes: { 'http.request.method': e.method, 'url.full': e.endpoint, 'oauth.grant_type': e.grantType ?? '' } })),
    asyncEnd: (e) => finish(e, { 'http.response.status_code': e.status, 'error.type': e.errorCode }, e.errorCode),
  });
  const flights = traceHandlers<RefreshFlightEvent>({
    start: (e) => spans.set(e, tracer.startSpan(`refresh ${e.provider}`, { attributes: { 'refresh.trigger': e.trigger } })),
    asyncEnd: (e) =>
      finish(e, { 'refresh.outcome': e.outcome, 'refresh.joined': e.joined, 'refresh.attempts': e.attempts, 'refresh.lock_wait_ms': e.lockWaitMs, 'refresh.rotated': e.rotated, 'error.type': e.errorCode }, e.errorCode),
  });
  diagnosticsChannel.tracingChannel(PROVIDER_REQUEST).subscribe(requests as TraceHandlers<unknown>);
  diagnosticsChannel.tracingChannel(REFRESH).subscribe(flights as TraceHandlers<unknown>);
  return () => {
    diagnosticsChannel.tracingChannel(PROVIDER_REQUEST).unsubscribe(requests as TraceHandlers<unknown>);
    diagnosticsChannel.tracingChannel(REFRESH).unsubscribe(flights as TraceHandlers<unknown>);
  };
}

/**
 * `GET /metrics` for a scraper that sends `Authorization: Bearer <token>` (Prometheus `bearer_token`);
 * anyone else gets a 404, as if there were no such page. The counters start with the app.
 */
export function metricsRoute(token: string): { handler: RequestHandler; stop(): void } {
  const metrics = collectTokenMetrics();
  const expected = createHash('sha256').update(`Bearer ${token}`).digest();
  const handler: RequestHandler = (req, res, next) => {
    const given = createHash('sha256').update(req.get('authorization') ?? '').digest();
    if (!timingSafeEqual(given, expected)) return next();
    res.set('Cache-Control', 'no-store').type('text/plain; version=0.0.4').send(metrics.render());
  };
  return { handler, stop: () => metrics.stop() };
}
