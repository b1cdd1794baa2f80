/**
 * `upstreams:` in BRIDGE_CONFIG: several Odoo servers behind one bridge, each serving the
 * databases its patterns match (the first matching entry wins), in `translate` mode (legacy
 * calls become JSON-2, Odoo 19+) or `native` mode (legacy calls forwarded as they came, for
 * Odoo <= 18, or 19-21 still serving them). Without the section, ODOO_URL is the one upstream,
 * serving every database in translate mode, as before.
 *
 * ```yaml
 * upstreams:
 *   - name: old
 *     url: http://odoo17:8069
 *     mode: native
 *     databases: [crm, "legacy_*"]
 *   - name: new
 *     url: http://odoo19:8069
 *     databases: ["*"]        # the default
 *     shadow: 0.1             # translate upstreams only: the fraction of reads compared
 * ```
 */
export type UpstreamMode = 'translate' | 'native';

export interface UpstreamSettings {
  name: string;
  /** Base URL, without a trailing slash. */
  url: string;
  mode: UpstreamMode;
  /** Database names, `*` for any run of characters. */
  databases: string[];
  /** Fraction (0 to 1) of read-only calls also sent to the upstream's own legacy endpoint and compared. */
  shadow: number;
  /** `auto` (the default) or `never`: whether the legacy call's database is sent as X-Odoo-Database. */
  dbHeader: 'auto' | 'never' | undefined;
  /** Time allowed for this server's answer to one call, in ms (default: BRIDGE_UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number | undefined;
  /** Environment variables holding this server's docs key and service key (default: ODOO_DOCS_KEY, ODOO_SERVICE_KEY). */
  docsKeyEnv: string | undefined;
  serviceKeyEnv: string | undefined;
}

/** Upstreams one bridge takes, at most. */
export const MAX_UPSTREAMS = 16;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const PATTERN = /^[A-Za-z0-9_.*-]{1,63}$/;
const KEYS = new Set([
  'name',
  'url',
  'mode',
  'databases',
  'shadow',
  'db_header',
  'timeout_seconds',
  'docs_key_env',
  'service_key_env',
]);
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;

/** `upstreams:` read, every problem pushed (one line each, naming the entry). */
export function checkUpstreams(raw: unknown, where: string, problems: string[]): UpstreamSettings[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_UPSTREAMS) {
    problems.push(
      `${where}: upstreams must be a list of 1 to ${MAX_UPSTREAMS} servers ({name, url, mode, databases})`,
    );
    return [];
  }
  const out: UpstreamSettings[] = [];
  const names = new Set<string>();
  (raw as unknown[]).forEach((entry, i) => {
    const at = `${where}: upstreams[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be a mapping {name, url, mode, databases}`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const before = problems.length;
    for (const k of Object.keys(e))
      if (!KEYS.has(k)) problems.push(`${at}: ${k}: unknown key; known: ${[...KEYS].join(', ')}`);
    const name = e['name'];
    if (typeof name !== 'string' || !NAME.test(name))
      problems.push(
        `${at}: name must be 1 to 32 letters, digits, _ or - (it names the upstream in logs and metrics)`,
      );
    else if (names.has(name)) problems.push(`${at}: name ${name} is used by another upstream`);
    else names.add(name);
    const label = typeof name === 'string' && NAME.test(name) ? `${at} (${name})` : at;
    const url = upstreamUrl(e['url']);
    if (typeof url !== 'string') problems.push(`${label}: url ${url.problem}`);
    const mode = e['mode'] ?? 'translate';
    if (mode !== 'translate' && mode !== 'native')
      problems.push(
        `${label}: mode must be translate (JSON-2, Odoo 19+) or native (legacy calls forwarded as they came)`,
      );
    const databases = e['databases'] ?? ['*'];
    if (
      !Array.isArray(databases) ||
      databases.length === 0 ||
      !databases.every((d) => typeof d === 'string' && PATTERN.test(d))
    )
      problems.push(
        `${label}: databases must be a list of database names (with * for any run of characters)`,
      );
    const shadow = e['shadow'] ?? 0;
    if (typeof shadow !== 'number' || !(shadow >= 0 && shadow <= 1))
      problems.push(`${label}: shadow must be a fraction from 0 to 1`);
    else if (shadow > 0 && mode === 'native')
      problems.push(`${label}: shadow compares translated calls: it needs mode translate`);
    const dbHeader = e['db_header'];
    if (dbHeader !== undefined && dbHeader !== 'auto' && dbHeader !== 'never')
      problems.push(`${label}: db_header must be auto or never`);
    const timeout = e['timeout_seconds'];
    if (
      timeout !== undefined &&
      (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 3600)
    )
      problems.push(`${label}: timeout_seconds must be a whole number of seconds from 1 to 3600`);
    for (const k of ['docs_key_env', 'service_key_env'])
      if (e[k] !== undefined && (typeof e[k] !== 'string' || !ENV_NAME.test(e[k])))
        problems.push(`${label}: ${k} must name an environment variable (A-Z, 0-9, _)`);
    if (problems.length > before) return;
    out.push({
      name: name as string,
      url: url as string,
      mode: mode as UpstreamMode,
      databases: databases as string[],
      shadow: shadow as number,
      dbHeader: dbHeader as 'auto' | 'never' | undefined,
      timeoutMs: typeof timeout === 'number' ? timeout * 1000 : undefined,
      docsKeyEnv: e['docs_key_env'] as string | undefined,
      serviceKeyEnv: e['service_key_env'] as string | undefined,
    });
  });
  return out;
}

/** An upstream's URL without its trailing slashes, or why it is not one (never repeating it). */
function upstreamUrl(raw: unknown): string | { problem: string } {
  if (typeof raw !== 'string') return { problem: 'must be an http:// or https:// URL' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: 'is not a URL (expected e.g. http://odoo:8069)' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { problem: 'must be an http:// or https:// URL' };
  if (url.username || url.password || url.search || url.hash)
    return { problem: 'must not carry credentials, a query or a fragment' };
  return raw.replace(/(?<!\/)\/+$/, '');
}
