/**
 * Odoo's version, from `GET /web/version` (`{"version_info": [...], "version": "19.0"}`), cached
 * for BRIDGE_VERSION_CACHE_TTL_SECONDS; concurrent callers share one request.
 */
import { upstreamError, type OdooClient } from '../upstream/odoo-client.ts';
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
      throw upstreamError(`Odoo at ${where} answered something that is not JSON`);
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
 * `common.version()`: Odoo's RPC_VERSION_1 dict, keys in this order. `server_serie` is the major
 * and minor of version_info (`19.0`, or `saas~18.3` on SaaS builds).
 */
export function legacyVersionDict(v: OdooVersion): Struct {
  const [major, minor] = v.versionInfo;
  const serie = `${v.version.startsWith('saas~') ? 'saas~' : ''}${String(major)}.${String(minor)}`;
  return new Map<string, Value>([
    ['server_version', v.version],
    ['server_version_info', v.versionInfo],
    ['server_serie', serie],
    ['protocol_version', 1],
  ]);
}
