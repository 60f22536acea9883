import {
  ErrorBodyParser,
  ErrorCode,
  OAuthRequestError,
  OAuthTokenError,
  isRecord,
  parseRfc6749Error,
  safeCause,
} from './errors';
import type { TracingChannel } from 'node:diagnostics_channel';
import { endpointOf, isTraced, providerRequests, traced } from './diagnostics';
import { bodyExcerpt, bodySummary, redactJson, scrub } from './redact';
import { ResponseTooLarge, TransportTimeout, send, type ProviderAgent, type TransportResponse } from './transport';

/** Token and identity answers are small; anything larger is refused before it is held in memory. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface ProviderRequest {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Milliseconds for the whole exchange, body included. */
  timeout: number;
  /** Values that must never appear in an error: client secret, code, tokens. */
  secrets: readonly (string | undefined)[];
  /** For messages: "Token request", "Profile request". */
  label: string;
  provider?: string;
  /** For instrumentation: `token`, `profile`, `registration`, `discovery`, `revocation`, `api` (default `api`). */
  kind?: string;
  /** For instrumentation: the grant type of a token request. */
  grantType?: string;
  /** The agent to send it with (a proxy agent, say); default: a shared keep-alive agent. */
  agent?: ProviderAgent;
}

export interface ProviderResponse {
  status: number;
  headers: { get(name: string): string | null };
  text: string;
  /** The parsed body when it is JSON (or a form-encoded token response); undefined otherwise. */
  json: unknown;
}

/**
 * One request to a provider (node:http / node:https, keep-alive; see transport.ts): redirects are
 * not followed, the timeout covers the body, and every transport failure becomes a typed error with
 * no secret in it.
 */
export function sendProviderRequest(request: ProviderRequest): Promise<ProviderResponse> {
  return requestProvider(request, (response) => response);
}

/**
 * sendProviderRequest, then `read` (which parses the answer and throws the typed error): both inside
 * one `passport-martech:provider-request` trace when anyone listens, so the event has the error's code.
 */
export function requestProvider<T>(request: ProviderRequest, read: (response: ProviderResponse) => T): Promise<T> {
  // Nobody listens (the usual case): no trace context, no async wrapper, one promise less per request.
  if (!isTraced(providerRequests as TracingChannel<object, object>)) return exchange(request).then(read);
  return traced(
    providerRequests,
    () => ({ provider: request.provider, kind: request.kind ?? 'api', grantType: request.grantType, method: request.method, endpoint: endpointOf(request.url, request.secrets) }),
    async (event) => {
      let response: ProviderResponse;
      try {
        response = await exchange(request);
      } catch (error) {
        if (event) event.status = (error as { status?: number }).status;
        throw error;
      }
      if (event) event.status = response.status;
      return read(response);
    },
  );
}

async function exchange(request: ProviderRequest): Promise<ProviderResponse> {
  let response: TransportResponse;
  try {
    response = await send({
      url: request.url,
      method: request.method,
      headers: { Accept: 'application/json', ...request.headers },
      body: request.body,
      timeoutMs: request.timeout,
      maxBytes: MAX_RESPONSE_BYTES,
      agent: request.agent,
      reuseTarget: !request.secrets.some((secret) => secret !== undefined && secret !== '' && request.url.includes(secret)),
    });
  } catch (error) {
    throw transportError(request, error);
  }
  if (response.status >= 300 && response.status < 400) {
    throw new OAuthRequestError({
      code: ErrorCode.UNEXPECTED_REDIRECT,
      status: response.status,
      provider: request.provider,
      message: `${request.label} failed: the provider answered HTTP ${response.status} with a redirect, which is not followed`,
    });
  }
  return { status: response.status, headers: response.headers, text: response.text, json: parseBody(response.text, response.headers.get('content-type')) };
}

function transportError(request: ProviderRequest, error: unknown): OAuthRequestError {
  if (error instanceof ResponseTooLarge) {
    return new OAuthRequestError({
      code: ErrorCode.UNEXPECTED_RESPONSE,
      provider: request.provider,
      message: `${request.label} failed: the answer is larger than ${MAX_RESPONSE_BYTES} bytes`,
    });
  }
  if (error instanceof TransportTimeout) {
    return new OAuthRequestError({
      code: ErrorCode.TIMEOUT,
      provider: request.provider,
      message: `${request.label} failed: no answer within ${request.timeout} ms`,
      cause: safeCause(error, request.secrets),
    });
  }
  const cause = safeCause(error, request.secrets);
  const reason = cause?.message ?? 'unknown error';
  return new OAuthRequestError({
    code: ErrorCode.NETWORK,
    provider: request.provider,
    message: `${request.label} failed: network error (${reason})`,
    cause,
  });
}

function parseBody(text: string, contentType: string | null): unknown {
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  const trimmed = text.trim();
  if (type.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface ReadJsonOptions {
  parseError?: ErrorBodyParser;
  secrets: readonly (string | undefined)[];
  label: string;
  provider?: string;
}

/**
 * The JSON object of a successful answer, or the typed error the answer amounts to: the provider's
 * named error (non-2xx, or a 2xx that carries one), an HTTP error, or an unexpected body.
 */
export function readJsonObject(response: ProviderResponse, options: ReadJsonOptions): Record<string, unknown> {
  const { status, json } = response;
  const ok = status >= 200 && status < 300;
  const named = json === undefined ? undefined : (options.parseError ?? parseRfc6749Error)(json, status);
  const excerpt = () => bodyExcerpt(response.text, options.secrets) || '(empty)';
  if (named) {
    const description = named.description ? ` (${bodyExcerpt(named.description, options.secrets)})` : '';
    return failWith(
      new OAuthTokenError({
        code: named.code,
        status,
        description: named.description === undefined ? undefined : bodyExcerpt(named.description, options.secrets),
        uri: named.uri === undefined ? undefined : scrub(named.uri, options.secrets),
        details: named.details && redactDetails(named.details, options.secrets),
        provider: options.provider,
        message: `${options.label} failed: ${named.code}${description}, HTTP ${status}`,
      }),
    );
  }
  if (!ok) {
    return failWith(
      new OAuthRequestError({
        code: ErrorCode.HTTP_ERROR,
        status,
        provider: options.provider,
        message: `${options.label} failed: HTTP ${status}; body: ${excerpt()}`,
      }),
    );
  }
  if (!isRecord(json)) {
    const what = response.text.trim() === '' ? 'an empty body' : /^\s*</.test(response.text) ? 'HTML' : 'a body that is not a JSON object';
    return failWith(
      new OAuthRequestError({
        code: ErrorCode.UNEXPECTED_RESPONSE,
        status,
        provider: options.provider,
        message: `${options.label} failed: HTTP ${status} with ${what} (${bodySummary(response.text, response.headers.get('content-type'))})`,
      }),
    );
  }
  return json;
}

function redactDetails(details: Record<string, unknown>, secrets: readonly (string | undefined)[]): Record<string, unknown> {
  return scrubDeep(redactJson(details), secrets) as Record<string, unknown>;
}

/** Every string inside `value` (nested objects and arrays included) scrubbed of `secrets`. */
function scrubDeep(value: unknown, secrets: readonly (string | undefined)[]): unknown {
  if (typeof value === 'string') return scrub(value, secrets);
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, secrets));
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubDeep(item, secrets)]));
  return value;
}

function failWith(error: Error): never {
  throw error;
}
