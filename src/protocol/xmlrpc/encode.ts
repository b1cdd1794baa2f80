/**
 * XML-RPC response encoding, byte for byte as Odoo 19 writes it (docs/wire.md §1.4, §1.5):
 * Odoo's `OdooMarshaller` (CPython's `Marshaller` with `allow_none=False`, control characters
 * deleted from string values) inside Odoo's hand-written envelope.
 *
 * Two inputs:
 * - a {@link Value} (results the bridge computed itself), marshalled like a Python object;
 * - the JSON text an Odoo 19 JSON-2 endpoint answered, transcoded to XML in one pass without
 *   building objects (json-to-xml.ts). That is the hot path of the whole bridge: a
 *   `search_read` of thousands of records goes through here.
 *
 * Both write UTF-8 straight into bytes (xml-bytes.ts); the JSON text is read as the bytes it came
 * in (json-to-xml.ts). {@link encodeResponseChunks} hands the chunks to the HTTP layer as they are;
 * the string variants decode them once.
 *
 * Marshalling errors are the faults Odoo raises for the same result: `None` anywhere is a
 * `TypeError`, an int outside 32 bits an `OverflowError` (Odoo raises both after committing, and
 * the bridge cannot undo the JSON-2 call either).
 */
import type { OdooFault } from '../../errors.ts';
import { Binary, DateTime, LargeText, PyFloat } from '../../values.ts';
import type { CallResult, Value } from '../../values.ts';
import type { EncodedAnswer } from '../chunk-pool.ts';
import { pyFloatRepr } from '../py-float.ts';
import { utf8BytesOf, type Utf8Bytes } from '../../utf8-bytes.ts';
import { JsonToXml } from './json-to-xml.ts';
import {
  B_ARRAY_CLOSE,
  B_ARRAY_OPEN,
  B_DOUBLE_CLOSE,
  B_DOUBLE_OPEN,
  B_FALSE,
  B_FAULT_HEAD,
  B_FAULT_MIDDLE,
  B_FAULT_TAIL,
  B_HEAD,
  B_INT_CLOSE,
  B_INT_OPEN,
  B_MEMBER_CLOSE,
  B_MEMBER_OPEN,
  B_NAME_CLOSE,
  B_STRING_CLOSE,
  B_STRING_OPEN,
  B_STRUCT_END,
  B_STRUCT_OPEN,
  B_TAIL,
  B_TRUE,
  INT_MAX,
  INT_MIN,
  noneFault,
  overflowFault,
  XmlBytes,
} from './xml-bytes.ts';

/** The whole `methodResponse` for a successful call. Throws the marshalling fault, if any. */
export function encodeResponse(result: CallResult): string {
  return encodeResponseBytes(result).toString('utf8');
}

/** {@link encodeResponse} as one buffer of UTF-8 bytes. */
export function encodeResponseBytes(result: CallResult): Buffer {
  return writeResponse(result).bytes();
}

/**
 * {@link encodeResponse} as the UTF-8 bytes to send, in chunks (no string round trip, no copy for
 * large answers). The caller sends them, then calls `release()`.
 */
export function encodeResponseChunks(result: CallResult): EncodedAnswer {
  return writeResponse(result).answer();
}

function writeResponse(result: CallResult): XmlBytes {
  if (result.kind === 'json') {
    const { bytes } = result;
    const w = new JsonToXml(bytes.length * 4 + B_HEAD.length + B_TAIL.length);
    return enveloped(w, () => w.writeAll(bytes));
  }
  const w = new XmlBytes(1024);
  return enveloped(w, () => writeValue(w, result.value));
}

/** `fill` between the response's head and tail; on a marshalling fault the chunks go back to the pool. */
function enveloped(w: XmlBytes, fill: () => void): XmlBytes {
  try {
    w.put(B_HEAD);
    fill();
    w.put(B_TAIL);
    return w;
  } catch (e) {
    w.answer().release();
    throw e;
  }
}

/**
 * The `methodResponse` fault for `/xmlrpc/2` (`'int'` codes) or the legacy `/xmlrpc` (`'string'`
 * codes), as Odoo's `xmlrpc_handle_exception_int` / `_string` build it. Odoo puts `str(e)` in
 * the fault, which is `fault.str` (equal to `fault.message` except for e.g. RedirectWarning).
 */
