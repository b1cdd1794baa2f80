/**
 * Odoo's version, from `GET /web/version` (`{"version_info": [...], "version": "19.0"}`), cached
 * for BRIDGE_VERSION_CACHE_TTL_SECONDS; concurrent callers share one request.
 */
import { notJsonAnswer, textStart, upstreamError } from '../errors.ts';
import type { OdooClient } from '../upstream/odoo-client.ts';
import { type Struct, type Value } from '../values.ts';

export interface OdooVersion {
  version: string;
  versionInfo: Value[];
}

export class VersionSource {
  private readonly odoo: OdooClient;
  private readonly ttlMs: number;
  private cached: { at: number; value: Promise<OdooVersion> } | undefined;

  constructor(odoo: OdooClient, ttlMs: number) {
    this.odoo = odoo;
    this.ttlMs = ttlMs;
  }

  get(): Promise<OdooVersion> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.value;
    const value = this.fetch();
    this.cached = { at: now, value };
    value.catch(() => {
      if (this.cached?.value === value) this.cached = undefined;
    });
    return value;
  }

  private async fetch(): Promise<OdooVersion> {
    const answer = await this.odoo.version();
    const where = `${this.odoo.baseUrl}/web/version`;
    if (answer.status !== 200) throw upstreamError(`Odoo at ${where} answered HTTP ${answer.status}`);
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      throw notJsonAnswer(this.odoo.baseUrl, '/web/version', textStart(answer.text));
    }
    const b = body as { version?: unknown; version_info?: unknown } | null;
    if (typeof b?.version !== 'string' || !Array.isArray(b.version_info))
      throw upstreamError(`Odoo at ${where} answered without version/version_info`);
    const versionInfo = b.version_info.map((v: unknown): Value =>
      typeof v === 'number' || typeof v === 'string' ? v : String(v),
    );
    return { version: b.version, versionInfo };
  }
}

/**
 * The (major, minor) release of an upstream, for the version-aware shims: `version_info` starts
 * `[19, 0, …]`, or `['saas~19', 1, …]` on SaaS builds (Odoo's `odoo/release.py`); the `version`
 * string (`19.0`, `saas~19.1`) is the fallback. Undefined when neither reads as a release.
 */
export function releaseOf(v: OdooVersion): readonly [number, number] | undefined {
  const [major, minor] = v.versionInfo;
  const m = typeof major === 'string' ? /^(?:saas~)?(\d+)$/.exec(major) : null;
  const maj = typeof major === 'number' ? major : m ? Number(m[1]) : NaN;
  if (Number.isInteger(maj) && typeof minor === 'number' && Number.isInteger(minor)) return [maj, minor];
  const s = /^(?:saas~)?(\d+)\.(\d+)/.exec(v.version);
  return s ? [Number(s[1]), Number(s[2])] : undefined;
}

/**
 * `common.version()`: Odoo's RPC_VERSION_1 dict, keys in this order. `server_serie` is the major
 * and minor of version_info joined by a dot (`19.0`; `saas~19.1` on SaaS builds, whose
 * version_info starts with `'saas~19'`).
 */
export function legacyVersionDict(v: OdooVersion): Struct {
  const [major, minor] = v.versionInfo;
  const saas = v.version.startsWith('saas~') && !String(major).startsWith('saas~') ? 'saas~' : '';
  const serie = `${saas}${String(major)}.${String(minor)}`;
  return new Map<string, Value>([
    ['server_version', v.version],
    ['server_version_info', v.versionInfo],
    ['server_serie', serie],
    ['protocol_version', 1],
  ]);
}
