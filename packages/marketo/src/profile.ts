import { Profile, TokenIdentityHook, isEmail } from '@passport-martech/oauth2/provider-kit';

/**
 * The profile of a Marketo login. Marketo documents no identity endpoint (UNK); the token response's
 * `scope` is the API user's email (DOC for client credentials), so `id` is the first of `user_id`,
 * `account_id`, `id`, `sub`, `email`, then that email. Set `userProfileURL` to use an identity
 * endpoint instead.
 */
export interface MarketoProfile extends Profile {
  provider: 'marketo';
}

/**
 * Marketo's token answer names the API user only through `scope`, an email (DOC for client credentials;
 * docs/providers.md): it is the identity when no standard field is present, and always an email.
 */
export const marketoTokenIdentity: TokenIdentityHook = (tokenResponse) =>
  isEmail(tokenResponse.scope) ? { id: tokenResponse.scope, email: tokenResponse.scope } : undefined;
