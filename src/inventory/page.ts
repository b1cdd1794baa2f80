/**
 * The migration page (`GET /_bridge/`), for the person who runs the migration first: an overview
 * (clients still calling, kinds of call left, calls and faults in the last 24 hours and 7 days,
 * calls per day), a table of clients (sortable, filterable by database, login and model), then,
 * collapsed until opened, each client's calls with the request that replaces each one and its
 * `curl` and Python `requests` snippets, and links to the client's report and the CSV. One
 * self-contained HTML document (inline CSS, a little inline JS for sorting, filtering and the copy
 * buttons, the trends as inline SVG, nothing fetched), with a Content-Security-Policy that allows
 * only that CSS and that JS (by hash). Everything that comes from clients (User-Agent, login, db,
 * model, method, argument values) is escaped.
 */
import { createHash } from 'node:crypto';
import { sparklineSvg, trendSvg } from './trend.ts';
import { isEverything, type Selection } from './selection.ts';
import type { Counts, InventoryCall, InventoryClient, InventoryJson } from './views.ts';

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

/**
 * Text as the content of an element (never an attribute): only `&`, `<` and `>` mean anything
 * there. The snippets, most of the page's bytes, are full of quotes.
 */
function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => ESCAPES[c] ?? c);
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
.frozen { background: #fff3cd; border: 1px solid #e0b84a; padding: 6px 10px; border-radius: 4px; }
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
header a { color: #fff; }
h2.section { font-size: 16px; margin: 24px 0 10px; }
.cards { display: grid; grid-template-columns: repeat(4, minmax(160px, 1fr)); gap: 12px; margin: 0 0 14px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
.card .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .sub { color: var(--muted); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.panel figcaption { color: var(--muted); margin: 0 0 6px; }
figure.panel { margin: 0; }
svg.trend { display: block; max-width: 100%; height: auto; }
#trend svg.trend { width: 100%; height: 80px; }
.filters { display: flex; gap: 10px; margin: 0 0 10px; flex-wrap: wrap; align-items: center; }
.filters input { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; min-width: 180px; }
#clients th button { font: inherit; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); background: none; border: 0; padding: 0; cursor: pointer; }
#clients th button[aria-sort=ascending]::after { content: " ▲"; }
#clients th button[aria-sort=descending]::after { content: " ▼"; }
#clients td.ua { max-width: 360px; word-break: break-all; }
.status { font-size: 12px; padding: 1px 8px; border-radius: 10px; white-space: nowrap; }
.status.calling { background: #fdf0e6; color: #8a4b0f; }
.status.migrated, .status.done { background: #eaf3e6; color: #2f5d1f; }
details.client { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 0 0 10px; padding: 8px 16px; }
details.client > summary { cursor: pointer; font-weight: 600; word-break: break-all; }
details.client[open] > summary { margin-bottom: 8px; }
@media (max-width: 900px) { .cards { grid-template-columns: 1fr 1fr; } }
`;

const SCRIPT = `
document.addEventListener('click', function (e) {
  var b = e.target;
  if (!(b instanceof HTMLButtonElement)) return;
  if (b.classList.contains('copy')) {
    var pre = b.parentElement && b.parentElement.querySelector('pre');
    if (!pre || !navigator.clipboard) return;
    navigator.clipboard.writeText(pre.textContent || '').then(function () {
      b.textContent = 'copied';
      setTimeout(function () { b.textContent = 'copy'; }, 1500);
    });
  } else if (b.dataset.sort) {
    sortClients(b);
  }
});
function sortClients(b) {
  var key = b.dataset.sort, numeric = b.dataset.type === 'n';
  var dir = b.getAttribute('aria-sort') === 'descending' ? 1 : -1;
  if (!b.hasAttribute('aria-sort') && !numeric) dir = 1;
  document.querySelectorAll('#clients th button').forEach(function (o) { o.removeAttribute('aria-sort'); });
  b.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
  var body = document.querySelector('#clients tbody');
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (x, y) {
    var a = x.dataset[key] || '', c = y.dataset[key] || '';
    var r = numeric ? Number(a) - Number(c) : a.localeCompare(c);
    return r * dir;
  });
  rows.forEach(function (r) { body.appendChild(r); });
}
function filterClients() {
  var f = {};
  document.querySelectorAll('.filters input').forEach(function (i) { f[i.name] = i.value.trim().toLowerCase(); });
  var shown = 0;
  document.querySelectorAll('#clients tbody tr').forEach(function (r) {
    var ok = (!f.db || (r.dataset.db || '').toLowerCase().indexOf(f.db) >= 0) &&
      (!f.login || (r.dataset.login || '').toLowerCase().indexOf(f.login) >= 0) &&
      (!f.model || (' ' + (r.dataset.models || '') + ' ').toLowerCase().indexOf(f.model) >= 0);
    r.hidden = !ok;
    if (ok) shown++;
  });
  var n = document.getElementById('shown');
  if (n) n.textContent = String(shown);
}
document.addEventListener('input', function (e) {
  if (e.target instanceof HTMLInputElement && e.target.closest('.filters')) filterClients();
});
function openTarget() {
  var id = decodeURIComponent(location.hash.slice(1));
  var d = id && document.getElementById(id);
  if (d && d.tagName === 'DETAILS') d.open = true;
}
window.addEventListener('hashchange', openTarget);
openTarget();
`;

const hash = (s: string): string => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** The page's Content-Security-Policy: its own inline style and script, nothing else. */
export const PAGE_CSP =
  `default-src 'none'; style-src ${hash(STYLE)}; script-src ${hash(SCRIPT)}; ` +
  `base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export function inventoryPage(
  inv: InventoryJson & { selection?: { matched: number } },
  selection?: Selection,
  frozen?: { config: readonly string[]; runtime: readonly { db: string; since: string }[] },
): string {
  const now = Date.parse(inv.generatedAt);
  const head =
    `<header><h1>odoo-rpc-bridge: plan your migration</h1>` +
    `<p>generated ${escapeHtml(shortTime(inv.generatedAt))} · a kind of call not seen for ${inv.limits.migratedAfterDays} days counts as migrated · ` +
    `<a href="inventory.csv">CSV</a> · <a href="inventory">JSON</a></p>${frozenLine(frozen)}</header>`;
  let body: string;
  if (!inv.enabled) body = `<p class="empty">The inventory is off (BRIDGE_INVENTORY_MAX_CLIENTS=0).</p>`;
  else if (inv.clients.length === 0)
    body = `<p class="empty">No legacy call yet: the clients appear here after their first call.</p>`;
  else
    body =
      overviewSection(inv, now) +
      (selection && inv.selection
        ? selectionLine(selection, inv.clients.length, inv.selection.matched)
        : '') +
      clientsTable(inv, now) +
      `<h2 class="section">Details, client by client</h2>` +
      inv.clients.map((c) => clientDetails(c)).join('\n');
  const dropped = inv.evicted.clients + inv.evicted.calls + inv.expired.clients + inv.expired.calls;
  const evicted = dropped
    ? `<p class="meta">Dropped to stay within the limits: ${inv.evicted.clients} clients, ${inv.evicted.calls} kinds of call; ` +
      `forgotten after ${inv.limits.retentionDays} days without a call: ${inv.expired.clients} clients, ${inv.expired.calls} kinds of call.</p>`
    : '';
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>odoo-rpc-bridge: migration inventory</title><style>${STYLE}</style></head>\n` +
    `<body>${head}<main>${body}${evicted}</main><script>${SCRIPT}</script></body></html>\n`
  );
}

/** The databases frozen for an upgrade (src/services/freeze.ts), when there are any. */
function frozenLine(frozen: Parameters<typeof inventoryPage>[2]): string {
  if (!frozen || frozen.config.length + frozen.runtime.length === 0) return '';
  const items = [
    ...frozen.runtime.map(
      (f) => `<code>${escapeHtml(f.db)}</code> (since ${escapeHtml(shortTime(f.since))})`,
    ),
    ...frozen.config.map((p) => `<code>${escapeHtml(p)}</code> (BRIDGE_CONFIG)`),
  ];
  return `<p class="frozen">Frozen for an upgrade, writes refused: ${items.join(', ')}</p>`;
}

/**
 * What the query string selected (src/inventory/selection.ts), with the previous and next pages
 * and a link back to every client. Links are relative and their values URL-encoded.
 */
function selectionLine(s: Selection, shown: number, matched: number): string {
  if (isEverything(s)) return '';
  const link = (offset: number, label: string): string => {
    const q = new URLSearchParams();
    if (s.db !== undefined) q.set('db', s.db);
    if (s.model !== undefined) q.set('model', s.model);
    if (s.client !== undefined) q.set('client', s.client);
    if (offset > 0) q.set('offset', String(offset));
    if (s.limit !== undefined) q.set('limit', String(s.limit));
    return `<a href="?${escapeHtml(q.toString())}">${label}</a>`;
  };
  const filters = (
    [
      ['database', s.db],
      ['model', s.model],
      ['client', s.client],
    ] as const
  )
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} <code>${escapeHtml(v ?? '')}</code>`)
    .join(', ');
  const listed =
    shown === 0
      ? `No client here (${matched} selected)`
      : `Clients ${s.offset + 1}–${s.offset + shown} of ${matched}`;
  const pages: string[] = [];
  if (s.limit !== undefined && s.offset > 0) pages.push(link(Math.max(0, s.offset - s.limit), 'previous'));
  if (s.limit !== undefined && s.offset + shown < matched) pages.push(link(s.offset + s.limit, 'next'));
  pages.push('<a href="./">all clients</a>');
  return (
    `<p class="meta selection">${listed}` + `${filters ? ` with ${filters}` : ''} · ${pages.join(' · ')}</p>`
  );
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function card(label: string, value: string, sub: string): string {
  return (
    `<div class="card"><div class="label">${escapeHtml(label)}</div>` +
    `<div class="value">${escapeHtml(value)}</div><div class="sub">${escapeHtml(sub)}</div></div>`
  );
}

function countsText(c: Counts): string {
  return `${plural(c.faults, 'fault')}`;
}

function overviewSection(inv: InventoryJson, now: number): string {
  const o = inv.overview;
  const days = inv.limits.retentionDays;
  return (
    `<section id="overview"><h2 class="section">Overview</h2><div class="cards">` +
    card(
      'clients still calling',
      String(o.clients.calling),
      `of ${o.clients.total}; ${o.clients.migrated} migrated`,
    ) +
    card(
      'kinds of call left',
      String(o.callKinds.remaining),
      `of ${o.callKinds.total}; ${o.callKinds.migrated} migrated`,
    ) +
    card('calls, last 24 h', String(o.last24h.calls), countsText(o.last24h)) +
    card('calls, last 7 days', String(o.last7d.calls), countsText(o.last7d)) +
    `</div><figure class="panel" id="trend"><figcaption>Legacy calls per day, all clients, last ${days} days ` +
    `(faults in red)</figcaption>${trendSvg(o.daily, days, now, { width: 1100, height: 80 })}</figure></section>`
  );
}

function clientsTable(inv: InventoryJson, now: number): string {
  const th = (key: string, label: string, numeric = false) =>
    `<th><button type="button" data-sort="${key}"${numeric ? ' data-type="n"' : ''}>${escapeHtml(label)}</button></th>`;
  // A row's sparkline shows the last 30 days at most (the overview's trend, the whole retention).
  const days = Math.min(inv.limits.retentionDays, 30);
  const rows = inv.clients.map((c) => clientRow(c, days, now)).join('');
  return (
    `<section id="clients-section"><h2 class="section">Clients (<span id="shown">${inv.clients.length}</span> shown)</h2>` +
    `<div class="filters"><label>database <input name="db" type="search" autocomplete="off"></label>` +
    `<label>login <input name="login" type="search" autocomplete="off"></label>` +
    `<label>model <input name="model" type="search" autocomplete="off"></label></div>` +
    `<div class="panel"><table id="clients"><thead><tr>` +
    th('ua', 'client (User-Agent)') +
    th('address', 'address') +
    th('db', 'database') +
    th('login', 'login') +
    th('calls', 'calls', true) +
    th('faults', 'faults', true) +
    th('last', 'last seen') +
    th('left', 'kinds left', true) +
    `<th>calls per day</th>` +
    th('status', 'status') +
    `</tr></thead><tbody>${rows}</tbody></table></div></section>`
  );
}

function clientRow(c: InventoryClient, days: number, now: number): string {
  const models = [...new Set(c.calls.map((k) => k.model).filter((m): m is string => m !== null))].join(' ');
  const who = c.login ?? (c.uid !== null ? `uid ${c.uid}` : '');
  const data = [
    ['ua', c.userAgent],
    ['address', c.address],
    ['db', c.db ?? ''],
    ['login', who],
    ['models', models],
    ['calls', String(c.count)],
    ['faults', String(c.errors)],
    ['last', c.lastSeen],
    ['left', String(c.callKinds.remaining)],
    ['status', c.status],
  ]
    .map(([k, v]) => ` data-${k}="${escapeHtml(v ?? '')}"`)
    .join('');
  const status =
    c.status === 'migrated'
      ? `<span class="status migrated">migrated ${escapeHtml(c.migratedOn ?? '')}</span>`
      : `<span class="status calling">calling</span>`;
  return (
    `<tr${data}><td class="ua"><a href="#c-${c.id}">${escapeHtml(c.userAgent || '(no User-Agent)')}</a></td>` +
    `<td>${escapeHtml(c.address || 'unknown')}</td><td>${escapeHtml(c.db ?? '—')}</td><td>${escapeHtml(who || '—')}</td>` +
    `<td class="n">${c.count}</td><td class="n${c.errors ? ' err' : ''}">${c.errors}</td>` +
    `<td>${timeCell(c.lastSeen)}</td><td class="n">${c.callKinds.remaining} / ${c.callKinds.total}</td>` +
    `<td>${sparklineSvg(c.daily, days, now, { width: 120, height: 22 })}</td><td>${status}</td></tr>`
  );
}

function clientDetails(c: InventoryClient): string {
  const who = c.login ?? (c.uid !== null ? `uid ${c.uid}` : '—');
  const meta = [
    ['address', c.address || 'unknown'],
    ['database', c.db ?? '—'],
    ['login', who],
    ['calls', String(c.count)],
    ['faults', String(c.errors)],
    ['last 24 h', `${c.last24h.calls} calls`],
    ['last 7 days', `${c.last7d.calls} calls`],
    ['first seen', shortTime(c.firstSeen)],
    ['last seen', shortTime(c.lastSeen)],
  ]
    .map(([k, v]) => `${escapeHtml(k ?? '')} <b>${escapeHtml(v ?? '')}</b>`)
    .join(' · ');
  const left = `${plural(c.callKinds.remaining, 'kind')} of call left of ${c.callKinds.total}`;
  return (
    `<details class="client" id="c-${c.id}"><summary><span class="ua">${escapeHtml(c.userAgent || '(no User-Agent)')}</span>` +
    ` <span class="meta">${escapeHtml(c.db ?? '—')} · ${escapeHtml(who)} · ${escapeHtml(left)}</span></summary>` +
    `<p class="meta">${meta} · <a href="inventory/report?client=${c.id}">report (Markdown)</a></p>` +
    `<table><thead><tr><th>call</th><th>protocol</th><th>count</th><th>faults</th>` +
    `<th>last fault</th><th>first seen</th><th>last seen</th></tr></thead><tbody>` +
    c.calls.map(callRows).join('') +
    `</tbody></table></details>`
  );
}

function callRows(call: InventoryCall): string {
  const name =
    call.service === 'object' ? `${call.model ?? '?'} · ${call.method}` : `${call.service}.${call.function}`;
  const via =
    (call.service === 'object' ? ` <span class="meta">(object.${escapeHtml(call.function)})</span>` : '') +
    (call.upstream ? ` <span class="meta">→ ${escapeHtml(call.upstream)}</span>` : '') +
    (call.shadow
      ? ` <span class="meta${call.shadow.mismatch ? ' err' : ''}" title="${escapeHtml(call.shadow.lastDiff ?? '')}">shadow: ${call.shadow.match} match, ${call.shadow.mismatch} mismatch${call.shadow.error ? `, ${call.shadow.error} error` : ''}</span>`
      : '');
  const r = call.replacement;
  // A migrated kind of call needs no replacement any more: its snippets stay in the JSON, the CSV
  // and the report, not on the page.
  const snippets =
    r.curl !== undefined && r.python !== undefined && call.status === 'remaining'
      ? `<div class="snippets">${snippet('curl', r.curl)}${snippet('Python requests', r.python)}</div>`
      : '';
  const request = r.request ? ` <code>${escapeHtml(r.request)}</code>` : '';
  return (
    `<tr class="call"><td><span class="name">${escapeHtml(name)}</span>${via}` +
    (call.status === 'migrated' ? ` <span class="status done">migrated</span>` : '') +
    `</td>` +
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
    `<pre>${escapeText(text)}</pre></div>`
  );
}
