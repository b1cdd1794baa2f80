/**
 * XML-RPC codec benchmark against CPython, in one run on the same bytes:
 * - encode: a 20,000-record `search_read` answer, JSON-2 text → XML-RPC response bytes
 *   (`encodeResponseChunks`: what the HTTP layer sends, pooled chunks given back after each run)
 *   and → string (`encodeResponse`), and the
 *   same result as a `Value`, vs CPython on the same data: `xmlrpc.client.dumps` (a str), and what
 *   Odoo does per response (its marshaller deleting control characters, the envelope, UTF-8);
 * - decode: a 5 MB `create` call (one struct, one 5 MB base64 text as a `<string>`, as Odoo
 *   clients send binary fields), the same as a `<base64>` (an `xmlrpc.client.Binary`), and a
 *   `create` call with 20,000 small structs, `decodeMethodCall` vs CPython
 *   `xmlrpc.client.loads(use_datetime=True)`. The request bodies are written by CPython's client.
 *
 * Run: `npx node bench/xmlrpc-codec.ts [repetitions]` (Node 24 strips the types). Prints medians.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJsonValue } from '../src/protocol/json/parse.ts';
import { decodeMethodCall } from '../src/protocol/xmlrpc/decode.ts';
import { encodeResponse, encodeResponseChunks } from '../src/protocol/xmlrpc/encode.ts';
import { jsonResult, valueResult } from '../src/values.ts';

const reps = Number(process.argv[2] ?? 7);

/** Python's json.dumps spelling of a 20,000-record search_read result (10 fields each). */
function searchReadJson(records: number): string {
  const rows: string[] = [];
  for (let i = 0; i < records; i++) {
    const amount = (i * 1.25 + 0.1).toFixed(2).replace(/0$/, '').replace(/\.$/, '.0');
    rows.push(
      `{"id": ${i + 1}, "name": "Partner ${i} & Sons <Ltd>", "email": "partner${i}@example.com", ` +
        `"company_id": [1, "YourCompany"], "amount_total": ${amount}, "active": ${i % 3 ? 'true' : 'false'}, ` +
        `"date_order": "2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00", "ref": "REF${String(i).padStart(6, '0')}", ` +
        `"color": ${i % 12}, "comment": "Lorem ipsum dolor sit amet, élite consectetur \\u00e9 adipiscing"}`,
    );
  }
  return `[${rows.join(', ')}]`;
}

const PY = String.raw`
import sys, json, time, random, base64, statistics, xmlrpc.client as x
mode, reps = sys.argv[1], int(sys.argv[2])
CONTROL = dict.fromkeys(set(range(32)) - {9, 10, 13})
class OdooLike(x.Marshaller):
    dispatch = dict(x.Marshaller.dispatch)
    def dump_str(self, value, write):
        return super().dump_unicode(value.translate(CONTROL), write)
    dispatch[str] = dump_str
def timed(f):
    f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts)
if mode == 'make':
    # The requests, as Python's own client writes them.
    out = sys.argv[3]
    random.seed(1)
    blob = base64.b64encode(random.randbytes(3_750_000)).decode()
    big = x.dumps(('lab', 2, 'admin', 'ir.attachment', 'create', [{'name': 'big.bin', 'datas': blob, 'res_model': 'res.partner', 'res_id': 7}]), 'execute_kw')
    recs = [{'name': f'Partner {i}', 'email': f'p{i}@example.com', 'company_id': 1, 'credit_limit': i * 1.5, 'active': i % 3 != 0,
             'date': '2024-01-%02d' % (i % 28 + 1), 'ref': f'R{i:06d}', 'color': i % 12, 'category_id': [[6, 0, [1, 2]]],
             'comment': 'Lorem ipsum <b>&amp;</b> dolor'} for i in range(20000)]
    many = x.dumps(('lab', 2, 'admin', 'res.partner', 'create', [recs]), 'execute_kw')
    b64 = x.dumps(('lab', 2, 'admin', 'ir.attachment', 'create', [{'name': 'big.bin', 'datas': x.Binary(base64.b64decode(blob))}]), 'execute_kw')
    open(out + '/big.xml', 'wb').write(big.encode())
    open(out + '/b64.xml', 'wb').write(b64.encode())
    open(out + '/many.xml', 'wb').write(many.encode())
elif mode == 'encode':
    data = json.loads(open(sys.argv[3], encoding='utf-8').read())
    def odoo():
        body = OdooLike(allow_none=False).dumps((data,))
        return ('<?xml version="1.0"?>\n<methodResponse>\n%s\n</methodResponse>\n' % body).encode()
    print(json.dumps({
        'dumps': timed(lambda: x.dumps((data,), methodresponse=True)),
        'odoo': timed(odoo),
    }))
else:
    res = {}
    for name in sys.argv[3:]:
        body = open(name, 'rb').read()
        res[name] = timed(lambda: x.loads(body, use_datetime=True))
    print(json.dumps(res))
`;

