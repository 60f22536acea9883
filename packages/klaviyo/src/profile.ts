import { Profile, cleanIdentity, emailList, idString, isRecord, stringField } from '@passport-martech/oauth2/provider-kit';

/**
 * The profile of a Klaviyo login: the connected Klaviyo **account**, from `GET /api/accounts` (DOC: the
 * Accounts API returns the one account the token is for; Klaviyo has no user-info endpoint, so no person
 * is identified). See docs/providers.md, "Klaviyo".
 */
export interface KlaviyoProfile extends Profile {
  provider: 'klaviyo';
  /** The account id (`data[0].id`). */
  id: string;
  /** `contact_information.organization_name`, when set. */
  displayName?: string;
  /**
   * `contact_information.default_sender_email`, typed `default_sender`: the account's sender address, not
   * the email of the person who connected it (DOC fields; who installed is not exposed, UNK).
   */
  emails: { value: string; type?: string }[];
  organizationName?: string;
  /** `test_account`: a Klaviyo test (sandbox) account. */
  testAccount?: boolean;
  timezone?: string;
  preferredCurrency?: string;
  locale?: string;
  websiteUrl?: string;
  /** The account's public API key (site id), used by Klaviyo's client-side APIs; not a secret. */
  publicApiKey?: string;
}

/**
 * Parses the Accounts API answer (JSON:API: `{ data: [{ type: 'account', id, attributes }] }`; `data` may be
 * a single object, as `GET /api/accounts/{id}` answers). Returns undefined without an account id.
 */
export function parseKlaviyoAccount(document: unknown, rawText?: string): KlaviyoProfile | undefined {
  if (!isRecord(document)) return undefined;
  const { json, raw } = cleanIdentity(document, rawText);
  const account = Array.isArray(json.data) ? json.data[0] : json.data;
  if (!isRecord(account) || account.type !== 'account') return undefined;
  const id = idString(account.id);
  if (id === undefined) return undefined;
  const attributes = isRecord(account.attributes) ? account.attributes : {};
  const contact = isRecord(attributes.contact_information) ? attributes.contact_information : {};
  const profile: KlaviyoProfile = {
    provider: 'klaviyo',
    id,
    emails: emailList(contact.default_sender_email).map((email) => ({ ...email, type: 'default_sender' })),
    photos: [],
    _raw: raw,
    _json: json,
  };
  const organizationName = stringField(contact, 'organization_name');
  if (organizationName !== undefined) {
    profile.displayName = organizationName;
    profile.organizationName = organizationName;
  }
  if (typeof attributes.test_account === 'boolean') profile.testAccount = attributes.test_account;
  const fields = { timezone: 'timezone', preferredCurrency: 'preferred_currency', locale: 'locale', publicApiKey: 'public_api_key' } as const;
  for (const [key, source] of Object.entries(fields) as [keyof typeof fields, string][]) {
    const value = stringField(attributes, source);
    if (value !== undefined) profile[key] = value;
  }
  const websiteUrl = stringField(contact, 'website_url');
  if (websiteUrl !== undefined) profile.websiteUrl = websiteUrl;
  return profile;
}
