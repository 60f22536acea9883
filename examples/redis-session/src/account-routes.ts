/**
 * The account page and what it does: call a linked provider's sample API through TokenManager, and
 * disconnect a provider.
 */
import type { IRouter } from 'express';
import type { TokenManager } from '@passport-martech/refresh';
import type { Account, AccountStore } from './accounts';
import { catalogEntry, PROVIDER_IDS, type ProviderId } from './catalog';
import { aboutProvider, HttpError, notFound } from './errors';
import { accountPage, prettyBody, type ApiResult, type SiteInfo, type TokenView } from './pages';
import type { ProvidersConfig } from './provider-config';
import { sampleApiUrl } from './providers';
import type { RequestHelpers } from './request-helpers';
import { csrfToken } from './security';
import { rememberAccount } from './sign-in';

export interface AccountRoutesOptions {
  site: SiteInfo;
  providers: ProvidersConfig;
  accounts: AccountStore;
  tokens: TokenManager;
  helpers: RequestHelpers;
}

export function accountRoutes(router: IRouter, { site, providers, accounts, tokens, helpers }: AccountRoutesOptions): void {
  const { configuredProvider, form, requireAccount, requireCsrf, storedAccount } = helpers;

  async function tokenViews(account: Account): Promise<Partial<Record<ProviderId, TokenView>>> {
    const views: Partial<Record<ProviderId, TokenView>> = {};
    await Promise.all(
      PROVIDER_IDS.filter((id) => account.identities[id]).map(async (id) => {
        const set = await tokens.get(account.id, id);
        if (set) views[id] = { expiresAt: set.expiresAt, scope: set.scope, hasRefreshToken: Boolean(set.refreshToken) };
      }),
    );
    return views;
  }

  router.get('/account', requireAccount, async (req, res) => {
    const who = { account: storedAccount(res), csrfToken: csrfToken(req) };
    res.type('html').send(accountPage(site, who, await tokenViews(who.account)));
  });

  router.post('/account/:provider/api', form, requireAccount, requireCsrf, async (req, res) => {
    const id = configuredProvider(req);
    const who = { account: storedAccount(res), csrfToken: csrfToken(req) };
    if (!who.account.identities[id]) throw notFound(`${catalogEntry(id).name} is not linked to your account.`);
    const settings = providers[id]!;
    const url = sampleApiUrl(id, settings);
    let result: ApiResult;
    try {
      // TokenManager: a valid token (refreshed first when it expires soon), and one refresh + retry
      // when the provider rejects it anyway.
      const response = await tokens.fetch(who.account.id, id, url, {
        headers: { Accept: 'application/json', ...catalogEntry(id).sampleApiCall.headers },
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      result = { provider: id, url, status: response.status, ok: response.ok, body: prettyBody(await response.text()) };
    } catch (err) {
      throw aboutProvider(err, id);
    }
    res.status(result.ok ? 200 : 502).type('html').send(accountPage(site, who, await tokenViews(who.account), result));
  });

  router.post('/account/:provider/disconnect', form, requireAccount, requireCsrf, async (req, res) => {
    const id = configuredProvider(req);
    const account = storedAccount(res);
    const linked = PROVIDER_IDS.filter((p) => account.identities[p]);
    if (linked.includes(id) && linked.length === 1) {
      throw new HttpError({
        status: 400,
        title: 'Cannot disconnect',
        message: `${catalogEntry(id).name} is the only way to sign in to this account. Link another provider first, or log out.`,
        actions: [{ href: '/account', label: 'Back to your account' }],
      });
    }
    // Ends the grant at the provider where it documents revocation (RFC 7009), then forgets the tokens
    // either way: a provider that cannot revoke (none documented, or down) does not keep the link alive.
    const { revoked, error } = await tokens.revoke(account.id, id);
    const code = (error as { code?: string } | undefined)?.code;
    if (revoked) req.log?.info({ provider: id }, 'grant revoked at the provider');
    else if (code === 'OAUTH_REVOCATION_UNSUPPORTED') req.log?.info({ provider: id }, 'provider documents no revocation; tokens deleted here');
    else if (error) req.log?.warn({ provider: id, code }, 'provider did not revoke the grant; tokens deleted here');
    await accounts.unlink(account.id, id);
    // The session's summary follows (saved before the redirect is sent), on every instance.
    const updated = await accounts.get(account.id);
    if (updated) rememberAccount(req, updated);
    res.redirect(303, '/account');
  });

}