function python(args: string[]): string {
  return execFileSync('python3', ['-I', '-c', PY, ...args], { maxBuffer: 1 << 28 }).toString();
}

function median(f: () => void): number {
  f();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    f();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)] as number;
}

const dir = mkdtempSync(join(tmpdir(), 'xmlrpc-bench-'));
try {
  const json = searchReadJson(20_000);
  const jsonFile = join(dir, 'search_read.json');
  writeFileSync(jsonFile, json);
  python(['make', String(reps), dir]);
  const big = readFileSync(join(dir, 'big.xml'));
  const many = readFileSync(join(dir, 'many.xml'));
  const b64 = readFileSync(join(dir, 'b64.xml'));

  const value = parseJsonValue(json);
  const ours = {
    bytes: median(() => encodeResponseChunks(jsonResult(json)).release()),
    string: median(() => void encodeResponse(jsonResult(json))),
    value: median(() => encodeResponseChunks(valueResult(value)).release()),
    big: median(() => void decodeMethodCall(big)),
    b64: median(() => void decodeMethodCall(b64)),
    many: median(() => void decodeMethodCall(many)),
  };
  const pyEncode = JSON.parse(python(['encode', String(reps), jsonFile])) as { dumps: number; odoo: number };
  const pyDecode = JSON.parse(
    python(['decode', String(reps), join(dir, 'big.xml'), join(dir, 'b64.xml'), join(dir, 'many.xml')]),
  ) as Record<string, number>;
  const pyBig = pyDecode[join(dir, 'big.xml')] as number;
  const pyMany = pyDecode[join(dir, 'many.xml')] as number;
  const pyB64 = pyDecode[join(dir, 'b64.xml')] as number;

  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  const row = (name: string, us: number, py: number): string =>
    `${name.padEnd(48)} ${us.toFixed(1).padStart(9)} ${py.toFixed(1).padStart(11)} ${(py / us).toFixed(2).padStart(8)}x`;
  console.log(`median of ${reps} runs (ms); last column = CPython time / ours (above 1: we are faster)`);
  console.log(
    `${'case'.padEnd(48)} ${'ours'.padStart(9)} ${'CPython'.padStart(11)} ${'speedup'.padStart(9)}`,
  );
  console.log(
    row(`encode 20k records: JSON (${mb(json.length)}) → bytes vs Odoo`, ours.bytes, pyEncode.odoo),
  );
  console.log(row('encode 20k records: JSON → bytes vs dumps()', ours.bytes, pyEncode.dumps));
  console.log(row('encode 20k records: JSON → string vs dumps()', ours.string, pyEncode.dumps));
  console.log(row('encode 20k records: Value → bytes vs Odoo', ours.value, pyEncode.odoo));
  console.log(row(`decode create, one ${mb(big.length)} <string> field`, ours.big, pyBig));
  console.log(row(`decode create, one ${mb(b64.length)} <base64> field`, ours.b64, pyB64));
  console.log(row(`decode create, 20k structs (${mb(many.length)})`, ours.many, pyMany));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
