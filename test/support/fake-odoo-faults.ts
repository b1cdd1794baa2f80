/**
 * Faults of the fake Odoo that break an answer after Odoo did the work (test/support/fake-odoo.ts
 * applies them to `/json/2` and `/doc-bearer` answers): a connection reset in the middle of a
 * chunked body, a complete HTTP answer whose JSON is cut short, and megabytes of garbage.
 */
import type { ServerResponse } from 'node:http';

export type BodyFault =
  /** Send the headers (chunked, no Content-Length) and part of the body, then destroy the socket. */
  | { kind: 'reset-mid-body'; times?: number }
  /** A complete 200 answer (right Content-Length) whose JSON text is cut in half (never valid JSON). */
  | { kind: 'truncated-json'; times?: number }
  /** A 200 with a JSON Content-Type and `bytes` (default 10 MiB) of bytes that are not JSON. */
  | { kind: 'big-garbage'; bytes?: number; times?: number };

export interface BodyFaultReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Answers `reply` (what the fake would have answered) broken as `fault` says. */
export function sendBrokenReply(res: ServerResponse, fault: BodyFault, reply: BodyFaultReply): void {
  const bytes = Buffer.from(reply.body, 'utf8');
  const headers = { ...reply.headers };
  for (const h of Object.keys(headers)) if (h.toLowerCase() === 'content-length') delete headers[h];
  if (fault.kind === 'reset-mid-body') {
    res.writeHead(reply.status, headers); // no Content-Length: chunked
    res.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))));
    setTimeout(() => res.socket?.destroy(), 10);
    return;
  }
  if (fault.kind === 'truncated-json') {
    let cut = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
    // Half of a short scalar (`42` → `4`) is still JSON: open an array it never closes.
    if (parsesAsJson(cut)) cut = Buffer.concat([Buffer.from('['), cut]);
    res.writeHead(200, { ...headers, 'Content-Length': String(cut.length) });
    res.end(cut);
    return;
  }
  const size = fault.bytes ?? 10 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, '<garbage \u0001\u00ff>', 'latin1');
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(size) });
  let left = size;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    left = 0;
  });
  pump();
}

function parsesAsJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
