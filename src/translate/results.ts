/**
 * JSON-2 answers → the legacy result, where they differ (docs/wire.md §3.2, §4.4).
 */
import { notJsonAnswer, textStart, upstreamError } from '../errors.ts';
import { valueResult, type CallResult, type CallSite } from '../values.ts';

/** Legacy `create({...})` answers the new id (or False), JSON-2 answers `[id]`. */
export function firstCreatedId(text: string, site: CallSite): CallResult {
  let ids: unknown;
  try {
    ids = JSON.parse(text);
  } catch {
    throw notJsonAnswer(site.baseUrl, `${site.model}.create`, textStart(text));
  }
  if (!Array.isArray(ids))
    throw upstreamError(`Odoo answered ${site.model}.create with ${typeof ids}, not a list of ids`);
  const first: unknown = ids[0];
  if (first === undefined) return valueResult(false);
  if (typeof first !== 'number' || !Number.isSafeInteger(first))
    throw upstreamError(`Odoo answered ${site.model}.create with a non-integer id`);
  return valueResult(first);
}