export function encodeFault(fault: OdooFault, style: 'int' | 'string'): string {
  let code: number | string;
  let text: string;
  if (style === 'int') {
    switch (fault.kind) {
      case 'generic':
        code = 1;
        text = fault.debug;
        break;
      case 'access_denied':
        code = 3;
        text = fault.str;
        break;
      case 'access_error':
        code = 4;
        text = fault.str;
        break;
      default: // user_error, missing_error, redirect_warning
        code = 2;
        text = fault.str;
    }
  } else {
    text = '';
    switch (fault.kind) {
      case 'generic':
        code = fault.message;
        text = fault.debug;
        break;
      case 'user_error':
        code = `warning -- UserError\n\n${fault.str}`;
        break;
      case 'missing_error':
        code = `warning -- MissingError\n\n${fault.str}`;
        break;
      case 'access_error':
        code = `warning -- AccessError\n\n${fault.str}`;
        break;
      case 'redirect_warning':
        code = `warning -- Warning\n\n${fault.str}`;
        break;
      case 'access_denied':
        code = 'AccessDenied';
        text = fault.str;
        break;
    }
  }
  const w = new XmlBytes(256 + 3 * (text.length + String(code).length));
  w.put(B_FAULT_HEAD);
  writeValue(w, code);
  w.put(B_FAULT_MIDDLE);
  writeValue(w, text);
  w.put(B_FAULT_TAIL);
  return w.result();
}

/** One marshalled `<value>...</value>\n`, as `OdooMarshaller` writes it. */
export function encodeValue(v: Value): string {
  const w = new XmlBytes(1024);
  writeValue(w, v);
  return w.result();
}

// ------------------------------------------------------------------------------------------------
// Values
// ------------------------------------------------------------------------------------------------

function writeValue(w: XmlBytes, v: Value): void {
  if (v === null) throw noneFault();
  switch (typeof v) {
    case 'boolean':
      w.put(v ? B_TRUE : B_FALSE);
      return;
    case 'number':
      if (!Number.isInteger(v)) {
        // Not a Python int: the Value model says this cannot happen; write what Python would
        // have written for the float it is.
        writeDouble(w, v);
        return;
      }
      if (v < INT_MIN || v > INT_MAX) throw overflowFault();
      w.put(B_INT_OPEN);
      w.putAscii(String(v)); // String(-0) is "0", like Python's int
      w.put(B_INT_CLOSE);
      return;
    case 'bigint':
      if (v < BigInt(INT_MIN) || v > BigInt(INT_MAX)) throw overflowFault();
      w.put(B_INT_OPEN);
      w.putAscii(String(v));
      w.put(B_INT_CLOSE);
      return;
    case 'string':
      writeString(w, v);
      return;
  }
  if (v instanceof PyFloat) {
    writeDouble(w, v.value);
  } else if (v instanceof LargeText) {
    writeString(w, v.text());
  } else if (v instanceof Binary) {
    // Odoo marshals bytes as their text (`value.decode()`): binary fields hold base64.
    writeString(w, v.base64);
  } else if (v instanceof DateTime) {
    writeString(w, v.odoo);
  } else if (Array.isArray(v)) {
    w.put(B_ARRAY_OPEN);
    for (const item of v) writeValue(w, item);
    w.put(B_ARRAY_CLOSE);
  } else {
    w.put(B_STRUCT_OPEN);
    for (const [key, item] of v) {
      w.put(B_MEMBER_OPEN);
      w.putText(key, false);
      w.put(B_NAME_CLOSE);
      writeValue(w, item);
      w.put(B_MEMBER_CLOSE);
    }
    w.put(B_STRUCT_END);
  }
}

function writeString(w: XmlBytes, s: string): void {
  w.put(B_STRING_OPEN);
  w.putText(s, true);
  w.put(B_STRING_CLOSE);
}

function writeDouble(w: XmlBytes, n: number): void {
  w.put(B_DOUBLE_OPEN);
  w.putAscii(pyFloatRepr(n));
  w.put(B_DOUBLE_CLOSE);
}

/** The `<value>` XML of a JSON text (tests; the answers go through encodeResponseChunks). */
export function transcodeJson(json: string | Utf8Bytes): string {
  const bytes = typeof json === 'string' ? utf8BytesOf(json) : json;
  const w = new JsonToXml(bytes.length * 4);
  w.writeAll(bytes);
  return w.result();
}
