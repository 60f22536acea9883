/**
 * The one error type handlers throw. The provider router turns it into the provider's error shape, so a
 * handler never formats an error body itself.
 */

/** What an error is about, so dialects with legacy codes (HubSpot's `status`) can name it. */
export type ErrorSubject = 'code' | 'refresh_token' | 'redirect_uri' | 'client';

export class SandboxError extends Error {
  constructor(
    /** HTTP status. */
    readonly status: number,
    /** RFC 6749 error code (or a close relative such as `invalid_target`, `not_found`). */
    readonly error: string,
    /** Human-readable; never contains a secret, code or token. */
    readonly description: string,
    readonly subject?: ErrorSubject,
    /** The client tried HTTP Basic: a 401 then carries `WWW-Authenticate: Basic` (RFC 6749 5.2). */
    readonly basicAttempted = false,
  ) {
    super(`${error}: ${description}`);
    this.name = 'SandboxError';
  }
}

export const invalidRequest = (description: string) => new SandboxError(400, 'invalid_request', description);

export const invalidGrant = (description: string, subject: ErrorSubject) =>
  new SandboxError(400, 'invalid_grant', description, subject);

export const invalidClient = (description: string, basicAttempted = false) =>
  new SandboxError(401, 'invalid_client', description, 'client', basicAttempted);

/** An OAuth failure as the dialects see it (the shape function's input). */
export interface ErrorInfo {
  status: number;
  error: string;
  description: string;
  subject?: ErrorSubject;
}

/** Renders an error body in a provider's shape. */
export type ErrorShape = (info: ErrorInfo) => Record<string, unknown>;

/** RFC 6749 section 5.2. */
export const rfc6749Shape: ErrorShape = ({ error, description }) => ({ error, error_description: description });
