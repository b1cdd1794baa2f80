/**
 * The fast path for plain XML-RPC documents (src/protocol/xmlrpc/plain-doc.ts) against the
 * general path, with fixed seeds:
 * - every document it accepts is well-formed for saxes, and gives the same events in the same
 *   order (text compared between tags, where saxes may cut it elsewhere);
 * - `decodeMethodCall` (fast path first) and `decodeMethodCallInGeneral` (saxes only) give the
 *   same call, or the same fault, on valid, oddly written and mutated requests.
 */
import fc from 'fast-check';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { describe, expect, it } from 'vitest';
import { OdooFault } from '../../src/errors.ts';
import { decodeMethodCall, decodeMethodCallInGeneral } from '../../src/protocol/xmlrpc/decode.ts';
import { scanPlainDocument, type XmlEvents } from '../../src/protocol/xmlrpc/plain-doc.ts';

const SEED = 0x5a11_ca11;

/** Events as one list: `<name`, `>` (an end), `"text` (consecutive texts joined). */
function recorder(): { events: XmlEvents; list: string[] } {
  const list: string[] = [];
  const events: XmlEvents = {
    start: (tag) => list.push(`<${tag}`),
    end: () => list.push('>'),
    data: (text) => {
      const last = list.length - 1;
      if (last >= 0 && list[last]?.startsWith('"')) list[last] += text;
      else list.push(`"${text}`);
    },
  };
  return { events, list };
}

/** What saxes reports, as the general path configures it; undefined when saxes refuses the text. */
function saxesEvents(text: string): string[] | undefined {
  const { events, list } = recorder();
  const parser = new SaxesParser({ xmlns: false, forceXMLVersion: true, defaultXMLVersion: '1.0' });
  let depth = 0;
  let failed = false;
  parser.on('opentag', (t: SaxesTagPlain) => {
    depth++;
    events.start(t.name);
  });
  parser.on('closetag', () => {
    depth--;
    events.end();
  });
  // Text outside the root element never reaches the unmarshaller's result: not compared.
  parser.on('text', (t) => depth > 0 && events.data(t));
  parser.on('cdata', (t) => events.data(t));
  parser.on('error', () => {
    failed = true;
  });
  parser.write(text).close();
  return failed ? undefined : list;
}

// ------------------------------------------------------------------------------------------------
// Generators: XML-RPC requests written the ways clients write them, and pieces that are not plain

const blank = fc.oneof(
  { arbitrary: fc.constantFrom('', '', '\n', ' ', '\t', '\n  '), weight: 12 },
  fc.constant('\r\n'),
);
const plainChars = fc.constantFrom(...'abz AZ09.-_:;/=+é€\n\t'.split(''));
const text = fc.oneof(
  { arbitrary: fc.string({ unit: plainChars, maxLength: 10 }), weight: 6 },
  fc.string({ maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom(
    'a &amp; b',
    '&lt;x&gt;',
    '&quot;&apos;',
    '&amp',
    '&foo;',
    '&#65;',
    '&#x41;',
    ']]>',
    ']]',
    '>',
    'é',
    '\u0085',
    '\u00a0',
    '\uffff',
    '\ud83d\ude00',
    '\r',
    '<',
    '&',
    '',
  ),
);
const scalar = fc.oneof(
  fc.tuple(
    fc.constantFrom('int', 'i4', 'i8', 'ex:i8', 'biginteger'),
    fc.oneof(fc.integer().map(String), text),
  ),
  fc.tuple(fc.constantFrom('boolean'), fc.constantFrom('0', '1', '2', '')),
  fc.tuple(fc.constantFrom('double', 'float', 'bigdecimal'), fc.oneof(fc.double().map(String), text)),
  fc.tuple(fc.constantFrom('string', 'name', 'base64', 'dateTime.iso8601', 'unknown'), text),
);

interface Tree {
  xml: string;
}
const value: fc.Arbitrary<Tree> = fc.letrec<{ v: Tree }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(scalar, blank, fc.boolean()).map(([[tag, t], b, bare]) => ({
      xml: bare ? `<value>${t}</value>` : `<value>${b}<${tag}>${t}</${tag}>${b}</value>`,
    })),
    fc.constantFrom(
      { xml: '<value><nil/></value>' },
      { xml: '<value><ex:nil/></value>' },
      { xml: '<value/>' },
    ),
    fc.tuple(fc.array(tie('v'), { maxLength: 3 }), blank).map(([vs, b]) => ({
      xml: `<value><array>${b}<data>${b}${vs.map((v) => v.xml + b).join('')}</data>${b}</array></value>`,
    })),
    fc.tuple(fc.array(fc.tuple(text, tie('v')), { maxLength: 3 }), blank).map(([ms, b]) => ({
      xml: `<value><struct>${b}${ms.map(([k, v]) => `<member>${b}<name>${k}</name>${b}${v.xml}${b}</member>${b}`).join('')}</struct></value>`,
    })),
  ),
})).v;

const declaration = fc.constantFrom(
  '',
  "<?xml version='1.0'?>\n",
  '<?xml version="1.0"?>',
  '<?xml version="1.0" encoding="utf-8"?>\n',
  "<?xml version='1.0' encoding='UTF-8' ?>\n",
  '<?xml version="1.1"?>\n',
  '<?xml version="1.0" standalone="yes"?>\n',
  '<?xml  version = "1.0" ?>',
  '\n<?xml version="1.0"?>',
  '\ufeff<?xml version="1.0"?>',
);
const requestText = fc
  .tuple(
    declaration,
    blank,
    fc.constantFrom('execute_kw', 'login', 'a&amp;b', ''),
    fc.array(value, { maxLength: 4 }),
  )
  .map(
    ([decl, b, name, params]) =>
      `${decl}<methodCall>${b}<methodName>${name}</methodName>${b}<params>${b}` +
      params.map((p) => `<param>${b}${p.xml}${b}</param>${b}`).join('') +
      `</params>${b}</methodCall>${b}`,
  );

