import { ErrorBodyParser, parseRfc6749Error } from '@passport-martech/oauth2/provider-kit';

/** BoomTown's error shape is UNK; the guides describe RFC 6749 `{ error, error_description }`. */
export const parseBoomTownError: ErrorBodyParser = parseRfc6749Error;
