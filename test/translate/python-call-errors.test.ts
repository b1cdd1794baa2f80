/**
 * The pure wording of argument errors (src/translate/python-call-errors.ts): class names, each of
 * inspect's messages in CPython's words, and what is left alone. The end-to-end comparison with
 * CPython itself is test/integration/argument-errors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { MethodSignature } from '../../src/signatures/method-signature.ts';
import {
  modelClassName,
  pythonBindingMessage,
  pythonQualname,
  tooManyPositionalMessage,
} from '../../src/translate/python-call-errors.ts';
import type { Struct, Value } from '../../src/values.ts';

const body = (o: Record<string, Value>): Struct => new Map(Object.entries(o));
const sig = (
  params: MethodSignature['params'],
  source: MethodSignature['source'] = 'server',
): MethodSignature => ({
  apiModel: true,
  params,
  source,
});

describe('python-call-errors', () => {
  it('names classes as Odoo 19 does', () => {
    expect(modelClassName('core')).toBe('BaseModel');
    expect(modelClassName('base')).toBe('Base');
    expect(modelClassName('res.partner')).toBe('ResPartner');
    expect(modelClassName('mail.activity.mixin')).toBe('MailActivityMixin');
    expect(modelClassName('x_custom.thing_line')).toBe('XCustomThingLine');
    expect(pythonQualname('sale.order', 'action_confirm', sig([]))).toBe('SaleOrder.action_confirm');
    expect(pythonQualname('res.partner', 'search', { ...sig([]), definedIn: 'core' })).toBe(
      'BaseModel.search',
    );
    expect(pythonQualname('res.partner', 'message_subscribe', { ...sig([]), definedIn: 'mail.thread' })).toBe(
      'MailThread.message_subscribe',
    );
    // write and create: the called model's own override, as Odoo's business models all have one.
    expect(pythonQualname('res.partner', 'write', { ...sig([]), definedIn: 'core' })).toBe(
      'ResPartner.write',
    );
    expect(pythonQualname('sale.order', 'create', { ...sig([]), definedIn: 'core' })).toBe(
      'SaleOrder.create',
    );
  });

  it('keyword-only parameters are missing as keyword-only ones, all the known required ones listed', () => {
    const s = sig([
      { name: 'a', kind: 'positional', optional: false },
      { name: 'k', kind: 'keyword_only', optional: false },
      { name: 'j', kind: 'keyword_only', optional: false },
      { name: 'm', kind: 'keyword_only', optional: true },
    ]);
    expect(pythonBindingMessage("missing a required argument: 'k'", 'X.f', s, body({ a: 1 }))).toBe(
      "X.f() missing 2 required keyword-only arguments: 'k' and 'j'",
    );
  });

  it('positional-only parameters passed by name', () => {
    const s = sig([{ name: 'a', kind: 'positional_only', optional: false }]);
    expect(
      pythonBindingMessage(
        "'a' parameter is positional only, but was passed as a keyword",
        'X.f',
        s,
        body({ a: 1 }),
      ),
    ).toBe("X.f() got some positional-only arguments passed as keyword arguments: 'a'");
  });

  it('an override says nothing of defaults or other names: only the name inspect gave', () => {
    const s = sig(
      [
        { name: 'a', kind: 'positional' },
        { name: 'b', kind: 'positional' },
      ],
      'override',
    );
    expect(pythonBindingMessage("missing a required argument: 'a'", 'X.f', s, body({ zz: 1 }))).toBe(
      "X.f() missing 1 required positional argument: 'a'",
    );
  });

  it("the bridge's guess for a method nobody describes says nothing of its parameters", () => {
    const guess = sig([], 'none');
    expect(
      pythonBindingMessage("missing a required argument: 'model'", 'X.f', guess, body({ savepoint: 1 })),
    ).toBe("X.f() missing 1 required positional argument: 'model'");
  });

  it("leaves any other message (a UserError's, an odd or very long one) to Odoo's wording", () => {
    const s = sig([]);
    expect(pythonBindingMessage('The record is locked', 'X.f', s, body({}))).toBeUndefined();
    expect(
      pythonBindingMessage(`missing a required argument: '${'a'.repeat(500)}'`, 'X.f', s, body({})),
    ).toBeUndefined();
    expect(
      pythonBindingMessage("got an unexpected keyword argument 'a' and more", 'X.f', s, body({})),
    ).toBeUndefined();
  });

  it('too many positional arguments, with keyword-only ones given too', () => {
    const s = sig([
      { name: 'a', kind: 'positional', optional: false },
      { name: 'b', kind: 'positional', optional: true },
      { name: 'k', kind: 'keyword_only', optional: true },
    ]);
    expect(tooManyPositionalMessage('X.f', s, 3, body({}))).toBe(
      'X.f() takes from 2 to 3 positional arguments but 4 were given',
    );
    expect(tooManyPositionalMessage('X.f', s, 3, body({ k: 1 }))).toBe(
      'X.f() takes from 2 to 3 positional arguments but 4 positional arguments (and 1 keyword-only argument) were given',
    );
    expect(tooManyPositionalMessage('X.f', sig([]), 1, body({}))).toBe(
      'X.f() takes 1 positional argument but 2 were given',
    );
  });
});
