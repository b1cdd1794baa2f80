/**
 * The migration page (`GET /_bridge/`): the inventory as one table per client, each call with
 * the request that replaces it and its `curl` and Python `requests` snippets. One self-contained
 * HTML document (inline CSS, a few lines of inline JS for the copy buttons, nothing fetched), with
 * a Content-Security-Policy that allows only that CSS and that JS (by hash). Everything that
 * comes from clients (User-Agent, login, db, model, method, argument values) is escaped.
 */
import { createHash } from 'node:crypto';
import type { InventoryCall, InventoryClient, InventoryJson } from './views.ts';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML text or attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `
:root { color-scheme: light; --line: #d8dde3; --muted: #5b6470; --accent: #714b67; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2329; background: #f6f7f9; }
header { background: var(--accent); color: #fff; padding: 14px 24px; }
header h1 { margin: 0; font-size: 20px; font-weight: 600; }
header p { margin: 4px 0 0; opacity: .9; }
main { padding: 16px 24px 40px; max-width: 1400px; }
section.client { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 0 0 20px; padding: 14px 16px; }
section.client h2 { margin: 0 0 6px; font-size: 16px; word-break: break-all; }
.meta { color: var(--muted); margin: 0 0 10px; }
.meta b { color: #1d2329; font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td time { white-space: nowrap; }
tr.call td { border-bottom: none; padding-top: 10px; }
tr.call .name { font-weight: 600; }
.err { color: #b42318; }
.kind { display: inline-block; font-size: 11px; padding: 1px 6px; border-radius: 10px; background: #e8eef7; color: #24476b; margin-right: 6px; }
.kind.none { background: #f3e8e8; color: #7a2e2e; }
.kind.http { background: #eaf3e6; color: #2f5d1f; }
.note { margin: 0 0 6px; color: var(--muted); }
.snippets { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.snippet { position: relative; }
.snippet h3 { margin: 0 0 3px; font-size: 12px; color: var(--muted); font-weight: 600; }
pre { margin: 0; background: #1f2430; color: #e6e9ef; padding: 10px 12px; border-radius: 6px; font: 12px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, monospace; white-space: pre-wrap; word-break: break-all; }
button.copy { position: absolute; top: 0; right: 0; font-size: 11px; border: 1px solid var(--line); background: #fff; border-radius: 4px; padding: 1px 8px; cursor: pointer; }
code { font: 12px ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
.empty { background: #fff; border: 1px dashed var(--line); border-radius: 8px; padding: 24px; color: var(--muted); }
@media (max-width: 900px) { .snippets { grid-template-columns: 1fr; } }
`;

const SCRIPT = `
document.addEventListener('click', function (e) {
  var b = e.target;
  if (!(b instanceof HTMLButtonElement) || !b.classList.contains('copy')) return;
  var pre = b.parentElement && b.parentElement.querySelector('pre');
  if (!pre || !navigator.clipboard) return;
  navigator.clipboard.writeText(pre.textContent || '').then(function () {
    b.textContent = 'copied';
    setTimeout(function () { b.textContent = 'copy'; }, 1500);
  });
});
`;

const hash = (s: string): string => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** The page's Content-Security-Policy: its own inline style and script, nothing else. */
export const PAGE_CSP =
  `default-src 'none'; style-src ${hash(STYLE)}; script-src ${hash(SCRIPT)}; ` +
  `base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export function inventoryPage(inv: InventoryJson): string {
  const calls = inv.clients.reduce((n, c) => n + c.calls.length, 0);
  const head =
    `<header><h1>odoo-rpc-bridge: plan your migration</h1>` +
    `<p>${inv.clients.length} client${inv.clients.length === 1 ? '' : 's'}, ${calls} kind${calls === 1 ? '' : 's'} of legacy call` +
    ` · generated ${escapeHtml(shortTime(inv.generatedAt))} · the same as JSON: <a href="inventory">/_bridge/inventory</a></p></header>`;
  let body: string;
  if (!inv.enabled) body = `<p class="empty">The inventory is off (BRIDGE_INVENTORY_MAX_CLIENTS=0).</p>`;
  else if (inv.clients.length === 0)
    body = `<p class="empty">No legacy call yet: the clients appear here after their first call.</p>`;
  else body = inv.clients.map(clientSection).join('\n');
  const evicted =
    inv.evicted.clients || inv.evicted.calls
      ? `<p class="meta">Dropped to stay within the limits: ${inv.evicted.clients} clients, ${inv.evicted.calls} kinds of call.</p>`
      : '';
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>odoo-rpc-bridge: migration inventory</title><style>${STYLE}</style></head>\n` +
    `<body>${head}<main>${evicted}${body}</main><script>${SCRIPT}</script></body></html>\n`
  );
}

function clientSection(c: InventoryClient): string {
  const who = c.login ?? (c.uid !== null ? `uid ${c.uid}` : '—');
  const meta = [
    ['address', c.address || 'unknown'],
    ['database', c.db ?? '—'],
    ['login', who],
    ['calls', String(c.count)],
    ['faults', String(c.errors)],
    ['first seen', shortTime(c.firstSeen)],
    ['last seen', shortTime(c.lastSeen)],
  ]
    .map(([k, v]) => `${escapeHtml(k ?? '')} <b>${escapeHtml(v ?? '')}</b>`)
    .join(' · ');
  return (
    `<section class="client"><h2 class="ua">${escapeHtml(c.userAgent || '(no User-Agent)')}</h2>` +
    `<p class="meta">${meta}</p><table><thead><tr><th>call</th><th>protocol</th><th>count</th><th>faults</th>` +
    `<th>last fault</th><th>first seen</th><th>last seen</th></tr></thead><tbody>` +
    c.calls.map(callRows).join('') +
    `</tbody></table></section>`
  );
}

function callRows(call: InventoryCall): string {
  const name =
    call.service === 'object' ? `${call.model ?? '?'} · ${call.method}` : `${call.service}.${call.function}`;
  const via =
    call.service === 'object' ? ` <span class="meta">(object.${escapeHtml(call.function)})</span>` : '';
  const r = call.replacement;
  const snippets =
    r.curl !== undefined && r.python !== undefined
      ? `<div class="snippets">${snippet('curl', r.curl)}${snippet('Python requests', r.python)}</div>`
      : '';
  const request = r.request ? ` <code>${escapeHtml(r.request)}</code>` : '';
  return (
    `<tr class="call"><td><span class="name">${escapeHtml(name)}</span>${via}</td>` +
    `<td>${escapeHtml(call.protocol)}</td><td class="n">${call.count}</td>` +
    `<td class="n${call.errors ? ' err' : ''}">${call.errors}</td>` +
    `<td class="${call.lastFault ? 'err' : ''}">${escapeHtml(call.lastFault ?? '')}</td>` +
    `<td>${timeCell(call.firstSeen)}</td><td>${timeCell(call.lastSeen)}</td></tr>` +
    `<tr class="replacement"><td colspan="7"><p class="note"><span class="kind ${r.kind}">${r.kind === 'json2' ? 'JSON-2' : r.kind === 'http' ? 'HTTP' : 'no request'}</span>` +
    `${escapeHtml(r.note)}${request}</p>${snippets}</td></tr>`
  );
}

/** `2026-11-28T07:32:34.381Z` → `2026-11-28 07:32:34 UTC`. */
function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

function timeCell(iso: string): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(shortTime(iso))}</time>`;
}

function snippet(title: string, text: string): string {
  return (
    `<div class="snippet"><h3>${escapeHtml(title)}</h3><button class="copy" type="button">copy</button>` +
    `<pre>${escapeHtml(text)}</pre></div>`
  );
}
