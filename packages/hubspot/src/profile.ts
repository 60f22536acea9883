import { Profile, cleanIdentity, emailList, idString, isRecord } from '@passport-martech/oauth2/provider-kit';

/**
 * DOC (the v1 token-metadata reference, docs/providers.md): a signed form of the access token, with its
 * `signature` and `newSignature`. As secret as the token; profiles end up in sessions and logs.
 */
const TOKEN_MATERIAL = ['signed_access_token'];

/** The profile a HubSpot login gives the verify callback. */
export interface HubSpotProfile extends Profile {
  provider: 'hubspot';
  /** HubSpot's `user_id`, as a string. */
  id: string;
  /** The user's email (`user`) when HubSpot sends it. */
  displayName?: string;
  /** The HubSpot account (portal) id. */
  hubId?: number;
  /** e.g. `example.com` (introspection only). */
  hubDomain?: string;
  /** The app's id (introspection only). */
  appId?: number;
  /** The granted scopes. */
  scopes: string[];
}

/**
 * Parses HubSpot's identity document: the introspection answer (`/oauth/{v3,2026-03}/token/introspect`),
 * the v1 `access-tokens/{token}` answer, or a token response (since 2025-08 it carries `hub_id` and
 * `scopes`, DOC; `user_id` only optionally, CODE: HubSpot's generated client model). Returns undefined
 * when no `user_id` is present.
 */
export function parseHubSpotProfile(document: unknown, rawText?: string): HubSpotProfile | undefined {
  if (!isRecord(document)) return undefined;
  // The v1 answer echoes the token as `token`, a token response carries both, and the identity answers
  // carry `signed_access_token` (with `signature` and `newSignature`): none of it reaches the profile.
  const { json, raw } = cleanIdentity(document, rawText, TOKEN_MATERIAL);
  const id = idString(json.user_id);
  if (id === undefined) return undefined;
  const email = typeof json.user === 'string' ? json.user : undefined;
  const emails = emailList(email);
  const profile: HubSpotProfile = {
    provider: 'hubspot',
    id,
    emails,
    photos: [],
    scopes: Array.isArray(json.scopes) ? json.scopes.filter((s): s is string => typeof s === 'string') : [],
    _raw: raw,
    _json: json,
  };
  if (email) profile.displayName = email;
  const hubId = toNumber(json.hub_id);
  if (hubId !== undefined) profile.hubId = hubId;
  if (typeof json.hub_domain === 'string' && json.hub_domain !== '') profile.hubDomain = json.hub_domain;
  const appId = toNumber(json.app_id);
  if (appId !== undefined) profile.appId = appId;
  return profile;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}
