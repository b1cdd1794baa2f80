/**
 * Built-in signatures of the standard ORM methods of Odoo 19 (BaseModel and web's additions; see
 * docs/wire.md §5.5). They need no request to the server, cover the methods deprecated methods
 * api_doc hides (`read_group`, `check_access_rights`, ...), and are the same on every model unless
 * a module overrides them with another signature (then use an override in BRIDGE_CONFIG).
 */
import { described, type MethodSignature, type ParamSpec } from './method-signature.ts';

const model = (params: ParamSpec[], definedIn = 'core'): MethodSignature => ({
  apiModel: true,
  params,
  source: 'builtin',
  definedIn,
});
const record = (params: ParamSpec[], definedIn = 'core'): MethodSignature => ({
  apiModel: false,
  params,
  source: 'builtin',
  definedIn,
});
/** A name ending in `?` has a default, the others are required (Odoo 19's signatures, as api_doc describes them). */
const p = described;
/** Keyword-only parameters, each with a default. */
const kwOnly = (names: readonly string[]): ParamSpec[] =>
  names.map((name) => ({ name, kind: 'keyword_only' as const, optional: true }));

export const BUILTIN_SIGNATURES: ReadonlyMap<string, MethodSignature> = new Map([
  ['search', model(p(['domain', 'offset?', 'limit?', 'order?']))],
  ['search_count', model(p(['domain', 'limit?']))],
  [
    'search_read',
    model([
      ...p(['domain?', 'fields?', 'offset?', 'limit?', 'order?']),
      { name: 'read_kwargs', kind: 'var_keyword' },
    ]),
  ],
  ['read', record(p(['fields?', 'load?']))],
  ['write', record(p(['vals']))],
  ['create', model(p(['vals_list']))],
  ['unlink', record([])],
  ['copy', record(p(['default?']))],
  ['copy_data', record(p(['default?']))],
  ['fields_get', model(p(['allfields?', 'attributes?']))],
  ['default_get', model(p(['fields']))],
  ['name_search', model(p(['name?', 'domain?', 'operator?', 'limit?']))],
  ['name_create', model(p(['name']))],
  ['read_group', model(p(['domain', 'fields', 'groupby', 'offset?', 'limit?', 'orderby?', 'lazy?']))],
  [
    'formatted_read_group',
    model(p(['domain', 'groupby?', 'aggregates?', 'having?', 'offset?', 'limit?', 'order?']), 'base'),
  ],
  [
    'web_search_read',
    model(p(['domain', 'specification', 'offset?', 'limit?', 'order?', 'count_limit?']), 'base'),
  ],
  ['web_read', record(p(['specification']), 'base')],
  ['web_save', record(p(['vals', 'specification', 'next_id?']), 'base')],
  ['web_name_search', model(p(['name', 'specification', 'domain?', 'operator?', 'limit?']), 'base')],
  [
    'web_read_group',
    model(
      [
        ...p(['domain', 'groupby', 'aggregates?', 'limit?', 'offset?', 'order?']),
        ...kwOnly([
          'auto_unfold',
          'opening_info',
          'unfold_read_specification',
          'unfold_read_default_limit',
          'groupby_read_specification',
        ]),
      ],
      'base',
    ),
  ],
  ['get_views', model(p(['views', 'options?']), 'base')],
  ['onchange', record(p(['values', 'field_names', 'fields_spec']))],
  ['has_access', record(p(['operation']))],
  ['check_access_rights', model(p(['operation', 'raise_exception?']))],
  ['check_access_rule', record(p(['operation']))],
  ['check_field_access_rights', model(p(['operation', 'field_names']))],
  ['action_archive', record([])],
  ['action_unarchive', record([])],
  ['toggle_active', record([])],
  ['get_metadata', record([])],
  ['get_external_id', record([])],
  ['export_data', record(p(['fields_to_export']))],
  ['load', model(p(['fields', 'data']))],
  ['context_get', model([], 'res.users')],
]);
