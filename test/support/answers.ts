/** An upstream answer's body fields (`text` and the `bytes` it is read from), for answers tests build. */
import { utf8BytesOf, type Utf8Bytes } from '../../src/utf8-bytes.ts';

export function withText(text: string): { text: string; bytes: Utf8Bytes } {
  return { text, bytes: utf8BytesOf(text) };
}
