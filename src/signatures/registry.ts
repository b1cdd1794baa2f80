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
  private readonly docs: LRUCache<string, ModelDoc, SignatureLookup>;
  /** Upstream requests made for docs, for tests and metrics. */
  docFetches = 0;
  /** Told of each look-up in the cache of model descriptions: found there (hit) or not (metrics). */
  onCacheLookup: ((hit: boolean) => void) | undefined;

  constructor(opts: SignatureRegistryOptions) {
    this.opts = opts;
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

  /** The signature known without asking the server (override or built-in), if any. */
  known(model: string, method: string): MethodSignature | undefined {
    const o = this.opts.overrides[model]?.[method];
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
