/**
 * The values a legacy call carries, without loss.
 *
 * Legacy clients speak Python's types: an XML-RPC `<double>1</double>` or a JSON `1.0` is a Python
 * `float` and must stay one, an `<int>` can be larger than 2^53, a struct keeps its key order.
 * JavaScript's own types lose all three, so every layer of the bridge speaks this model instead.
 */
import { textOf, utf8BytesOf, type Utf8Bytes } from './utf8-bytes.ts';

/** A Python `float`. Kept apart from integers so that `1.0` is never written back as `<int>1</int>`. */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** An XML-RPC `<base64>` value (Python's `xmlrpc.client.Binary`), held as canonical base64 text. */
export class Binary {
  readonly base64: string;
  constructor(base64: string) {
    this.base64 = base64;
  }
}

/**
 * An XML-RPC `<dateTime.iso8601>` value as Python parses it (`%Y%m%dT%H:%M:%S`), held as the
 * string Odoo's ORM uses for datetimes: `YYYY-MM-DD HH:MM:SS`.
 */
export class DateTime {
  readonly odoo: string;
  constructor(odoo: string) {
    this.odoo = odoo;
  }
}

/**
 * A Python `str` too long to be worth a JS string: a long text of a large legacy request (a base64
 * attachment), kept as the UTF-8 bytes it came in (views of the request's chunks) and copied as
 * they are into the JSON-2 body. Only texts whose bytes need no JSON escape (no `"`, `\`, control
 * characters) are kept so (protocol/large-texts.ts); `text()` decodes it where a string is needed.
 */
export class LargeText {
  readonly bytes: Utf8Bytes;
  constructor(bytes: Utf8Bytes) {
    this.bytes = bytes;
  }

  text(): string {
    return textOf(this.bytes);
  }

  /** Its first characters, from at most `maxBytes` bytes (a character cut there is left out). */
  head(maxBytes: number): string {
    const parts: Buffer[] = [];
    let n = 0;
    for (const chunk of this.bytes.chunks) {
      if (n >= maxBytes) break;
      parts.push(chunk.subarray(0, maxBytes - n));
      n += Math.min(chunk.length, maxBytes - n);
    }
    const s = Buffer.concat(parts).toString('utf8');
    return n < this.bytes.length ? s.replace(/\ufffd{1,3}$/, '') : s;
  }
}

/** A struct / JSON object / Python dict: insertion-ordered, string keys, no prototype. */
export type Struct = Map<string, Value>;

/**
 * - `number`: a Python `int` that is a safe JavaScript integer;
 * - `bigint`: a Python `int` outside the safe range;
 * - `PyFloat`: a Python `float`;
 * - `string` or `LargeText`: a Python `str`;
 * - `null`: Python `None`.
 */
export type Value =
  null | boolean | number | bigint | string | LargeText | PyFloat | Binary | DateTime | Value[] | Struct;

export function isStruct(v: Value | undefined): v is Struct {
  return v instanceof Map;
}

export function struct(entries: Record<string, Value>): Struct {
  return new Map(Object.entries(entries));
}

/** Python truthiness, as Odoo applies it to arguments (`if not passwd`, `context or {}`). */
export function truthy(v: Value | undefined): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === 0n || v === '') return false;
  if (v instanceof PyFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  return true;
}

/** The Python type name of a value, for error messages that read like Odoo's. */
export function pyTypeName(v: Value): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (typeof v === 'string' || v instanceof LargeText) return 'str';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof Binary) return 'Binary';
  if (v instanceof DateTime) return 'datetime';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/**
 * What a service answers. `json` is the upstream's JSON text, as the UTF-8 bytes it came in,
 * passed on as is so that a large result is never turned into objects nor into a string: the
 * XML-RPC writer transcodes it, the JSON-RPC writer splices it.
 */
export type CallResult =
  { readonly kind: 'value'; readonly value: Value } | { readonly kind: 'json'; readonly bytes: Utf8Bytes };

export const valueResult = (value: Value): CallResult => ({ kind: 'value', value });
export const jsonResult = (json: string | Utf8Bytes): CallResult => ({
  kind: 'json',
  bytes: typeof json === 'string' ? utf8BytesOf(json) : json,
});

/** Where a JSON-2 call went, for the messages of the faults it may end in. */
export interface CallSite {
  db: string;
  model: string;
  method: string;
  baseUrl: string;
}
