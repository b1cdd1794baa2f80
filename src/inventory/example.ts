/**
 * The example JSON-2 body kept for an inventoried call: the named arguments the bridge computed,
 * as compact JSON text, bounded and redacted. Pure: no I/O.
 *
 * The text is always valid JSON, however large the call was: the walk stops once `maxBytes` is
 * spent and closes what it opened, leaving a marker where it cut (a `"…": "…"` member in an
 * object, a `"…"` element in a list, a `…` at the end of a long string). The value of any member
 * whose name looks secret (password, token, api_key, …) is replaced with `"<redacted>"`.
 */
import { Binary, DateTime, LargeText, PyFloat, type Value } from '../values.ts';

/** Where the walk cut something short. */
export const CUT = '…';
export const REDACTED = '<redacted>';

/** Names whose values are never kept: passwords, secrets, tokens, keys, credentials. */
const SECRET_NAME =
  /passw|^pass$|passphrase|secret|token|api_?key|(?:^|[_-])key$|credential|authoriz|^auth$|cookie|session_id/i;

/** Longest string kept whole (a base64 file, a long text), in UTF-16 units. */
const MAX_STRING = 200;
/** Deepest nesting walked; deeper values become the marker. */
const MAX_DEPTH = 12;

export interface Example {
  /** Compact JSON text of the body, at most about `maxBytes` long. */
  json: string;
  /** Something was cut (a long string, a long list, the whole budget). */
  truncated: boolean;
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The named arguments `body` as bounded, redacted JSON text. */
export function exampleOf(body: ReadonlyMap<string, Value>, maxBytes: number): Example {
  const w = new Walk(maxBytes);
  w.struct(body, 0);
  return { json: w.out, truncated: w.truncated };
}

class Walk {
  out = '';
  truncated = false;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  private full(): boolean {
    return this.out.length >= this.max;
  }

  value(v: Value, depth: number): void {
    if (v === null) this.out += 'null';
    else if (typeof v === 'boolean') this.out += v ? 'true' : 'false';
    else if (typeof v === 'number' || typeof v === 'bigint') this.out += String(v);
    else if (typeof v === 'string') this.string(v);
    else if (v instanceof LargeText) this.string(v.head(4 * MAX_STRING));
    else if (v instanceof PyFloat) this.out += Number.isFinite(v.value) ? pyFloatText(v.value) : 'null';
    else if (v instanceof Binary) this.string(v.base64);
    else if (v instanceof DateTime) this.string(v.odoo);
    else if (depth >= MAX_DEPTH) this.cut();
    else if (Array.isArray(v)) this.list(v, depth + 1);
    else this.struct(v, depth + 1);
  }

  private string(s: string): void {
    const room = Math.max(16, Math.min(MAX_STRING, this.max - this.out.length));
    if (s.length <= room) {
      this.out += JSON.stringify(s);
      return;
    }
    this.truncated = true;
    // Never split a surrogate pair: JSON.stringify would write a lone half as \udXXX.
    let end = room;
    const code = s.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end--;
    this.out += JSON.stringify(s.slice(0, end) + CUT);
  }

  private cut(): void {
    this.truncated = true;
    this.out += JSON.stringify(CUT);
  }

  private list(items: readonly Value[], depth: number): void {
    this.out += '[';
    for (let i = 0; i < items.length; i++) {
      if (i > 0) this.out += ', ';
      if (this.full()) {
        this.cut();
        break;
      }
      this.value(items[i] ?? null, depth);
    }
    this.out += ']';
  }

  struct(map: ReadonlyMap<string, Value>, depth: number): void {
    this.out += '{';
    let first = true;
    for (const [k, v] of map) {
      if (!first) this.out += ', ';
      first = false;
      if (this.full()) {
        this.out += `${JSON.stringify(CUT)}: `;
        this.cut();
        break;
      }
      this.string(k);
      this.out += ': ';
      if (isSecretName(k) && v !== null && v !== false) this.out += JSON.stringify(REDACTED);
      else this.value(v, depth);
    }
    this.out += '}';
  }
}

/** A float as Python writes it in JSON: `1.0`, not `1`. */
function pyFloatText(n: number): string {
  const s = String(n);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
