/**
 * Long texts of a large request kept as bytes (src/protocol/large-texts.ts): a request decoded
 * from its chunks, with its long texts cut out, means exactly what the whole body decoded as one
 * buffer means (the same values, the same fault), whatever surrounds the text: only plain string
 * values become LargeText; comments, CDATA, keys, escapes, entities, bad bytes and long runs that
 * are not strings fall back to the ordinary path.
 */
import { describe, expect, it } from 'vitest';
import { OdooFault } from '../../src/errors.ts';
import { LARGE_TEXT_BYTES } from '../../src/protocol/large-texts.ts';
import { toPythonJson } from '../../src/protocol/json/stringify.ts';
import { decodeJsonRpcRequest } from '../../src/protocol/jsonrpc.ts';
import { decodeMethodCall } from '../../src/protocol/xmlrpc/decode.ts';
import { LargeText, type Value } from '../../src/values.ts';

/** A body in 64 KiB chunks, as the bridge reads a large one (and one chunk boundary 3 bytes in). */
function chunks(body: Buffer): Buffer[] {
  const out = [body.subarray(0, 3)];
  for (let i = 3; i < body.length; i += 65536) out.push(body.subarray(i, i + 65536));
  return out;
}

/** Values with LargeText as their text, and how many there were. */
function plain(v: Value, seen: { large: number }): unknown {
  if (v instanceof LargeText) {
    seen.large++;
    return v.text();
  }
  if (Array.isArray(v)) return v.map((x) => plain(x, seen));
  if (v instanceof Map) return [...v].map(([k, x]) => [k, plain(x, seen)]);
  return v;
}

function outcome(decode: () => Value, seen: { large: number }): unknown {
  try {
    return plain(decode(), seen);
  } catch (e) {
    if (e instanceof OdooFault) return `${e.shortName}: ${e.message}`;
    return String(e);
  }
}

const RUN = 'QUJD'.repeat(LARGE_TEXT_BYTES / 4 + 100);

function xmlCall(params: string, decl = "<?xml version='1.0'?>\n"): Buffer {
  return Buffer.from(
    `${decl}<methodCall>\n<methodName>execute_kw</methodName>\n<params>\n${params}</params>\n</methodCall>\n`,
    'utf8',
  );
}
const param = (v: string): string => `<param>\n<value>${v}</value>\n</param>\n`;

describe('XML-RPC: long texts cut out before decoding', () => {
  const cases: [string, Buffer, number][] = [
    ['a <string>', xmlCall(param(`<string>${RUN}</string>`)), 1],
    ['an untyped <value>', xmlCall(param(RUN)), 1],
    [
      'two, in a struct',
      xmlCall(
        param(
          `<struct><member><name>a</name><value><string>${RUN}</string></value></member><member><name>b</name><value>${RUN}é</value></member></struct>`,
        ),
      ),
      2,
    ],
    [
      'non-ASCII, a BOM',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), xmlCall(param(`<string>é${RUN}😀</string>`))]),
      1,
    ],
    ['in a comment', xmlCall(param(`<string>x</string><!--<string>${RUN}</string>-->`)), 0],
    ['in CDATA', xmlCall(param(`<string><![CDATA[<string>${RUN}</string>]]></string>`)), 0],
    [
      'a member name',
      xmlCall(param(`<struct><member><name>${RUN}</name><value>1</value></member></struct>`)),
      0,
    ],
    ['with an entity', xmlCall(param(`<string>${RUN}&amp;${RUN}</string>`)), 0],
    ['with CR LF', xmlCall(param(`<string>${RUN}\r\n${RUN}</string>`)), 0],
    ['with a quote', xmlCall(param(`<string>${RUN}"${RUN}</string>`)), 0],
    ['with U+FFFF', xmlCall(param(`<string>${RUN}\uffff</string>`)), 0],
    [
      'bad UTF-8',
      Buffer.concat([
        xmlCall(param(`<string>${RUN}`)).subarray(0, -40),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('</string></value></param></params></methodCall>'),
      ]),
      0,
    ],
    [
      'a latin-1 document',
      Buffer.from(
        xmlCall(param(`<string>${RUN}é</string>`), '<?xml version="1.0" encoding="iso-8859-1"?>\n').toString(
          'utf8',
        ),
        'latin1',
      ),
      0,
    ],
    [
      'a placeholder-like text',
      xmlCall(param(`<string>LARGE-TEXT-0-0</string>`) + param(`<string>${RUN}</string>`)),
      1,
    ],
  ];
  it.each(cases)('%s: the same call as the whole body gives', (_name, body, large) => {
    const seen = { large: 0 };
    const fromChunks = outcome(() => decodeMethodCall(chunks(body)).params, seen);
    expect(fromChunks).toEqual(outcome(() => decodeMethodCall(body).params, { large: 0 }));
    expect(seen.large).toBe(large);
  });

  it('leaves a text over the decoder’s limit to the decoder (same fault)', () => {
    const body = xmlCall(param(`<string>${RUN}</string>`));
    const limits = { maxStringLength: LARGE_TEXT_BYTES };
    const seen = { large: 0 };
    const got = outcome(() => decodeMethodCall(chunks(body), limits).params, seen);
    expect(got).toMatch(/XML text is longer than/);
    expect(got).toEqual(outcome(() => decodeMethodCall(body, limits).params, { large: 0 }));
  });
});

