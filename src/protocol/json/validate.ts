/**
 * Whether a text is one JSON document as Python's `json.loads` accepts it (the JSON grammar plus
 * `NaN`, `Infinity` and `-Infinity`), checked without building anything.
 *
 * The JSON-RPC route splices Odoo's JSON-2 answer into its own answer as is, so it only needs to
 * know the text is JSON. `JSON.parse` would build every record of a large `search_read` just to be
 * thrown away (tens of MB for 20,000 records); this walks the text once and allocates nothing but
 * a small stack of open containers.
 */

/** Bytes after a backslash that make a one-character escape. */
const SIMPLE_ESCAPE = new Uint8Array(128);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

/** Open containers: 1 for an array, 2 for an object. Grows by doubling; never shrinks. */
let stack = new Uint8Array(64);

export function isJsonText(text: string): boolean {
  const n = text.length;
  let depth = 0;
  let i = skipWs(text, 0);
  for (;;) {
    // A value starts at i.
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (depth === stack.length) {
        const bigger = new Uint8Array(depth * 2);
        bigger.set(stack);
        stack = bigger;
      }
      stack[depth++] = c === 0x5b ? 1 : 2;
      i = skipWs(text, i + 1);
      const close = c === 0x5b ? 0x5d : 0x7d;
      if (text.charCodeAt(i) === close) {
        depth--;
        i++;
      } else {
        if (c === 0x7b) {
          i = afterKey(text, i);
          if (i < 0) return false;
        }
        continue;
      }
    } else if (c === 0x22) {
      i = afterString(text, i);
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      i = afterNumber(text, i);
    } else if (c === 0x74) {
      i = text.startsWith('true', i) ? i + 4 : -1;
    } else if (c === 0x66) {
      i = text.startsWith('false', i) ? i + 5 : -1;
    } else if (c === 0x6e) {
      i = text.startsWith('null', i) ? i + 4 : -1;
    } else if (c === 0x4e) {
      i = text.startsWith('NaN', i) ? i + 3 : -1;
    } else if (c === 0x49) {
      i = text.startsWith('Infinity', i) ? i + 8 : -1;
    } else return false;
    if (i < 0) return false;
    // After a value: close containers, or a comma and the next value (and key).
    for (;;) {
      i = skipWs(text, i);
      if (depth === 0) return i === n;
      const d = text.charCodeAt(i);
      const inObject = stack[depth - 1] === 2;
      if (d === 0x2c) {
        i = skipWs(text, i + 1);
        if (inObject) {
          i = afterKey(text, i);
          if (i < 0) return false;
        }
        break;
      }
      if (d !== (inObject ? 0x7d : 0x5d)) return false;
      depth--;
      i++;
    }
  }
}

function skipWs(text: string, i: number): number {
  let c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  return i;
}

/** `"key" :` at i (whitespace skipped after it); the index of the value, or -1. */
function afterKey(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x22) return -1;
  i = afterString(text, i);
  if (i < 0) return -1;
  i = skipWs(text, i);
  if (text.charCodeAt(i) !== 0x3a) return -1;
  return skipWs(text, i + 1);
}

/** The index after the string whose quote is at i, or -1 (Python's strict mode: no raw control characters). */
function afterString(text: string, i: number): number {
  const n = text.length;
  i++;
  while (i < n) {
    const c = text.charCodeAt(i++);
    if (c > 0x5c) continue; // most characters: letters and everything past the backslash
    if (c === 0x22) return i;
    if (c < 0x20) return -1;
    if (c === 0x5c) {
      const e = text.charCodeAt(i++);
      if (e === 0x75) {
        for (const end = i + 4; i < end; i++) {
          const h = text.charCodeAt(i) | 0x20; // lower case for letters
          if (!((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66))) return -1;
        }
      } else if (!(e < 128 && SIMPLE_ESCAPE[e] === 1)) return -1;
    }
  }
  return -1;
}

/** The index after the number (or `-Infinity`) at i, or -1. */
function afterNumber(text: string, i: number): number {
  if (text.charCodeAt(i) === 0x2d) {
    i++;
    if (text.charCodeAt(i) === 0x49) return text.startsWith('Infinity', i) ? i + 8 : -1;
  }
  let c = text.charCodeAt(i);
  if (c === 0x30) c = text.charCodeAt(++i);
  else if (c > 0x30 && c <= 0x39) {
    do c = text.charCodeAt(++i);
    while (c >= 0x30 && c <= 0x39);
  } else return -1;
  if (c === 0x2e) {
    c = text.charCodeAt(++i);
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    do c = text.charCodeAt(++i);
    while (c >= 0x30 && c <= 0x39);
  }
  if (c === 0x65 || c === 0x45) {
    c = text.charCodeAt(++i);
    if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    do c = text.charCodeAt(++i);
    while (c >= 0x30 && c <= 0x39);
  }
  return i;
}
