/**
 * The bridge's own work on one large attachment, in this process: what the codecs do with the
 * bytes, without the sockets. bench/large-payload.ts runs it with the bridge's node flags and
 * malloc setting (as the image runs the bridge):
 *
 *   MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8 --heap-growing-percent=100 bench/large-codec.ts 20 9
 *
 * - read, XML-RPC: Odoo's JSON-2 answer (in 64 KiB chunks, as a socket delivers it) → the
 *   XML-RPC response's bytes (encodeResponseChunks, chunks given back after each run);
 * - read, JSON-RPC: the same answer checked to be JSON (checkJson) and spliced into the envelope
 *   (jsonRpcResultBytes);
 * - create, XML-RPC / JSON-RPC: the legacy request's body (as xmlrpc.client and the JSON-RPC
 *   documentation write it, in 64 KiB chunks as the bridge reads a large one) decoded, and the
 *   JSON-2 request body written (toPythonJsonBytes).
 * Prints one JSON line per operation: median ms and MB/s of base64 text.
 */
import { randomBytes } from 'node:crypto';
import { toPythonJsonBytes } from '../src/protocol/json/stringify.ts';
import { decodeJsonRpcRequest, jsonRpcResultBytes } from '../src/protocol/jsonrpc.ts';
import { decodeMethodCall } from '../src/protocol/xmlrpc/decode.ts';
import { encodeResponseChunks } from '../src/protocol/xmlrpc/encode.ts';
import { checkJson } from '../src/protocol/xmlrpc/json-to-xml.ts';
import type { Utf8Bytes } from '../src/utf8-bytes.ts';
import { jsonResult, type Value } from '../src/values.ts';
import { attachmentCall } from './small-calls.ts';

const mib = Number(process.argv[2] ?? 20);
const reps = Number(process.argv[3] ?? 9);
const datas = randomBytes(mib * 1024 * 1024).toString('base64');

function chunked(text: string): Utf8Bytes {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 65536) chunks.push(Buffer.from(bytes.subarray(i, i + 65536)));
  return { chunks, length: bytes.length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
}

function measure(op: string, work: () => void): void {
  for (let i = 0; i < 2; i++) work();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    work();
    ms.push(performance.now() - t);
  }
  const m = median(ms);
  console.log(
    JSON.stringify({ op, ms: Math.round(m * 10) / 10, mbPerSecond: Math.round(datas.length / 1e3 / m) }),
  );
}

const answer = chunked(`[{"id": 1, "datas": "${datas}"}]`);
measure('read, xmlrpc', () => encodeResponseChunks(jsonResult(answer)).release());
measure('read, jsonrpc', () => {
  checkJson(answer);
  jsonRpcResultBytes(1, jsonResult(answer));
});

const xmlBody = Buffer.from(attachmentCall('xmlrpc', 'create', datas));
/** The JSON-2 body the bridge writes for the call: `{"vals_list": [...]}`. */
const json2Body = (params: Value[]): void => {
  toPythonJsonBytes(new Map<string, Value>([['vals_list', params[5] as Value]]));
};
const xmlChunks = chunked(xmlBody.toString()).chunks;
measure('create, xmlrpc', () => json2Body(decodeMethodCall(xmlChunks).params));
const jsonBody = Buffer.from(attachmentCall('jsonrpc', 'create', datas));
const jsonChunks = chunked(jsonBody.toString()).chunks;
measure('create, jsonrpc', () => {
  const decoded = decodeJsonRpcRequest(jsonChunks, 'application/json');
  if (!decoded.ok) throw decoded.fault;
  json2Body(decoded.request.args);
});
