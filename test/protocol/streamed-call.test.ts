/**
 * The streaming codecs behind db.dump and db.restore: base64 on the fly (checked against CPython
 * for exp_restore's decoding), and the XML-RPC / JSON-RPC splitters (checked against the ordinary
 * decoders: the streamed text must be exactly the parameter they decode, whatever the chunking).
 */
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OdooFault } from '../../src/errors.ts';
import { Base64Encoder, RESTORE_WINDOW, RestoreDecoder } from '../../src/protocol/base64-stream.ts';
import { JsonRpcHttpError, decodeJsonRpcRequest } from '../../src/protocol/jsonrpc.ts';
import { splitJsonRpcCall } from '../../src/protocol/jsonrpc-stream.ts';
import {
  STREAMED_PLACEHOLDER,
  Utf8Text,
  hasControlByte,
  type SplitCall,
  type SplitOptions,
} from '../../src/protocol/streamed-call.ts';
import { decodeMethodCall, type MethodCall } from '../../src/protocol/xmlrpc/decode.ts';
import { splitXmlRpcCall } from '../../src/protocol/xmlrpc/stream-call.ts';
import { runPython } from '../support/run-python.ts';

const PY_RESTORE = fileURLToPath(new URL('../clients/py_b64_restore.py', import.meta.url));

