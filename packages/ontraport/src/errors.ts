import { ErrorBodyParser, isRecord, parseRfc6749Error } from '@passport-martech/oauth2/provider-kit';

/**
 * Ontraport's OAuth servers answer RFC 6749 errors (GUIDE, CODE). Its REST envelope `{ code, message }`
 * with a non-zero `code` (CODE) is read too, as `ONTRAPORT_<code>`.
 */
export const parseOntraportError: ErrorBodyParser = (json, status) => {
  const rfc = parseRfc6749Error(json, status);
  if (rfc) return rfc;
  if (!isRecord(json) || typeof json.code !== 'number' || json.code === 0 || status < 400) return undefined;
  return { code: `ONTRAPORT_${json.code}`, description: typeof json.message === 'string' ? json.message : undefined };
};