function jsonCall(args: string): Buffer {
  return Buffer.from(
    `{"jsonrpc": "2.0", "method": "call", "id": 3, "params": {"service": "object", "method": "execute_kw", "args": ${args}}}`,
    'utf8',
  );
}

describe('JSON-RPC: long strings cut out before parsing', () => {
  const numbers = Array.from({ length: LARGE_TEXT_BYTES / 3 }, (_, i) => i % 10).join(', ');
  const cases: [string, Buffer, number][] = [
    ['a string', jsonCall(`["db", 2, "k", [{"datas": "${RUN}"}]]`), 1],
    ['two, non-ASCII', jsonCall(`["${RUN}é", {"a": "😀${RUN}"}]`), 2],
    ['a key', jsonCall(`[{"${RUN}": 1}]`), 0],
    ['with an escape', jsonCall(`["${RUN}\\n${RUN}"]`), 0],
    ['after an escaped quote and backslash', jsonCall(`["a\\"b\\\\", "${RUN}", "\\\\"]`), 1],
    ['a long run of numbers between strings', jsonCall(`["a", [${numbers}], "b"]`), 0],
    ['markup and quotes around', jsonCall(`["<&>", "${RUN}<&>"]`), 1],
    [
      'bad UTF-8',
      Buffer.concat([jsonCall(`["${RUN}`).subarray(0, -20), Buffer.from([0xe2, 0x82]), Buffer.from('"]}}')]),
      0,
    ],
    ['a raw control character', jsonCall(`["${RUN}\u0001"]`), 0],
    ['invalid JSON', jsonCall(`["${RUN}", ]`), 0],
    // The envelope is the bridge's to read: its texts become strings again.
    [
      'a long service',
      Buffer.from(`{"id": 1, "params": {"service": "${RUN}", "method": "x", "args": []}}`),
      0,
    ],
    [
      'a long method',
      Buffer.from(`{"id": 1, "params": {"service": "object", "method": "${RUN}", "args": []}}`),
      0,
    ],
    [
      'args a long text',
      Buffer.from(`{"id": 1, "params": {"service": "object", "method": "x", "args": "${RUN}"}}`),
      0,
    ],
    [
      'a long id',
      Buffer.from(`{"id": "${RUN}", "params": {"service": "common", "method": "version", "args": []}}`),
      0,
    ],
  ];
  it.each(cases)('%s: the same request as the whole body gives', (_name, body, large) => {
    const seen = { large: 0 };
    const decode = (b: Buffer | Buffer[]) => (): Value => {
      const d = decodeJsonRpcRequest(b, 'application/json');
      return d.ok
        ? [d.request.id, d.request.service, d.request.method, d.request.args]
        : ['fault', d.fault.message];
    };
    expect(outcome(decode(chunks(body)), seen)).toEqual(outcome(decode(body), { large: 0 }));
    expect(seen.large).toBe(large);
  });
});

describe('a LargeText in the JSON-2 body', () => {
  it('is written as the string it holds', () => {
    const body = jsonCall(`["é${RUN}😀"]`);
    const d = decodeJsonRpcRequest(chunks(body), 'application/json');
    if (!d.ok) throw d.fault;
    const text = d.request.args[0];
    expect(text).toBeInstanceOf(LargeText);
    const vals = new Map<string, Value>([
      ['datas', text as Value],
      ['name', 'x'],
    ]);
    expect(toPythonJson(vals)).toBe(
      toPythonJson(
        new Map<string, Value>([
          ['datas', `é${RUN}😀`],
          ['name', 'x'],
        ]),
      ),
    );
  });
});
