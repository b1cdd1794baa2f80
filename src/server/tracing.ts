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
 * Off, the bridge does nothing of this: no provider, no context manager, one `undefined` check per
 * call and per request to Odoo.
 */
import {
  context,
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

let contextManagerSet = false;

export class Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(env: NodeJS.ProcessEnv) {
    const endpoint =
      env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ??
      (env['OTEL_EXPORTER_OTLP_ENDPOINT']
        ? `${env['OTEL_EXPORTER_OTLP_ENDPOINT'].replace(/\/+$/, '')}/v1/traces`
        : undefined);
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
        span.updateName(
          o.service && o.function
            ? `${o.service}.${o.function}${o.model ? ` ${o.model}.${o.method ?? ''}` : ''}`
            : 'legacy call',
        );
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
      `${method} ${path.replace(/\?.*$/, '')}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': method, 'url.path': path.replace(/\?.*$/, '') },
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

  /** Sends what is batched and stops (on shutdown). */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** Tracing as the standard variables ask for it, or undefined (the default: off). */
export function tracingFromEnv(env: NodeJS.ProcessEnv): Tracing | undefined {
  if ((env['OTEL_SDK_DISABLED'] ?? '').toLowerCase() === 'true') return undefined;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((s) => s.trim());
  return exporters.includes('otlp') ? new Tracing(env) : undefined;
}
