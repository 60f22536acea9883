/** The pages. Everything dynamic goes through `html`, which escapes it. */
import type { Account, AccountSummary, LinkedIdentity } from './accounts';
import { accountName } from './accounts';
import { catalogEntry, PROVIDER_IDS, type ProviderId } from './catalog';
import { html, layout, type SafeHtml } from './html';
import { MCP_CONNECTIONS_TEASER } from './mcp-connections';
import { enablingVariables } from './provider-variables';

/** The signed-in user: the session's summary of the account, or (account page) the account as stored. */
export interface Viewer<A extends AccountSummary = AccountSummary> {
  account: A;
  csrfToken: string;
}

export interface TokenView {
  expiresAt?: number;
  scope?: string[];
  hasRefreshToken: boolean;
}

export interface ApiResult {
  provider: ProviderId;
  url: string;
  status: number;
  ok: boolean;
  body: string;
}

export interface SiteInfo {
  configured: ProviderId[];
  /** Tokens are encrypted at rest (TOKEN_ENCRYPTION_KEY). */
  tokensEncrypted: boolean;
  sandboxUrl?: string;
  storage: 'redis' | 'memory';
}

function headerUser(viewer: Viewer | undefined) {
  return viewer ? { name: accountName(viewer.account), csrfToken: viewer.csrfToken } : undefined;
}

const name = (id: ProviderId) => catalogEntry(id).name;

/** Link / Reconnect: a POST with the CSRF token (so a link on another site cannot start linking). */
export function linkForm(id: ProviderId, label: string, csrf: string, primary = false): SafeHtml {
  return html`<form method="post" action="/link/${id}" class="inline"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit"${primary ? html` class="primary"` : ''}>${label}</button></form>`;
}

