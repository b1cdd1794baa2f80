/**
 * Reads Odoo's own description of a model (`GET /doc-bearer/<model>.json`, the api_doc addon) into
 * `MethodSignature`s. Parameters keep their order; `kind` is absent for ordinary parameters; `api`
 * contains "model" for `@api.model` methods. api_doc describes the *introducing* definition of a
 * method, so an override that renames parameters is not seen (use BRIDGE_CONFIG overrides).
 */
import type { MethodSignature, ParamKind, ParamSpec } from './method-signature.ts';

const KINDS: Record<string, ParamKind> = {
  POSITIONAL_ONLY: 'positional_only',
  POSITIONAL_OR_KEYWORD: 'positional',
  VAR_POSITIONAL: 'var_positional',
  KEYWORD_ONLY: 'keyword_only',
  VAR_KEYWORD: 'var_keyword',
};

/** Parses a model doc; methods whose description is malformed are left out. */
export function signaturesFromModelDoc(text: string): Map<string, MethodSignature> {
  const out = new Map<string, MethodSignature>();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return out;
  }
  const methods = (doc as { methods?: unknown } | null)?.methods;
  if (typeof methods !== 'object' || methods === null) return out;
  for (const [name, desc] of Object.entries(methods as Record<string, unknown>)) {
    if (typeof desc !== 'object' || desc === null) continue;
    const d = desc as { parameters?: unknown; api?: unknown; model?: unknown };
    const params: ParamSpec[] = [];
    if (typeof d.parameters === 'object' && d.parameters !== null) {
      for (const [pname, pdesc] of Object.entries(d.parameters as Record<string, unknown>)) {
        const described = typeof pdesc === 'object' && pdesc !== null ? pdesc : {};
        const kind = (described as { kind?: unknown }).kind;
        params.push({
          name: pname,
          kind: typeof kind === 'string' ? (KINDS[kind] ?? 'positional') : 'positional',
          optional: Object.hasOwn(described, 'default'),
        });
      }
    }
    const api = Array.isArray(d.api) ? d.api : [];
    out.set(name, {
      apiModel: api.includes('model'),
      params,
      source: 'server',
      ...(typeof d.model === 'string' && d.model.length <= 128 ? { definedIn: d.model } : {}),
    });
  }
  return out;
}
