/**
 * Scanners for the HTML pages Odoo (or a proxy in front of it) answers instead of JSON, which the
 * fault messages quote. They do what these regular expressions did, match for match:
 *
 *   /<(script|style)[\s\S]*?<\/\1>/gi   /<[^>]*>/g   /<div class="alert alert-danger">([\s\S]*?)<\/div>/
 *
 * but in one pass. The expressions restarted their scan to the end of the text from every `<`
 * (or `<script`, or opening `<div>`) that has no closing counterpart, so an answer of a few hundred
 * kilobytes of `<` took seconds, and answers may be up to BRIDGE_MAX_UPSTREAM_BYTES (512 MiB).
 */

/** `<script` or `<style`, any case: the alternatives differ at their second letter (linear). */
const ELEMENT_OPEN = /<(script|style)/gi;
/** The closing tags, any case (the old expression's `\1` back-reference compared case-insensitively). */
const ELEMENT_CLOSE: Readonly<Record<'script' | 'style', RegExp>> = {
  script: /<\/script>/gi,
  style: /<\/style>/gi,
};

/** `s.replace(/<(script|style)[\s\S]*?<\/\1>/gi, by)`: each element, up to its first closing tag. */
export function replaceScriptsAndStyles(s: string, by: string): string {
  // Where the next closing tag of each kind is: -2 not looked for yet, -1 none left in `s`.
  const close = { script: -2, style: -2 };
  let out = '';
  let from = 0;
  ELEMENT_OPEN.lastIndex = 0;
  for (let m = ELEMENT_OPEN.exec(s); m !== null; m = ELEMENT_OPEN.exec(s)) {
    const name = (m[1] as string).toLowerCase() as 'script' | 'style';
    const bodyStart = m.index + m[0].length;
    if (close[name] === -1) continue; // no closing tag after an earlier one, so none after this
    if (close[name] < bodyStart) {
      // Each search starts past the previous one's result: the text is scanned once per kind.
      const closeRe = ELEMENT_CLOSE[name];
      closeRe.lastIndex = bodyStart;
      close[name] = closeRe.exec(s)?.index ?? -1;
      if (close[name] === -1) continue;
    }
    out += s.slice(from, m.index) + by;
    from = close[name] + name.length + 3; // `</name>`
    ELEMENT_OPEN.lastIndex = from;
  }
  return from === 0 ? s : out + s.slice(from);
}

/** `s.replace(/<[^>]*>/g, by)`: each `<` up to the next `>`. */
export function replaceTags(s: string, by: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const lt = s.indexOf('<', from);
    if (lt < 0) break;
    const gt = s.indexOf('>', lt + 1);
    if (gt < 0) break; // no `>` after this `<`, so none after any later one either
    out += s.slice(from, lt) + by;
    from = gt + 1;
  }
  return from === 0 ? s : out + s.slice(from);
}

/**
 * The inside of the first `<div class="alert alert-danger">…</div>` (its first `</div>`), as
 * `/<div class="alert alert-danger">([\s\S]*?)<\/div>/.exec(s)?.[1]`; undefined when there is none.
 */
export function alertDangerText(s: string): string | undefined {
  const open = '<div class="alert alert-danger">';
  const start = s.indexOf(open);
  if (start < 0) return undefined;
  // Without a `</div>` after the first opening tag, there is none after a later one either.
  const end = s.indexOf('</div>', start + open.length);
  return end < 0 ? undefined : s.slice(start + open.length, end);
}
