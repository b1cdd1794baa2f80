/**
 * What the upstream client reports about its requests (the labels of their metrics, which
 * server/metrics.ts counts): which endpoint, and how a request failed.
 */

/** The kinds of request to Odoo: JSON-2 calls, `/web/version`, `/doc-bearer`, shadow calls to `/jsonrpc`. */
export type UpstreamEndpoint = 'json2' | 'version' | 'doc' | 'shadow';

/** How an upstream request failed (odoo-client's transport failures, and answers that were no answer). */
export type UpstreamErrorKind =
  'refused' | 'timeout' | 'reset' | 'status' | 'garbage' | 'too_large' | 'other';