/** Deterministic pseudo-random numbers, so that a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function* chunksOf(b: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function* source(b: Buffer, size: number): AsyncGenerator<Buffer> {
  yield* chunksOf(b, size);
}

class TooLarge extends Error {}
const LIMITS: SplitOptions = { maxBytes: 1 << 24, maxStreamedBytes: 0, tooLarge: () => new TooLarge() };

describe('Base64Encoder', () => {
  it('writes b64encode of the whole, however the bytes are cut', () => {
    const next = rng(7);
    for (const size of [0, 1, 2, 3, 4, 5, 100, 65_536, 100_001]) {
      const data = randomBytes(size);
      for (const piece of [1, 2, 3, 5, 4096, 65_537]) {
        const enc = new Base64Encoder();
        let out = '';
        let at = 0;
        while (at < size) {
          const n = Math.max(1, Math.floor(next() * piece * 2));
          out += enc.push(data.subarray(at, at + n));
          at += n;
        }
        out += enc.end();
        expect(out).toBe(data.toString('base64'));
        expect(out.length).toBe(Base64Encoder.encodedLength(size));
      }
    }
  });
});

describe('RestoreDecoder: exp_restore decoding, as CPython does it', () => {
  const b64 = (n: number, seed: number): string =>
    Buffer.from(Array.from({ length: n }, rng(seed)).map((x) => Math.floor(x * 256))).toString('base64');
  const cases: string[] = [
    '',
    'QQ==',
    'QUJD',
    'QUJDRA',
    'QUJDR',
    'Q',
    '====',
    'QQ==QUJD',
    'QUJD RA==',
    'QU*JD\nRA==',
    'QUJDé',
    'é',
    b64(6144, 1), // exactly one window
    b64(6144 * 3, 2), // exactly three windows
    b64(6144 * 2 + 10, 3),
    b64(20_000, 4).slice(0, 8193), // one data character past a window
    b64(20_000, 5).slice(0, 8194),
    b64(20_000, 6).slice(0, 8195),
    b64(40_000, 7).replace(/(.{76})/g, '$1\n'), // encodebytes-style lines: Odoo refuses them too
    b64(40_000, 8)
      .replace(/(.{76})/g, '$1\n')
      .slice(0, 8192 * 2 - 40) + 'é', // padding error before the é
    b64(6144, 9) + 'é' + b64(100, 10),
    `${b64(6143, 11)}=${b64(12_000, 12)}`, // padding inside a window ends that window's data only
    b64(6144, 13).slice(0, 8190) + '==' + b64(6144, 14),
    `${'A'.repeat(8190)}==${'QUJD'.repeat(5)}`,
    `${'A'.repeat(8191)}=`,
    ' '.repeat(8192) + 'QUJD',
  ];

  it('decodes every case to CPython’s bytes or raises CPython’s error, whatever the chunking', async () => {
    const expected = await runPython<Array<{ sha256?: string; size?: number; error?: string }>>(
      PY_RESTORE,
      cases,
    );
    const next = rng(99);
    for (const [k, text] of cases.entries()) {
      for (const piece of [1, 3, 1000, RESTORE_WINDOW, 100_000]) {
        const dec = new RestoreDecoder();
        const out: Buffer[] = [];
        let got: { sha256?: string; size?: number; error?: string };
        try {
          let at = 0;
          while (at < text.length) {
            const n = Math.max(1, Math.floor(next() * piece * 2));
            out.push(...dec.push(text.slice(at, at + n)));
            at += n;
          }
          out.push(...dec.end());
          const all = Buffer.concat(out);
          got = { sha256: createHash('sha256').update(all).digest('hex'), size: all.length };
        } catch (e) {
          if (!(e instanceof OdooFault)) throw e;
          got = { error: `${e.pyName.replace(/^builtins\./, '')}: ${e.message}` };
        }
        expect(got, `case ${k}, pieces of ~${piece}`).toEqual(expected[k]);
      }
    }
  });
});

describe('hasControlByte and Utf8Text', () => {
  it('finds exactly the bytes below 0x20 (TAB, LF, CR allowed for XML), at any offset and length', () => {
    const next = rng(3);
    const naive = (b: Uint8Array, xml: boolean): boolean =>
      b.some((c) => c < 0x20 && !(xml && (c === 9 || c === 10 || c === 13)));
    for (let round = 0; round < 3000; round++) {
      const len = Math.floor(next() * 40);
      const base = Buffer.alloc(len + 8);
      for (let k = 0; k < base.length; k++) base[k] = 0x20 + Math.floor(next() * 0xdf);
      if (next() < 0.6 && len > 0)
        base[4 + Math.floor(next() * len)] = [0, 9, 10, 13, 0x1f, 0x7f, 0x80, 0xff][
          Math.floor(next() * 8)
        ] as number;
      const view = base.subarray(Math.floor(next() * 8), Math.floor(next() * 8) + len);
      for (const xml of [true, false]) expect(hasControlByte(view, xml)).toBe(naive(view, xml));
    }
  });

  it('decodes UTF-8 cut anywhere, ASCII pieces taken as they are, invalid sequences as U+FFFD', () => {
    const text = 'abc é ✓ 😀 xyz'.repeat(50);
    const bytes = Buffer.concat([Buffer.from(text), Buffer.from([0xe2, 0x9c]), Buffer.from('tail')]);
    const expected = bytes.toString('utf8');
    for (const size of [1, 2, 3, 5, 64]) {
      const d = new Utf8Text();
      let out = '';
      for (const c of chunksOf(bytes, size)) out += d.write(c);
      out += d.flush();
      expect(out).toBe(expected);
    }
  });
});

// ------------------------------------------------------------------------------------------------

const xmlCall = (method: string, values: string[]): string =>
  `<?xml version='1.0'?>\n<methodCall>\n<methodName>${method}</methodName>\n<params>\n${values
    .map((v) => `<param>\n${v}\n</param>\n`)
    .join('')}</params>\n</methodCall>\n`;

async function xmlSplit(body: Buffer, size: number): Promise<SplitCall<MethodCall>> {
  return splitXmlRpcCall(source(body, size), {
    ...LIMITS,
    streamedParam: (m) => (m === 'restore' ? 2 : undefined),
  });
}

async function readAll(text: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const t of text) out += t;
  return out;
}

describe('splitXmlRpcCall', () => {
  const data = randomBytes(30_000).toString('base64');
  const shapes: Record<string, string> = {
    string: `<value><string>${data}</string></value>`,
    bare: `<value>${data}</value>`,
    'blank before string': `<value>\n  <string>${data}</string>\n</value>`,
    'references, CDATA, comment, PI, CRLF': `<value><string>${data.slice(0, 5000)}&#65;&amp;&#x42;&lt;\r\n${data.slice(5000, 9000)}<![CDATA[${data.slice(9000, 9100)}]]>x\r<!-- a comment -->${data.slice(9100, 9200)}<?pi x?>${data.slice(9200)}\r</string></value>`,
    'prefixed tags': `<value><ex:string>${data}</ex:string></value>`,
  };

  for (const [name, value] of Object.entries(shapes)) {
    it(`streams the parameter of a restore (${name}) exactly as the decoder reads it, in any chunking`, async () => {
      const body = Buffer.from(
        xmlCall('restore', [
          '<value><string>pw &amp; more</string></value>',
          '<value>db</value>',
          value,
          '<value><boolean>1</boolean></value>',
        ]),
      );
      const oracle = decodeMethodCall(body);
      for (const size of [1, 2, 7, 64, 1000, 1 << 20]) {
        const split = await xmlSplit(body, size);
        expect(split.kind).toBe('streamed');
        if (split.kind !== 'streamed') return;
        expect(split.head.methodName).toBe('restore');
        expect(split.head.params).toEqual([oracle.params[0], oracle.params[1], STREAMED_PLACEHOLDER]);
        expect(await readAll(split.text)).toBe(oracle.params[2]);
        const whole = await split.finish();
        expect(whole.params).toEqual([oracle.params[0], oracle.params[1], STREAMED_PLACEHOLDER, true]);
        expect(split.bytesRead()).toBe(body.length);
      }
    });
  }

  const whole: Record<string, string> = {
    'another method': xmlCall('dump', ['<value>pw</value>', '<value>db</value>', '<value>zip</value>']),
    'a <base64> parameter': xmlCall('restore', [
      '<value>pw</value>',
      '<value>db</value>',
      `<value><base64>${data}</base64></value>`,
    ]),
    'an empty value': xmlCall('restore', ['<value>pw</value>', '<value>db</value>', '<value></value>']),
    'an <int> parameter': xmlCall('restore', [
      '<value>pw</value>',
      '<value>db</value>',
      '<value><int>1</int></value>',
    ]),
    'params before methodName': `<?xml version="1.0"?><methodCall><params><param><value>pw</value></param><param><value>db</value></param><param><value>${data}</value></param></params><methodName>restore</methodName></methodCall>`,
    'a DOCTYPE': `<?xml version="1.0"?><!DOCTYPE x><methodCall><methodName>restore</methodName><params><param><value>${data}</value></param></params></methodCall>`,
    'an encoding that is not ASCII-compatible': `<?xml version="1.0" encoding="utf-16"?><methodCall><methodName>restore</methodName></methodCall>`,
    'too few params': xmlCall('restore', ['<value>pw</value>']),
  };
  for (const [name, text] of Object.entries(whole)) {
    it(`hands back ${name} whole, byte for byte`, async () => {
      const body = Buffer.from(text);
      for (const size of [1, 5, 1 << 20]) {
        const split = await xmlSplit(body, size);
        expect(split.kind).toBe('whole');
        if (split.kind === 'whole') expect(split.body.equals(body)).toBe(true);
      }
    });
  }

  it('hands back UTF-16 whole', async () => {
    const body = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(xmlCall('restore', ['<value>a</value>']), 'utf16le'),
    ]);
    const split = await xmlSplit(body, 3);
    expect(split.kind).toBe('whole');
  });

  const errors: Record<string, [string, RegExp]> = {
    'a control character': [
      `<value>${data.slice(0, 10)}\u0001${data}</value>`,
      /not well-formed \(invalid token\)/,
    ],
    'an element inside the text': [
      `<value><string>${data.slice(0, 100)}<b>x</b></string></value>`,
      /holds XML elements/,
    ],
    'an unknown entity': [`<value>${data.slice(0, 100)}&nbsp;x</value>`, /not well-formed/],
  };
  for (const [name, [value, message]] of Object.entries(errors)) {
    it(`fails on ${name} inside the streamed text`, async () => {
      const body = Buffer.from(xmlCall('restore', ['<value>pw</value>', '<value>db</value>', value]));
      const split = await xmlSplit(body, 64);
      if (split.kind !== 'streamed') throw new Error('not streamed');
      await expect(readAll(split.text)).rejects.toThrow(message);
    });
  }

  it('reports a malformed rest of the request when finishing, and a cut-off request while streaming', async () => {
    const good = xmlCall('restore', ['<value>pw</value>', '<value>db</value>', `<value>${data}</value>`]);
    const bad = await xmlSplit(Buffer.from(good.replace('</params>', '</param>')), 100);
    if (bad.kind !== 'streamed') throw new Error('not streamed');
    await readAll(bad.text);
    await expect(bad.finish()).rejects.toThrow(/mismatched tag/);
    const cut = await xmlSplit(Buffer.from(good.slice(0, 20_000)), 100);
    if (cut.kind !== 'streamed') throw new Error('not streamed');
    await expect(readAll(cut.text)).rejects.toBeInstanceOf(OdooFault);
  });

  it('refuses a malformed start before streaming anything', async () => {
    const body = Buffer.from(
      xmlCall('restore', ['<value><int>x</int></value>', '<value>db</value>', `<value>${data}</value>`]),
    );
    await expect(xmlSplit(body, 100)).rejects.toThrow(/invalid literal for int/);
  });

  it('applies both limits', async () => {
    const body = Buffer.from(
      xmlCall('restore', ['<value>pw</value>', '<value>db</value>', `<value>${data}</value>`]),
    );
    const small = await splitXmlRpcCall(source(body, 1000), {
      ...LIMITS,
      maxStreamedBytes: 10_000,
      streamedParam: () => 2,
    });
    if (small.kind !== 'streamed') throw new Error('not streamed');
    await expect(readAll(small.text)).rejects.toBeInstanceOf(TooLarge);
    const other = Buffer.from(xmlCall('dump', [`<value>${data}</value>`]));
    await expect(
      splitXmlRpcCall(source(other, 1000), { ...LIMITS, maxBytes: 10_000, streamedParam: () => undefined }),
    ).rejects.toBeInstanceOf(TooLarge);
  });
});

// ------------------------------------------------------------------------------------------------

const CT = 'application/json';
async function jsonSplit(body: Buffer, size: number) {
  return splitJsonRpcCall(source(body, size), {
    ...LIMITS,
    param: 2,
    accept: (s, m) => s === 'db' && m === 'restore',
    contentType: CT,
  });
}

describe('splitJsonRpcCall', () => {
  const data = randomBytes(30_000).toString('base64');
  const streamed: Record<string, string> = {
    'as Python writes it': JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      params: { service: 'db', method: 'restore', args: ['pw', 'db', data, true] },
      id: 1,
    }),
    'escapes in the string': `{"params": {"service": "db", "method": "restore", "args": ["p\\"w", "db", "${data.slice(0, 1000).replace(/\//g, '\\/')}\\n\\u0041${data.slice(1000)}", false]}, "id": [1, {"a": null}]}`,
    'id after params, nested values before': `{"jsonrpc":"2.0","params":{"x":[1,2,{"y":"}"}],"service":"db","method":"restore","args":[ "pw" , "db" ,"${data}"]} , "id" : "late"}`,
  };
  for (const [name, text] of Object.entries(streamed)) {
    it(`streams args[2] of a db.restore (${name}) exactly as the decoder reads it`, async () => {
      const body = Buffer.from(text);
      const oracle = decodeJsonRpcRequest(body, CT);
      if (!oracle.ok) throw new Error('bad case');
      for (const size of [1, 3, 100, 1 << 20]) {
        const split = await jsonSplit(body, size);
        expect(split.kind).toBe('streamed');
        if (split.kind !== 'streamed' || !split.head.ok) return;
        expect(split.head.request.args.slice(0, 2)).toEqual(oracle.request.args.slice(0, 2));
        expect(await readAll(split.text)).toBe(oracle.request.args[2]);
        const whole = await split.finish();
        expect(whole.ok && whole.request).toEqual({
          ...oracle.request,
          args: [...oracle.request.args.slice(0, 2), STREAMED_PLACEHOLDER, ...oracle.request.args.slice(3)],
        });
      }
    });
  }

  const whole: Record<string, string> = {
    'another call': JSON.stringify({
      params: {
        service: 'object',
        method: 'execute_kw',
        args: ['db', 2, 'key', 'res.partner', 'create', [{ datas: data }]],
      },
    }),
    'args before service and method': JSON.stringify({
      params: { args: ['pw', 'db', data], service: 'db', method: 'restore' },
    }),
    'a non-string backup': JSON.stringify({
      params: { service: 'db', method: 'restore', args: ['pw', 'db', 12, data] },
    }),
    'a body that is not an object': JSON.stringify([1, 2, data]),
    'invalid JSON': `{"params": {"service": "db", "method": "restore", "args": ["pw", "db" "${data}"]}}`,
    'short args': JSON.stringify({ params: { service: 'db', method: 'restore', args: ['pw'] }, x: data }),
  };
  for (const [name, text] of Object.entries(whole)) {
    it(`hands back ${name} whole, byte for byte`, async () => {
      const body = Buffer.from(text);
      for (const size of [1, 7, 1 << 20]) {
        const split = await jsonSplit(body, size);
        expect(split.kind).toBe('whole');
        if (split.kind === 'whole') expect(split.body.equals(body)).toBe(true);
      }
    });
  }

  it('answers 400 Invalid JSON data for a raw control character or a bad escape inside the string', async () => {
    for (const inner of [`${data.slice(0, 50)}\n${data}`, `${data.slice(0, 50)}\\x41`]) {
      const body = Buffer.from(
        `{"params": {"service": "db", "method": "restore", "args": ["pw", "db", "${inner}"]}}`,
      );
      const split = await jsonSplit(body, 64);
      if (split.kind !== 'streamed') throw new Error('not streamed');
      const err = await readAll(split.text).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JsonRpcHttpError);
      expect((err as JsonRpcHttpError).body).toBe('Invalid JSON data');
    }
  });

  it('gives back the fault of a bad rest of the request, with its id', async () => {
    const body = Buffer.from(
      `{"id": 9, "params": {"service": "db", "method": "restore", "args": ["pw", "db", "${data}"], "extra": 1}, "params": {"service": "db", "method": "restore", "args": ["pw", "db", "other"]}}`,
    );
    const split = await jsonSplit(body, 500);
    if (split.kind !== 'streamed') throw new Error('not streamed');
    await readAll(split.text);
    await expect(split.finish()).rejects.toThrow(/changed shape/);
  });
});
