/**
 * What Odoo's names look like, in one place: the object service refuses a call whose model or
 * method cannot exist before asking Odoo, and the config file's signature overrides are checked
 * against the same rules. Both patterns are linear and capped at 128 characters.
 */

/** Model names Odoo can have (`res.partner`, `x_custom`), no `..`; anything else cannot exist. */
const MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Python identifiers. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function isModelName(s: string): boolean {
  return MODEL_NAME.test(s) && !s.includes('..');
}

/** A method (or parameter) name: a Python identifier. A leading `_` is private, which Odoo refuses itself. */
export function isIdentifier(s: string): boolean {
  return IDENTIFIER.test(s);
}

/** A method JSON-2 (and legacy `execute_kw`) can call: an identifier that is not private. */
export function isPublicMethodName(s: string): boolean {
  return IDENTIFIER.test(s) && !s.startsWith('_');
}
