/**
 * OpenTelemetry traces (issue 19, item 3), received by an OTLP/HTTP receiver in this process: with
 * `OTEL_TRACES_EXPORTER=otlp` a legacy call is one span (protocol, service, db, model, method,
 * outcome; never an argument or a key), a child of the client's own span when it sends a W3C
 * `traceparent`, with a child span for its request to Odoo, which receives the trace's
 * `traceparent` in turn. Off (the default), nothing is sent to Odoo but what was before.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** An OTLP/HTTP (JSON) receiver: every span posted to /v1/traces, with its resource's service name. */
async function receiver(): Promise<{
  url: string;
  spans: (OtlpSpan & { service: string })[];
  close(): Promise<void>;
}> {
  const spans: (OtlpSpan & { service: string })[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: OtlpSpan[] }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service =
            rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const attr = (s: OtlpSpan, key: string): unknown => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : (v['stringValue'] ?? v['intValue'] ?? v['boolValue']);
};

async function until<T>(get: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting for spans');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('OpenTelemetry traces', () => {
  let otlp: Awaited<ReturnType<typeof receiver>>;
  let stack: Stack;
  beforeAll(async () => {
    otlp = await receiver();
    stack = await startStack({
      env: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_SERVICE_NAME: 'bridge-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
    });
  });
  afterAll(async () => {
    await stack.close();
    await otlp.close();
  });

  it("a legacy call is a span in the client's trace, with a child span for its request to Odoo", async () => {
    const answer = await xmlrpcCall(
      `${stack.bridge.url}/xmlrpc/2/object`,
      'execute_kw',
      ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_read', [[['is_company', '=', true]]], { limit: 2 }],
      { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } },
    );
    expect(answer.value).toBeInstanceOf(Array);
    const call = await until(() => otlp.spans.find((s) => s.traceId === TRACE && s.kind === 2));
    expect(call).toMatchObject({ parentSpanId: PARENT, name: 'object.execute_kw' });
    expect(call.service).toBe('bridge-under-test');
    expect(attr(call, 'odoo.protocol')).toBe('xmlrpc/2');
    expect(attr(call, 'odoo.db')).toBe('lab');
    expect(attr(call, 'odoo.model')).toBe('res.partner');
    expect(attr(call, 'odoo.method')).toBe('search_read');
    expect(attr(call, 'odoo.outcome')).toBe('ok');
    const children = (name: string) =>
      otlp.spans.find((s) => s.parentSpanId === call.spanId && s.name === name);
    // The key checked (whose is it?), then the call itself: each request to Odoo a child span.
    await until(() => children('POST /json/2/res.users/context_get'));
    const upstream = await until(() => children('POST /json/2/res.partner/search_read'));
    expect(upstream).toMatchObject({ traceId: TRACE, kind: 3 });
    expect(String(attr(upstream, 'http.response.status_code'))).toBe('200');
    // Odoo got the trace on, as a child of the upstream span.
    const sent = stack.odoo.requests.find((r) => r.path === '/json/2/res.partner/search_read');
    expect(sent?.headers['traceparent']).toBe(`00-${TRACE}-${upstream.spanId}-01`);
    // Nothing secret, nothing the client passed as an argument.
    const everything = JSON.stringify(otlp.spans);
    expect(everything).not.toContain(KEYS.labAdmin);
    expect(everything).not.toContain('is_company');
  });

  it('a fault is an error span naming its class; a call without traceparent starts its own trace', async () => {
    const before = otlp.spans.length;
    const answer = await xmlrpcCall(`${stack.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'no_such_method',
      [[1]],
    ]);
    expect(answer.fault).toBeDefined();
    const call = await until(() =>
      otlp.spans.slice(before).find((s) => s.kind === 2 && attr(s, 'odoo.method') === 'no_such_method'),
    );
    expect(call.parentSpanId ?? '').toBe('');
    expect(call.traceId).not.toBe(TRACE);
    expect(call.status?.code).toBe(2);
    expect(attr(call, 'odoo.outcome')).toBe('fault');
    expect(attr(call, 'odoo.fault')).toMatch(/Error$/);
  });
});

describe('tracing off (the default)', () => {
  it('sends Odoo no traceparent of its own, and passes none on from the client', async () => {
    const stack = await startStack();
    try {
      await xmlrpcCall(
        `${stack.bridge.url}/xmlrpc/2/object`,
        'execute_kw',
        ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]],
        { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } },
      );
      const sent = stack.odoo.requests.find((r) => r.path === '/json/2/res.partner/search_count');
      expect(sent).toBeDefined();
      expect(sent?.headers['traceparent']).toBeUndefined();
      expect(stack.bridge.parts.tracing).toBeUndefined();
    } finally {
      await stack.close();
    }
  });
});
