/**
 * Real clients for the integration tests: the `xmlrpc` npm client (an independent XML-RPC
 * implementation), and raw HTTP for JSON-RPC and for bodies no client would send.
 */
import xmlrpc from 'xmlrpc';

export interface XmlRpcAnswer {
  value?: unknown;
  fault?: { faultCode: number | string; faultString: string };
}

/**
 * Calls `method(...params)` at `url` with the xmlrpc npm client; faults are answers, not throws.
 * `from`: the local address to call from (127.0.0.x: another client of the same bridge).
 */
export function xmlrpcCall(
  url: string,
  method: string,
  params: unknown[],
  from?: { localAddress?: string; headers?: Record<string, string> },
): Promise<XmlRpcAnswer> {
  // The client hands its options to http.request, localAddress included (not in its types).
  const client = from
    ? xmlrpc.createClient({ url, ...from } as Parameters<typeof xmlrpc.createClient>[0])
    : xmlrpc.createClient(url);
  return new Promise((resolve, reject) =>
    client.methodCall(method, params, (err: unknown, value: unknown) => {
      if (!err) return resolve({ value });
      const f = err as { faultCode?: number | string; faultString?: string };
      if (f.faultCode !== undefined)
        return resolve({ fault: { faultCode: f.faultCode, faultString: f.faultString ?? '' } });
      reject(err as Error);
    }),
  );
}

export interface JsonRpcAnswer {
  status: number;
  contentType: string;
  text: string;
  json?: {
    jsonrpc: string;
    id: unknown;
    result?: unknown;
    error?: { code: number; message: string; data: JsonRpcErrorData };
  };
}
export interface JsonRpcErrorData {
  name: string;
  message: string;
  arguments: unknown[];
  context: unknown;
  debug: string;
}

export async function jsonrpcCall(
  base: string,
  service: string,
  method: string,
  args: unknown[],
): Promise<JsonRpcAnswer> {
  return postRaw(
    `${base}/jsonrpc`,
    JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: 7 }),
    'application/json',
  );
}

export async function postRaw(
  url: string,
  body: string | Buffer,
  contentType: string,
): Promise<JsonRpcAnswer> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } });
  const text = await res.text();
  const ct = res.headers.get('content-type') ?? '';
  let json: JsonRpcAnswer['json'];
  if (ct.includes('json')) json = JSON.parse(text) as JsonRpcAnswer['json'];
  return { status: res.status, contentType: ct, text, ...(json ? { json } : {}) };
}

export const lastLine = (s: string): string => s.trimEnd().split('\n').at(-1) ?? '';
