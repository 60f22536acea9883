/**
 * The store key of a (userKey, provider) pair: `<provider>:<userKey>`, the provider URI-encoded so a
 * `:` in it cannot make two pairs collide. Also the member name in the schedule's sorted set.
 */
export function storeKey(userKey: string, provider: string): string {
  return `${encodeURIComponent(provider)}:${userKey}`;
}

/** The inverse of storeKey; undefined for a string storeKey cannot have made. */
export function parseStoreKey(key: string): { userKey: string; provider: string } | undefined {
  const colon = key.indexOf(':');
  if (colon <= 0) return undefined;
  try {
    return { provider: decodeURIComponent(key.slice(0, colon)), userKey: key.slice(colon + 1) };
  } catch {
    return undefined;
  }
}
