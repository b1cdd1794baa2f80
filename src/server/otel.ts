/**
 * The OpenTelemetry SDK behind src/server/tracing.ts, loaded only when tracing is on: a tracer
 * provider exporting over OTLP/HTTP (JSON), the W3C trace-context propagator, and an
 * AsyncLocalStorage context manager that carries a call's span through its awaits. The SDK's own
 * diagnostics (a collector that cannot be reached, say) go to the bridge's log at warn level.
 */
import {
  context,
  diag,
  DiagLogLevel,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { pathOnly, type CallSpan, type Tracing, type UpstreamSpan } from './tracing.ts';

let contextManagerSet = false;
let diagSet = false;

function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === '/') end--;
  return url.slice(0, end);
}

export class OtelTracing implements Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(env: NodeJS.ProcessEnv, log: Logger) {
    const base = env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    const endpoint =
      env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ??
      (base ? `${withoutTrailingSlashes(base)}/v1/traces` : undefined);
    if (!diagSet) {
      diagSet = true;
      diag.setLogger(
        {
          error: (m) => log.warn({ otel: m }, 'OpenTelemetry: error'),
          warn: (m) => log.warn({ otel: m }, 'OpenTelemetry: warning'),
          info: () => undefined,
          debug: () => undefined,
          verbose: () => undefined,
        },
        DiagLogLevel.WARN,
      );
    }
    const exporter = new OTLPTraceExporter(endpoint ? { url: endpoint } : {});
    const delay = Number(env['OTEL_BSP_SCHEDULE_DELAY']);
    const resource = detectResources({ detectors: [envDetector] }).merge(
      resourceFromAttributes({ 'service.name': env['OTEL_SERVICE_NAME'] ?? 'odoo-rpc-bridge' }),
    );
    this.provider = new BasicTracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor(
          exporter,
          Number.isFinite(delay) && delay > 0 ? { scheduledDelayMillis: delay } : {},
        ),
      ],
    });
    this.tracer = this.provider.getTracer('odoo-rpc-bridge');
    if (!contextManagerSet) {
      // The active span follows the call through its awaits (a global of the OpenTelemetry API).
      contextManagerSet = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    }
  }

  /**
   * Runs `serve` as a legacy call's span: the client's trace continued when it sent one, active
   * for every request the call makes to Odoo. The span ends when the call is logged (`end`), or
   * when `serve` settles if it never was.
   */
  async inCall<T>(headers: IncomingHttpHeaders, serve: (span: CallSpan) => Promise<T>): Promise<T> {
    const parent = this.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const span = this.tracer.startSpan('legacy call', { kind: SpanKind.SERVER }, parent);
    let ended = false;
    const callSpan: CallSpan = {
      end: (o) => {
        if (ended) return;
        ended = true;
        const attributes: Attributes = {
          'rpc.system': o.protocol.startsWith('xmlrpc') ? 'xmlrpc' : 'jsonrpc',
        };
        const set = (k: string, v: string | undefined) => {
          if (v !== undefined) attributes[k] = v;
        };
        set('odoo.protocol', o.protocol);
        set('odoo.service', o.service);
        set('odoo.function', o.function);
        set('odoo.db', o.db);
        set('odoo.model', o.model);
        set('odoo.method', o.method);
        attributes['odoo.outcome'] = o.fault === undefined ? 'ok' : 'fault';
        set('odoo.fault', o.fault);
        span.setAttributes(attributes);
        // service.function only: model and method are attributes (span names stay a small set).
        span.updateName(o.service && o.function ? `${o.service}.${o.function}` : 'legacy call');
        if (o.fault !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: o.fault });
        span.end();
      },
    };
    try {
      return await context.with(trace.setSpan(parent, span), () => serve(callSpan));
    } finally {
      if (!ended) {
        ended = true;
        span.end();
      }
    }
  }

  /** A request to Odoo, as a child of the active call's span (none outside a call: no span). */
  upstream(method: string, path: string): UpstreamSpan | undefined {
    const active: Context = context.active();
    if (trace.getSpan(active) === undefined) return undefined;
    const span = this.tracer.startSpan(
      `${method} ${pathOnly(path)}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': method, 'url.path': pathOnly(path) },
      },
      active,
    );
    const headers: Record<string, string> = {};
    this.propagator.inject(trace.setSpan(active, span), headers, defaultTextMapSetter);
    return {
      headers,
      end: (status, error) => {
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        if (error !== undefined) {
          span.setAttribute('error.type', error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        } else if (status !== undefined && status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
    };
  }

  /** Sends what is batched and stops (on shutdown), waiting 2 s at most for the collector. */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.provider.shutdown(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000);
      }),
    ]);
    clearTimeout(timer);
  }
}
