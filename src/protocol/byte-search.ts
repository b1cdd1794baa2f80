/**
 * Searches in bytes at memory speed, for the codecs that must find the few bytes that need work in
 * large texts (a base64 attachment has none) and copy everything in between as it is.
 */

/** `indexOf` that answers the buffer's length for "none". */
export function indexOrEnd(src: Buffer, byte: number, from: number): number {
  const k = src.indexOf(byte, from);
  return k < 0 ? src.length : k;
}

/**
 * The index of the first byte below 0x20 in `src[from, to)`, or `to`: four bytes at a time (a word
 * has one when `(x - 0x20202020) & ~x & 0x80808080` is not zero; a word that says so wrongly,
 * after a borrow, is only looked at byte by byte).
 */
export function firstControl(src: Buffer, from: number, to: number): number {
  let i = from;
  const offset = src.byteOffset;
  while (i < to && ((offset + i) & 3) !== 0) {
    if ((src[i] as number) < 0x20) return i;
    i++;
  }
  const count = (to - i) >> 2;
  if (count > 0) {
    const words = new Int32Array(src.buffer, offset + i, count);
    for (let k = 0; k < count; k++) {
      const x = words[k] as number;
      if (((x - 0x20202020) & ~x & 0x80808080) !== 0) {
        const at = i + 4 * k;
        for (let b = at; b < at + 4; b++) if ((src[b] as number) < 0x20) return b;
      }
    }
    i += 4 * count;
  }
  while (i < to) {
    if ((src[i] as number) < 0x20) return i;
    i++;
  }
  return to;
}
