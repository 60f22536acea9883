/**
 * The two HTML pages: the consent page and the authorize error page. Everything rendered is escaped —
 * client names, user names, scopes and URIs all come from configuration or the request.
 */
import type { Response } from 'express';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Enough for text and double-quoted attribute values, the only two places the pages put data. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}' +
  'h1{font-size:1.3rem}.box{border:1px solid #ccc;border-radius:8px;padding:1rem 1.5rem}' +
  'button{font-size:1rem;padding:.5rem 1.5rem;margin-right:.5rem;border-radius:6px;border:1px solid #888}' +
  'button[value=approve]{background:#1a7f37;color:#fff;border-color:#1a7f37}' +
  '.note{color:#666;font-size:.85rem}';

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>` +
    `<body>${body}<p class="note">passport-martech sandbox &mdash; a local emulator, not the real provider.</p>` +
    '</body></html>'
  );
}

/**
 * HTML answers must not be cached or framed (clickjacking of the Approve button). No `form-action` CSP:
 * browsers apply it to the redirect that follows the form post, which goes to the client's origin.
 */
function sendHtml(res: Response, status: number, html: string): void {
  res
    .status(status)
    .set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    })
    .type('html')
    .send(html);
}

export interface ConsentPageInput {
  providerName: string;
  clientName: string;
  userName: string;
  userEmail: string;
  scopes: string[];
  redirectUri: string;
  /** Where the form posts (same provider's `.../authorize/decision`). */
  action: string;
  transactionId: string;
}

export function sendConsentPage(res: Response, input: ConsentPageInput): void {
  const scopes = input.scopes.length
    ? `<ul>${input.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul>`
    : '<p>No scopes requested.</p>';
  const redirectHost = new URL(input.redirectUri).host;
  const body =
    `<h1>${escapeHtml(input.providerName)}</h1><div class="box">` +
    `<p><strong>${escapeHtml(input.clientName)}</strong> wants to access your ${escapeHtml(input.providerName)} ` +
    `account as <strong>${escapeHtml(input.userName)}</strong> (${escapeHtml(input.userEmail)}).</p>` +
    `<p>Requested scopes:</p>${scopes}` +
    `<p class="note">You will be sent back to ${escapeHtml(redirectHost)}.</p>` +
    `<form method="post" action="${escapeHtml(input.action)}">` +
    `<input type="hidden" name="transaction_id" value="${escapeHtml(input.transactionId)}">` +
    '<button type="submit" name="decision" value="approve">Approve</button>' +
    '<button type="submit" name="decision" value="deny">Deny</button>' +
    '</form></div>';
  sendHtml(res, 200, page(`Authorize ${input.clientName} - ${input.providerName}`, body));
}

/** RFC 6749 section 4.1.2.1: with a bad client or redirect URI the user is told, never redirected. */
export function sendErrorPage(res: Response, status: number, providerName: string, message: string): void {
  const body = `<h1>${escapeHtml(providerName)}: authorization error</h1><div class="box"><p>${escapeHtml(message)}</p></div>`;
  sendHtml(res, status, page(`Authorization error - ${providerName}`, body));
}
