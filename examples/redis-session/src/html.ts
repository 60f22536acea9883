/**
 * Server-rendered HTML without a template engine. Every `${value}` in an `html` template is escaped
 * unless it is itself the result of `html` (or `raw`), so forgetting to escape is not possible.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

/** Markup that is already safe (made by `html` or `raw`). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

/** Tagged template: static parts as written, every interpolation escaped (arrays joined). */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Trusted markup written in this code base. Never pass request or provider data. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

export interface LayoutOptions {
  title: string;
  /** The signed-in user's name for the header, if any. */
  user?: { name: string; csrfToken: string };
  body: SafeHtml;
}

export function layout({ title, user, body }: LayoutOptions): string {
  const nav = user
    ? html`<nav><a href="/account">Account</a> <span class="who">${user.name}</span>
        <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${user.csrfToken}"><button type="submit" class="link">Log out</button></form></nav>`
    : html`<nav><a href="/">Sign in</a></nav>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · passport-martech example</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<header><a class="brand" href="/">passport-martech <small>redis-session example</small></a>${nav}</header>
<main>
${body}
</main>
<footer>Sessions in Redis · strategies from <code>@passport-martech/*</code> · tokens kept fresh by <code>@passport-martech/refresh</code></footer>
</body>
</html>
`.value;
}

/** The stylesheet served at /static/style.css. */
export const STYLESHEET = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--accent:#0969da;--bad:#cf222e;--ok:#1a7f37;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);margin:0;background:#fff}
header{display:flex;justify-content:space-between;align-items:center;padding:.75rem 1.5rem;border-bottom:1px solid var(--line);background:var(--bg)}
header nav{display:flex;gap:1rem;align-items:center}
.brand{font-weight:600;color:var(--fg);text-decoration:none}.brand small{color:var(--muted);font-weight:400}
main{max-width:52rem;margin:2rem auto;padding:0 1.5rem}
footer{max-width:52rem;margin:3rem auto 2rem;padding:0 1.5rem;color:var(--muted);font-size:.85rem}
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
a{color:var(--accent)}
.muted{color:var(--muted)}
.card{border:1px solid var(--line);border-radius:8px;padding:1rem 1.25rem;margin:1rem 0;background:#fff}
.card h3{margin:0 0 .5rem;font-size:1.05rem}
.providers{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.75rem;padding:0;list-style:none}
.button,button{display:inline-block;font:inherit;font-size:.95rem;padding:.45rem 1rem;border-radius:6px;border:1px solid var(--line);background:var(--bg);color:var(--fg);cursor:pointer;text-decoration:none}
.button.primary,button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{color:var(--bad)}
button.link{background:none;border:none;padding:0;color:var(--accent);text-decoration:underline}
form.inline{display:inline;margin:0}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:.75rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.5rem 0}dt{color:var(--muted)}dd{margin:0;word-break:break-all}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.75rem;overflow:auto;max-height:22rem;font-size:.85rem}
.status{font-weight:600}.status.ok{color:var(--ok)}.status.bad{color:var(--bad)}
.notice{border-left:4px solid var(--accent);background:var(--bg);padding:.75rem 1rem;margin:1rem 0}
.notice.bad{border-color:var(--bad)}
code{font-size:.9em}
`;

/** The script served at /static/app.js: live countdowns for `<time data-expires-at>`. */
export const SCRIPT = `
(function () {
  function fmt(ms) {
    if (ms <= 0) return 'expired';
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + r + 's';
  }
  function tick() {
    var els = document.querySelectorAll('time[data-expires-at]');
    for (var i = 0; i < els.length; i++) {
      var at = Number(els[i].getAttribute('data-expires-at'));
      var left = at - Date.now();
      els[i].textContent = left > 0 ? 'expires in ' + fmt(left) : 'expired (refreshed on the next API call)';
      els[i].className = left > 60000 ? 'status ok' : 'status bad';
    }
  }
  document.addEventListener('DOMContentLoaded', function () { tick(); setInterval(tick, 1000); });
})();
`;
