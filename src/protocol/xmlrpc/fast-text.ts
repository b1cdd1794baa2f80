/**
 * The fast path for long plain text in an XML-RPC request: a markup-free run of character data
 * (a large `<base64>` or `<string>`) is checked and unescaped here with regular expressions,
 * instead of being fed through saxes one character at a time. Anything this path cannot vouch
 * for is left to saxes, so that errors are still reported by the parser.
 */

/**
 * Text runs at least this long, directly inside an element and free of markup, are checked and
 * handed to the unmarshaller here instead of going through saxes one character at a time: a 5 MB
 * base64 field then costs a regular-expression scan instead of five million parser steps. Runs are
 * found by sampling every `LONG_RUN`th character, so any run of twice that length is found while
 * dense markup costs almost nothing.
 */
export const LONG_RUN = 1024;
export const DELIMITER = /[<>]/g;
/**
 * A cheap first test for {@link NON_XML_CHAR}: a positive class scans several times faster than
 * the exact negated one; it also matches surrogate pairs, for which the exact test then runs.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be found
const MAYBE_NON_XML_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;
/** Anything outside XML 1.0's `Char` production (lone surrogates included). */
const NON_XML_CHAR = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
/** An `&` that does not start a predefined entity or a character reference. */
const BAD_AMP = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;
const ENTITY_REF = /&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));/g;
const PREDEFINED: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
]);

/** The character data of a markup-free run, or undefined when saxes must look at it. */
export function plainText(run: string): string | undefined {
  if (MAYBE_NON_XML_CHAR.test(run) && NON_XML_CHAR.test(run)) return undefined;
  // End-of-line handling applies to the raw text, before references (`&#13;` stays a CR).
  let s = run.includes('\r') ? run.replace(/\r\n?/g, '\n') : run;
  if (s.includes('&')) {
    if (BAD_AMP.test(s)) return undefined;
    let ok = true;
    s = s.replace(
      ENTITY_REF,
      (_m, name: string | undefined, dec: string | undefined, hex: string | undefined) => {
        if (name !== undefined) return PREDEFINED.get(name) as string;
        const cp = dec !== undefined ? Number(dec) : parseInt(hex as string, 16);
        if (!isXmlChar(cp)) {
          ok = false;
          return '';
        }
        return String.fromCodePoint(cp);
      },
    );
    if (!ok) return undefined;
  }
  return s;
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}