export function homePage(site: SiteInfo, viewer: Viewer | undefined): string {
  const linked = viewer ? viewer.account.identities : {};
  const buttons = site.configured.map((id) => {
    if (linked[id]) return html`<li class="card"><h3>${name(id)}</h3><p class="status ok">Linked to your account</p></li>`;
    if (viewer) return html`<li class="card"><h3>${name(id)}</h3>${linkForm(id, `Link ${name(id)}`, viewer.csrfToken, true)}</li>`;
    return html`<li class="card"><h3>${name(id)}</h3><a class="button primary" href="/auth/${id}">Sign in with ${name(id)}</a></li>`;
  });
  const missing = PROVIDER_IDS.filter((id) => !site.configured.includes(id));
  const body = html`
<h1>Sign in with your marketing or CRM account</h1>
<p>This example shows the <code>@passport-martech</code> strategies in one Express&nbsp;5 app: each button below goes
through <code>passport.authenticate('&lt;provider&gt;')</code>, the session lives in Redis (<code>connect-redis</code>),
and the provider tokens are kept fresh by <code>TokenManager</code>. Once signed in you can link more providers to the same account.</p>
${site.sandboxUrl ? html`<p class="notice">Demo mode: every provider is the local sandbox at <code>${site.sandboxUrl}</code>. You will see its consent page; click <strong>Approve</strong>.</p>` : ''}
${site.storage === 'memory' ? html`<p class="notice bad">Sessions and tokens are kept in this process's memory (no Redis): they are lost on restart and not shared between instances.</p>` : ''}
${viewer ? html`<p class="notice">You are signed in as <strong>${accountName(viewer.account)}</strong>. <a href="/account">Go to your account</a>.</p>` : ''}
<h2>Providers</h2>
${site.configured.length ? html`<ul class="providers">${buttons}</ul>` : html`<p>No provider is configured yet.</p>`}
${
  missing.length
    ? html`<h2>Not configured</h2><ul>${missing.map(
        (id) => html`<li>${name(id)}: set ${enablingVariables(catalogEntry(id)).map((v, i) => html`${i ? ', ' : ''}<code>${v}</code>`)}</li>`,
      )}</ul>`
    : ''
}`;
  return layout({ title: 'Sign in', user: headerUser(viewer), body });
}

/** Rows for the identity's `<dl>`: the token's expiry (live countdown), refresh token and scopes. */
function tokenRows(site: SiteInfo, token: TokenView | undefined): SafeHtml {
  if (!token) return html`<dt>Access token</dt><dd class="status bad">none stored: reconnect needed</dd>`;
  const expiry =
    token.expiresAt === undefined
      ? html`<span class="muted">no expiry given</span>`
      : html`<time data-expires-at="${token.expiresAt}" datetime="${new Date(token.expiresAt).toISOString()}">expires at ${new Date(token.expiresAt).toISOString()}</time>`;
  const refresh = token.hasRefreshToken ? (site.tokensEncrypted ? 'stored, encrypted (AES-256-GCM)' : 'stored, not encrypted (set TOKEN_ENCRYPTION_KEY)') : 'none';
  return html`<dt>Access token</dt><dd>${expiry}</dd>
    <dt>Refresh token</dt><dd>${refresh}</dd>
    ${token.scope?.length ? html`<dt>Scopes</dt><dd>${token.scope.join(' ')}</dd>` : ''}`;
}

function identityCard(site: SiteInfo, identity: LinkedIdentity, token: TokenView | undefined, viewer: Viewer<Account>, canDisconnect: boolean): SafeHtml {
  const id = identity.provider;
  const details = Object.entries(identity.details);
  return html`<section class="card" id="provider-${id}">
  <h3>${name(id)}</h3>
  <dl>
    <dt>Name</dt><dd class="profile-name">${identity.displayName ?? '(not given)'}</dd>
    <dt>Email</dt><dd>${identity.emails.length ? identity.emails.join(', ') : '(not given)'}</dd>
    <dt>${name(id)} user id</dt><dd>${identity.id}</dd>
    ${details.map(([key, value]) => html`<dt>${key}</dt><dd>${String(value)}</dd>`)}
    ${tokenRows(site, token)}
  </dl>
  <div class="actions">
    ${
      token
        ? html`<form method="post" action="/account/${id}/api" class="inline"><input type="hidden" name="_csrf" value="${viewer.csrfToken}"><button type="submit" class="primary">Call the API</button></form>`
        : linkForm(id, `Reconnect ${name(id)}`, viewer.csrfToken, true)
    }
    ${
      canDisconnect
        ? html`<form method="post" action="/account/${id}/disconnect" class="inline"><input type="hidden" name="_csrf" value="${viewer.csrfToken}"><button type="submit" class="danger">Disconnect</button></form>`
        : ''
    }
  </div>
  <details><summary>Profile as received</summary><pre>${identity.raw}</pre></details>
</section>`;
}

export function accountPage(site: SiteInfo, viewer: Viewer<Account>, tokens: Partial<Record<ProviderId, TokenView>>, result?: ApiResult): string {
  const { account } = viewer;
  const linked = PROVIDER_IDS.filter((id) => account.identities[id]);
  const unlinked = site.configured.filter((id) => !account.identities[id]);
  const emails = [...new Set(linked.flatMap((id) => account.identities[id]?.emails ?? []))];
  const body = html`
<h1>Your account</h1>
${result ? apiResultCard(result) : ''}
<section class="card">
  <h3>Profile</h3>
  <dl>
    <dt>Name</dt><dd id="account-name">${accountName(account)}</dd>
    <dt>Emails</dt><dd>${emails.length ? emails.join(', ') : '(none)'}</dd>
    <dt>Account id</dt><dd>${account.id}</dd>
    <dt>Member since</dt><dd>${new Date(account.createdAt).toISOString()}</dd>
  </dl>
</section>
<h2>Linked providers</h2>
${linked.map((id) => identityCard(site, account.identities[id] as LinkedIdentity, tokens[id], viewer, linked.length > 1))}
${
  unlinked.length
    ? html`<h2>Link another provider</h2><div class="actions">${unlinked.map(
        (id) => linkForm(id, `Link ${name(id)}`, viewer.csrfToken),
      )}</div>`
    : ''
}
${site.sandboxUrl ? MCP_CONNECTIONS_TEASER : ''}
<h2>Sessions</h2>
<section class="card" id="sessions">
  <p><strong>Log out</strong> (at the top) ends this browser's session. <strong>Log out everywhere</strong> ends every
  session of this account, in every browser. Neither removes the provider tokens: signing in again finds them.
  <strong>Disconnect</strong> deletes one provider's tokens for the whole account.</p>
  <form method="post" action="/logout/everywhere" class="inline"><input type="hidden" name="_csrf" value="${viewer.csrfToken}"><button type="submit" class="danger">Log out everywhere</button></form>
</section>`;
  return layout({ title: 'Your account', user: headerUser(viewer), body });
}

function apiResultCard(result: ApiResult): SafeHtml {
  return html`<section class="card" id="api-result">
  <h3>${name(result.provider)} API: ${catalogEntry(result.provider).sampleApiCall.label}</h3>
  <p>HTTP <span class="status ${result.ok ? 'ok' : 'bad'}" id="api-status">${result.status}</span> from <code>${result.url}</code></p>
  <pre>${result.body}</pre>
</section>`;
}

export interface ErrorPageOptions {
  status: number;
  title: string;
  message: string;
  /** Links shown as buttons; `link`: a Link/Reconnect form for that provider (when signed in). */
  actions?: { href: string; label: string; primary?: boolean; link?: ProviderId }[];
  viewer?: Viewer;
}

export function errorPage(options: ErrorPageOptions): string {
  const actions = options.actions ?? [{ href: '/', label: 'Back to the home page' }];
  const body = html`
<h1>${options.title}</h1>
<p class="notice bad">${options.message}</p>
<div class="actions">${actions.map((a) =>
  a.link && options.viewer
    ? linkForm(a.link, a.label, options.viewer.csrfToken, a.primary)
    : html`<a class="button${a.primary ? ' primary' : ''}" href="${a.href}">${a.label}</a>`,
)}</div>
<p class="muted">HTTP ${options.status}</p>`;
  return layout({ title: options.title, user: headerUser(options.viewer), body });
}

/** GET /logout: logging out changes state, so it takes a POST; this page offers the button. */
export function logoutPage(viewer: Viewer | undefined): string {
  const body = viewer
    ? html`<h1>Log out</h1><p>Logging out needs a button press (a POST with a CSRF token), so a link on another site cannot log you out.</p>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${viewer.csrfToken}"><button type="submit" class="primary">Log out</button></form>`
    : html`<h1>Log out</h1><p>You are not signed in.</p><p><a href="/">Home</a></p>`;
  return layout({ title: 'Log out', user: headerUser(viewer), body });
}

const BODY_LIMIT = 6000;

/** A provider's API answer as shown on the account page: JSON indented, cut at BODY_LIMIT characters. */
export function prettyBody(text: string): string {
  let out = text;
  try {
    out = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: shown as text
  }
  return out.length > BODY_LIMIT ? `${out.slice(0, BODY_LIMIT)}\n...` : out;
}