/** Splices that a plain-looking document may meet. */
const splice = fc.oneof(
  fc.constantFrom(
    '<!-- c -->',
    '<?pi x?>',
    '<![CDATA[x<y]]>',
    '<!DOCTYPE x>',
    '<a b="c">',
    '<value >',
    '</value >',
    '</x>',
    '<x>',
    '<1>',
    '<:x>',
    '< x>',
    '<x/ >',
    '</>',
    '<',
    '>',
    '&',
    '\u0000',
    '\u0001',
    '\u007f',
    '\ud800',
    '\r',
  ),
  fc.string({ maxLength: 3 }),
);
const mutated = fc
  .tuple(
    requestText,
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 4 }), fc.option(splice, { nil: undefined })), { maxLength: 3 }),
  )
  .map(([doc, muts]) => {
    let out = doc;
    for (const [at, del, ins] of muts) {
      const i = at % (out.length + 1);
      out = out.slice(0, i) + (ins ?? '') + out.slice(i + del);
    }
    return out;
  });

type Outcome = { ok: unknown } | { fault: [string, string, string, unknown[]] } | { other: string };

function outcome(decode: () => unknown): Outcome {
  try {
    return { ok: decode() };
  } catch (e) {
    if (e instanceof OdooFault) return { fault: [e.pyName, e.message, e.str, e.arguments] };
    return { other: String(e) };
  }
}

describe('the plain-document fast path', () => {
  it('accepts only what saxes accepts, with the same events', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(requestText, mutated), (doc) => {
        const { events, list } = recorder();
        if (!scanPlainDocument(doc, events)) return;
        accepted++;
        expect(saxesEvents(doc)).toEqual(list);
      }),
      { seed: SEED, numRuns: 3000 },
    );
    // The fast path is exercised, not skipped.
    expect(accepted).toBeGreaterThan(500);
  });

  it("reports XML-RPC's element names and their near misses exactly as saxes does", () => {
    const known = ['methodCall', 'methodName', 'params', 'param', 'value', 'string', 'int', 'i4', 'i8'];
    known.push('double', 'boolean', 'array', 'data', 'struct', 'member', 'name', 'nil', 'base64');
    known.push('dateTime.iso8601');
    const names = new Set<string>();
    for (const n of known) {
      names.add(n);
      names.add(n.slice(0, -1) + 'x'); // same length, last character off
      names.add('x' + n.slice(1)); // same length, first character off
      names.add(n.slice(0, 3) + 'q' + n.slice(4)); // the fourth (string / struct)
      names.add(n + 's');
      if (n.length > 1) names.add(n.slice(0, -1));
    }
    for (const n of ['i1', 'i9', 'methodXall', 'mathodName', 'strong', 'dateTime_iso8601']) names.add(n);
    for (const n of names) {
      const doc = `<methodCall><${n}>t</${n}><${n}/></methodCall>`;
      const { events, list } = recorder();
      expect(scanPlainDocument(doc, events), doc).toBe(true);
      expect(list, doc).toEqual(saxesEvents(doc));
    }
  });

  it('turns away what it does not know', () => {
    const ok = '<methodCall><methodName>m</methodName></methodCall>';
    expect(scanPlainDocument(ok, recorder().events)).toBe(true);
    for (const doc of [
      '<methodCall><!-- c --><methodName>m</methodName></methodCall>',
      '<methodCall><methodName>&#65;</methodName></methodCall>',
      '<methodCall><methodName><![CDATA[m]]></methodName></methodCall>',
      '<methodCall a="1"><methodName>m</methodName></methodCall>',
      '<methodCall><methodName>m</methodName ></methodCall>',
      '<methodCall><methodName>m\r</methodName></methodCall>',
      '<methodCall><methodName>]]></methodName></methodCall>',
      '<methodCall><methodName>m</methodName></methodCall><x/>',
      '<methodCall><methodName>m</methodName></methodCall>x',
      '<methodCall><methodName>m</methodName>',
      '<methodCall><methodName>m</methodCall></methodName>',
      '\ufeff' + ok,
      '<!DOCTYPE methodCall>' + ok,
      '<?xml version="1.1"?>' + ok,
      '',
    ])
      expect(scanPlainDocument(doc, recorder().events), doc).toBe(false);
  });

  it('decodes every request as the general path does: same call, or same fault', () => {
    fc.assert(
      fc.property(fc.oneof(requestText, mutated), fc.boolean(), (doc, asBytes) => {
        const body = asBytes ? Buffer.from(doc) : doc;
        expect(outcome(() => decodeMethodCall(body))).toStrictEqual(
          outcome(() => decodeMethodCallInGeneral(body)),
        );
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('keeps the limits on nesting and size', () => {
    const nested = `<methodCall><methodName>m</methodName><params><param>${'<value><array><data>'.repeat(40)}${'</data></array></value>'.repeat(40)}</param></params></methodCall>`;
    const fast = outcome(() => decodeMethodCall(nested));
    expect(fast).toStrictEqual(outcome(() => decodeMethodCallInGeneral(nested)));
    expect('fault' in fast && fast.fault[1]).toMatch(/deeper than 100 levels/);
    const long = `<methodCall><methodName>m</methodName><params><param><value>${'x'.repeat(50)}</value></param></params></methodCall>`;
    expect(outcome(() => decodeMethodCall(long, { maxStringLength: 10 }))).toStrictEqual(
      outcome(() => decodeMethodCallInGeneral(long, { maxStringLength: 10 })),
    );
  });
});
