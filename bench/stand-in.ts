/**
 * The JSON-2 upstream stand-in for the benchmarks: answers recorded JSON-2 texts from memory, so
 * that what is measured is the bridge (or the proxy), never Odoo. Runs as its own process:
 *
 *   node bench/stand-in.ts [records.json]
 *
 * prints {"url": ...} once listening. Answers (HTTP 200, application/json, keep-alive):
 * - `POST /json/2/res.users/context_get`: the caller's context (uid 2), what the bridge asks once
 *   per API key;
 * - `POST /json/2/res.partner/read`: one record; `POST /json/2/res.partner/create`: `[7]`;
 * - `POST /json/2/res.partner/search_read`: the text of records.json (the large read), else `[]`;
 * - `POST /json/2/ir.attachment/read`: one attachment whose `datas` is the base64 of
 *   STAND_IN_ATTACHMENT_BYTES random bytes (default 0: an empty one); `ir.attachment/create`: `[8]`;
 * - `POST /jsonrpc`: the one record as the legacy endpoint's result (what shadow mode asks:
 *   bench/shadow.ts);
 * - anything else: `{}`.
 * A bearer key that starts with `refused-` is answered 401, as Odoo answers a key it does not know
 * (bench/hostile.ts guesses with such keys). Request bodies are read and dropped.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The one-record answer, as Odoo's JSON-2 writes it (Python's json.dumps spacing). */
export const ONE_RECORD = '[{"id": 7, "name": "Partner 7 & Co <7>"}]';
export const CONTEXT = '{"lang": "en_US", "tz": "Europe/Brussels", "uid": 2}';

const recordsPath = process.argv[2];
const answers = new Map<string, Buffer>([
  ['/json/2/res.users/context_get', Buffer.from(CONTEXT)],
  ['/json/2/res.partner/read', Buffer.from(ONE_RECORD)],
  ['/json/2/res.partner/create', Buffer.from('[7]')],
  ['/json/2/res.partner/search_read', recordsPath ? readFileSync(recordsPath) : Buffer.from('[]')],
  ['/json/2/ir.attachment/read', attachment(Number(process.env['STAND_IN_ATTACHMENT_BYTES'] ?? 0))],
  ['/json/2/ir.attachment/create', Buffer.from('[8]')],
  ['/jsonrpc', Buffer.from(`{"jsonrpc": "2.0", "id": 1, "result": ${ONE_RECORD}}`)],
]);

/** `read([id], ['datas'])` of an attachment of `size` bytes, as Odoo's JSON-2 writes it. */
function attachment(size: number): Buffer {
  const datas = randomBytes(size).toString('base64');
  return Buffer.from(`[{"id": 1, "datas": "${datas}"}]`);
}
const EMPTY = Buffer.from('{}');
const UNAUTHORIZED = Buffer.from(
  '{"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey", "arguments": ["Invalid apikey", 401], "context": {}, "debug": ""}',
);

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    if (String(req.headers.authorization ?? '').startsWith('bearer refused-')) {
      res.writeHead(401, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': UNAUTHORIZED.length,
      });
      res.end(UNAUTHORIZED);
      return;
    }
    const body = answers.get(req.url ?? '') ?? EMPTY;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
