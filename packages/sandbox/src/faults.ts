/**
 * Fault injection: what a client must survive from a real provider (5xx, an HTML maintenance page, a
 * redirect to a login page, an empty body, a revoked grant, slowness, a dropped connection, an answer lost
 * after the provider did the work).
 */
import type { Response } from 'express';
import { SandboxError, type ErrorShape, type ErrorSubject } from './errors';
import { sleep } from './timers';
import type { Fault, FaultKind, SandboxEndpoint } from './types';
import { ENDPOINTS, FAULT_KINDS, PROVIDER_IDS } from './types';

const DEFAULT_DELAY_MS = 1000;
const MAX_DELAY_MS = 5 * 60 * 1000;
/** Not a listening port on any sane machine (discard); a client must not follow the redirect anyway. */
export const FAULT_REDIRECT_LOCATION = 'http://127.0.0.1:9/elsewhere';

/** Endpoints whose handler acts on a `lost_answer` fault (it needs work done before the answer). */
const LOST_ANSWER_ENDPOINTS: readonly SandboxEndpoint[] = ['token', 'refresh'];

function bad(description: string): SandboxError {
  return new SandboxError(400, 'invalid_request', description);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw bad(`"${name}" must be one of: ${allowed.join(', ')}`);
  }
  return value as T;
}

function optionalInteger(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(`"${name}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** Checks a fault given by a user (option, HTTP body or addFault()); throws SandboxError 400. */
export function validateFault(input: unknown): Fault {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw bad('a fault must be an object');
  const raw = input as Record<string, unknown>;
  const known = new Set(['provider', 'endpoint', 'fault', 'delayMs', 'times']);
  const unknown = Object.keys(raw).find((k) => !known.has(k));
  if (unknown) throw bad(`unknown fault field "${unknown.slice(0, 40)}"`);
  const fault: Fault = {
    provider: oneOf(raw.provider, PROVIDER_IDS, 'provider'),
    endpoint: oneOf(raw.endpoint, ENDPOINTS, 'endpoint'),
    fault: oneOf(raw.fault, FAULT_KINDS, 'fault'),
  };
  if (fault.fault === 'lost_answer' && !LOST_ANSWER_ENDPOINTS.includes(fault.endpoint)) {
    throw bad(`"lost_answer" applies to the ${LOST_ANSWER_ENDPOINTS.join(' and ')} endpoints only`);
  }
  const delayMs = optionalInteger(raw.delayMs, 'delayMs', 0, MAX_DELAY_MS);
  const times = optionalInteger(raw.times, 'times', 1, 1_000_000);
  if (delayMs !== undefined) fault.delayMs = delayMs;
  if (times !== undefined) fault.times = times;
  return fault;
}

const ERRORS: Partial<Record<FaultKind, { status: number; error: string; description: string }>> = {
  http500: { status: 500, error: 'server_error', description: 'injected fault: internal server error' },
  http503: { status: 503, error: 'temporarily_unavailable', description: 'injected fault: service unavailable' },
  invalid_grant: { status: 400, error: 'invalid_grant', description: 'injected fault: the grant is invalid' },
};

const HTML_PAGE =
  '<!doctype html><html><head><title>Down for maintenance</title></head>' +
  '<body><h1>We&rsquo;ll be right back</h1><p>Injected fault: an HTML page instead of JSON.</p></body></html>';

/**
 * Acts out a fault. Returns true when the request has been answered (or dropped); false when the handler
 * should go on (after a `delay`).
 */
export async function applyFault(
  res: Response,
  fault: Fault,
  shape: ErrorShape,
  subject?: ErrorSubject,
): Promise<boolean> {
  switch (fault.fault) {
    case 'delay':
      await sleep(fault.delayMs ?? DEFAULT_DELAY_MS);
      return false;
    case 'drop':
      // No answer at all: the client sees a reset / "socket hang up".
      res.req.socket.destroy();
      return true;
    case 'lost_answer':
      // The handler does all its work; answerLost() then destroys the connection instead of answering.
      res.locals.loseAnswer = true;
      return false;
    case 'html':
      res.status(200).type('html').send(HTML_PAGE);
      return true;
    case 'redirect':
      res.status(302).set('Location', FAULT_REDIRECT_LOCATION).end();
      return true;
    case 'empty':
      res.status(200).end();
      return true;
    default: {
      const e = ERRORS[fault.fault];
      if (!e) return false;
      if (fault.fault === 'http503') res.set('Retry-After', '1');
      res.status(e.status).set('Cache-Control', 'no-store').json(shape({ ...e, subject }));
      return true;
    }
  }
}

/**
 * True when a `lost_answer` fault applies to this request: the connection is destroyed (the client sees a
 * reset / "socket hang up") and the caller must not answer.
 */
export function answerLost(res: Response): boolean {
  if (res.locals.loseAnswer !== true) return false;
  res.req.socket.destroy();
  return true;
}
