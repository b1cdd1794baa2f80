/**
 * Where a method's signature comes from, in order:
 * 1. overrides from BRIDGE_CONFIG (`signatures:`), which win over everything;
 * 2. the built-in table of standard ORM methods;
 * 3. the server's description (`/doc-bearer/<model>.json`), fetched with the caller's key, or with
 *    ODOO_DOCS_KEY when the caller's user may not read the docs (403). Cached per (db, model) in an
 *    LRU with a TTL; concurrent misses for the same model share one upstream request.
 */
import { LRUCache } from 'lru-cache';
import type { SignatureOverrides } from '../config.ts';
import type { OdooClient } from '../upstream/odoo-client.ts';
import { signaturesFromModelDoc } from './api-doc.ts';
import { BUILTIN_SIGNATURES } from './builtin.ts';
import { positional, type MethodSignature } from './method-signature.ts';

/** The least time between two fresh descriptions of a model after signature drift. */
const REFRESH_INTERVAL_MS = 60_000;

export interface SignatureLookup {
  db: string;
  model: string;
  method: string;
  apiKey: string;
  requestId?: string | undefined;
}

/** The outcome of a lookup: a signature, or why there is none (for the fault message). */
export type SignatureAnswer =
  | { found: true; signature: MethodSignature }
  | { found: false; reason: 'not-described' | 'docs-unavailable' };

type ModelDoc = Map<string, MethodSignature> | 'forbidden' | 'missing';

export interface SignatureRegistryOptions {
  odoo: OdooClient;
  overrides: SignatureOverrides;
  docsKey: string | undefined;
  cacheSize: number;
  ttlMs: number;
}

export class SignatureRegistry {
  private readonly opts: SignatureRegistryOptions;
  /** BRIDGE_CONFIG's `signatures:`, replaced whole when the file is read again. */
  private overrides: SignatureOverrides;
  private readonly docs: LRUCache<string, ModelDoc, SignatureLookup>;
  /** Models described again recently (`refresh`): not again within REFRESH_INTERVAL_MS. */
  private readonly refreshed: LRUCache<string, true>;
  /** Upstream requests made for docs, for tests and metrics. */
  docFetches = 0;
  /** Told of each look-up in the cache of model descriptions: found there (hit) or not (metrics). */
  onCacheLookup: ((hit: boolean) => void) | undefined;

  constructor(opts: SignatureRegistryOptions) {
    this.opts = opts;
    this.overrides = opts.overrides;
    this.refreshed = new LRUCache<string, true>({
      max: opts.cacheSize,
      ttl: opts.ttlMs > 0 ? Math.min(opts.ttlMs, REFRESH_INTERVAL_MS) : REFRESH_INTERVAL_MS,
    });
    this.docs = new LRUCache<string, ModelDoc, SignatureLookup>({
      max: opts.cacheSize,
      ttl: opts.ttlMs,
      fetchMethod: async (_key, _stale, { context, options }) => {
        const doc = await this.fetchModelDoc(context);
        // A refusal depends on whose key asked: don't let it stand for long.
        if (doc === 'forbidden') options.ttl = Math.min(opts.ttlMs, 60_000);
        return doc;
      },
    });
  }

  /** New overrides (BRIDGE_CONFIG read again): calls that start from now on use them. */
  setOverrides(overrides: SignatureOverrides): void {
    this.overrides = overrides;
  }

  /** The signature known without asking the server (override or built-in), if any. */
  known(model: string, method: string): MethodSignature | undefined {
    const o = this.overrides[model]?.[method];
    if (o) return { apiModel: o.model, params: positional(o.params), source: 'override' };
    return BUILTIN_SIGNATURES.get(method);
  }

  async lookup(q: SignatureLookup): Promise<SignatureAnswer> {
    const known = this.known(q.model, q.method);
    if (known) return { found: true, signature: known };
    const key = `${q.db}\u0000${q.model}`;
    this.onCacheLookup?.(this.docs.has(key));
    const doc = await this.docs.fetch(key, { context: q });
    if (doc === undefined || doc === 'forbidden') return { found: false, reason: 'docs-unavailable' };
    if (doc === 'missing') return { found: false, reason: 'not-described' };
    const sig = doc.get(q.method);
    return sig ? { found: true, signature: sig } : { found: false, reason: 'not-described' };
  }

  /** Forgets what the server said of a model (e.g. after a signature turned out wrong). */
  forget(db: string, model: string): void {
    this.docs.delete(`${db}\u0000${model}`);
  }

  /**
   * The signature again, after JSON-2 refused an argument name the bridge produced (signature
   * drift): an override is kept as it is (overrides win); otherwise the model's description is
   * forgotten and fetched anew from the server, bypassing the cache, and the server's signature is
   * answered even where the built-in table has one (a module may have renamed a parameter). A
   * model described again less than a minute ago is answered from the cache: a method that keeps
   * failing does not make every call fetch the description.
   */
  async refresh(q: SignatureLookup): Promise<SignatureAnswer> {
    const o = this.overrides[q.model]?.[q.method];
    if (o)
      return {
        found: true,
        signature: { apiModel: o.model, params: positional(o.params), source: 'override' },
      };
    const key = `${q.db}\u0000${q.model}`;
    const recent = this.refreshed.has(key);
    if (!recent) {
      this.refreshed.set(key, true);
      this.docs.delete(key);
    }
    const doc = await this.docs.fetch(key, { context: q, forceRefresh: !recent });
    if (doc === undefined || doc === 'forbidden') return { found: false, reason: 'docs-unavailable' };
    if (doc === 'missing') return { found: false, reason: 'not-described' };
    const sig = doc.get(q.method);
    return sig ? { found: true, signature: sig } : { found: false, reason: 'not-described' };
  }

  private async fetchModelDoc(q: SignatureLookup): Promise<ModelDoc> {
    this.docFetches++;
    let answer = await this.opts.odoo.modelDoc(q.model, {
      db: q.db,
      apiKey: q.apiKey,
      requestId: q.requestId,
    });
    if (
      (answer.status === 403 || answer.status === 401) &&
      this.opts.docsKey &&
      this.opts.docsKey !== q.apiKey
    ) {
      this.docFetches++;
      answer = await this.opts.odoo.modelDoc(q.model, {
        db: q.db,
        apiKey: this.opts.docsKey,
        requestId: q.requestId,
      });
    }
    if (answer.status === 200) return signaturesFromModelDoc(answer.text);
    if (answer.status === 403 || answer.status === 401) return 'forbidden';
    return 'missing';
  }
}
