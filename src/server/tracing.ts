/**
 * OpenTelemetry traces, off unless the standard variables ask for them (`OTEL_TRACES_EXPORTER=otlp`,
 * and `OTEL_SDK_DISABLED` not `true`): one span per legacy call (protocol, service, legacy
 * function, db, model, method, outcome; never an argument, a login or a key) and a child span for
 * each request the call makes to Odoo, exported over OTLP/HTTP by the official SDK
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_SERVICE_NAME`,
 * `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`, read as the SDK reads them). A
 * client's W3C `traceparent` (and `tracestate`) makes the call a child of the client's span, and
 * each request to Odoo carries the trace on in its own `traceparent`.
 *
 * Off, the bridge does nothing of this: the SDK (src/server/otel.ts) is not even loaded; one
 * `undefined` check per call and per request to Odoo.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';

/** What a legacy call's span records when the call is answered. */
export interface CallSpanEnd {
  protocol: string;
  service: string | undefined;
  function: string | undefined;
  db: string | undefined;
  model: string | undefined;
  method: string | undefined;
  /** The fault's Python class, when the call faulted. */
  fault: string | undefined;
}

/** A legacy call's span: ended once, when the call is logged. */
export interface CallSpan {
  end(o: CallSpanEnd): void;
}

/** A request to Odoo in flight: the headers that carry the trace on, and its end. */
export interface UpstreamSpan {
  readonly headers: Record<string, string>;
  end(status: number | undefined, error?: string): void;
}

/** What the bridge asks of tracing (src/server/otel.ts has the SDK's). */
export interface Tracing {
  inCall<T>(
    headers: import('node:http').IncomingHttpHeaders,
    serve: (span: CallSpan) => Promise<T>,
  ): Promise<T>;
  upstream(method: string, path: string): UpstreamSpan | undefined;
  shutdown(): Promise<void>;
}

/** Tracing as the standard variables ask for it, or undefined (the default: off). */
export async function tracingFromEnv(env: NodeJS.ProcessEnv, log: Logger): Promise<Tracing | undefined> {
  if ((env['OTEL_SDK_DISABLED'] ?? '').toLowerCase() === 'true') return undefined;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((s) => s.trim());
  if (!exporters.includes('otlp')) return undefined;
  const { OtelTracing } = await import('./otel.ts');
  return new OtelTracing(env, log);
}

/** The path without its query string (no pattern: it is Odoo's path, of any length). */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}
