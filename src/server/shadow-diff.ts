/**
 * Shadow mode's comparison (pure): the bridge's answer to a legacy call and the upstream's own
 * answer to the same call, both as JSON-RPC would carry them (values read as Python's json.loads
 * reads them: 1 and 1.0 differ). Values and types are compared; what is volatile is not:
 * `write_date`-like timestamps (VOLATILE_KEYS) and a fault's traceback (its class and message are).
 * A difference is written as `path: ours → theirs`, values cut to a few dozen characters; at most
 * MAX_DIFFERENCES are kept. The answers hold records' data, never a password or key.
 */
import { isSecretName } from '../inventory/example.ts';
import { Binary, DateTime, isStruct, LargeText, PyFloat, type Value } from '../values.ts';

/** Keys whose values change between two reads of the same record. */
const VOLATILE_KEYS: ReadonlySet<string> = new Set(['write_date', '__last_update', 'date_last_modified']);
const MAX_DIFFERENCES = 5;
const SHOWN = 60;

/** An answer: a value, or a fault's class and message. */
export type ShadowAnswer = { kind: 'value'; value: Value } | { kind: 'fault'; name: string; message: string };

/**
 * Models whose records hold secrets (system parameters, mail servers' passwords, API keys): their
 * differences name paths and types, never values.
 */
const SECRET_MODELS: ReadonlySet<string> = new Set([
  'ir.config_parameter',
  'ir.mail_server',
  'fetchmail.server',
  'res.users.apikeys',
  'auth.oauth.provider',
  'payment.provider',
  'iap.account',
]);

/** Whether the differences of a call on `model` may show values (see SECRET_MODELS). */
export function valuesShown(model: string | undefined): boolean {
  return model === undefined || !SECRET_MODELS.has(model);
}

export function differences(ours: ShadowAnswer, theirs: ShadowAnswer, showValues = true): string[] {
  const out: string[] = [];
  const hideValues = !showValues;
  if (ours.kind === 'fault' || theirs.kind === 'fault') {
    const o = ours.kind === 'fault' ? `fault ${ours.name}: ${ours.message}` : 'a value';
    const t = theirs.kind === 'fault' ? `fault ${theirs.name}: ${theirs.message}` : 'a value';
    if (o !== t) out.push(`(answer): ${cut(o)} → ${cut(t)}`);
    return out;
  }
  walk(ours.value, theirs.value, '', out, hideValues);
  return out;
}

function walk(a: Value, b: Value, path: string, out: string[], hideValues: boolean): void {
  if (out.length >= MAX_DIFFERENCES) return;
  const ta = typeOf(a);
  const tb = typeOf(b);
  if (ta !== tb) {
    out.push(
      hideValues
        ? `${path || '(value)'}: ${ta} → ${tb}`
        : `${path || '(value)'}: ${ta} ${cut(shown(a))} → ${tb} ${cut(shown(b))}`,
    );
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path || '(value)'}: ${a.length} items → ${b.length} items`);
    for (let i = 0; i < Math.min(a.length, b.length); i++)
      walk(a[i] as Value, b[i] as Value, `${path}[${i}]`, out, hideValues);
    return;
  }
  if (isStruct(a) && isStruct(b)) {
    for (const [k, v] of a) {
      if (VOLATILE_KEYS.has(k)) continue;
      if (!b.has(k)) out.push(`${path}.${k}: present → missing`);
      else if (isSecretName(k)) {
        if (typeOf(v) !== typeOf(b.get(k) as Value) || shown(v) !== shown(b.get(k) as Value))
          out.push(`${path}.${k}: (a secret's value differs)`);
      } else walk(v, b.get(k) as Value, `${path}.${k}`, out, hideValues);
      if (out.length >= MAX_DIFFERENCES) return;
    }
    for (const k of b.keys())
      if (!a.has(k) && !VOLATILE_KEYS.has(k) && out.length < MAX_DIFFERENCES)
        out.push(`${path}.${k}: missing → present`);
    return;
  }
  if (shown(a) !== shown(b))
    out.push(
      hideValues
        ? `${path || '(value)'}: ${ta} values differ`
        : `${path || '(value)'}: ${cut(shown(a))} → ${cut(shown(b))}`,
    );
}

function typeOf(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (isStruct(v)) return 'dict';
  return 'str'; // large texts, binary and dates arrive from JSON as strings
}

function shown(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof PyFloat) return String(v.value);
  if (v instanceof LargeText) return JSON.stringify(v.text());
  if (v instanceof Binary) return JSON.stringify(v.base64);
  if (v instanceof DateTime) return JSON.stringify(v.odoo);
  if (Array.isArray(v)) return `[${v.length} items]`;
  if (isStruct(v)) return `{${v.size} keys}`;
  return String(v);
}

const cut = (s: string): string => (s.length > SHOWN ? `${s.slice(0, SHOWN)}…` : s);
