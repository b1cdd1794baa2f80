/**
 * The inventory's selection (src/inventory/selection.ts): query values read strictly (length-capped,
 * given once, whole numbers in range), and filters and paging over the clients, the overview kept.
 */
import { describe, expect, it } from 'vitest';
import { Inventory, type Observation } from '../../src/inventory/store.ts';
import { select, selectionOf, type Selection } from '../../src/inventory/selection.ts';
import { struct } from '../../src/values.ts';

function obs(ua: string, db: string, model: string, login?: string): Observation {
  return {
    protocol: 'xmlrpc/2',
    service: 'object',
    function: 'execute_kw',
    params: undefined,
    notes: { db, uid: 2, model, method: 'search_read', ...(login ? { login } : {}) },
    json2: { model, method: 'search_read', body: struct({ domain: [] }) },
    fault: undefined,
    userAgent: ua,
    address: '10.0.0.5',
  };
}

function inventory() {
  let t = Date.parse('2026-12-01T00:00:00Z');
  const inv = new Inventory({}, () => (t += 1000));
  inv.record(obs('shop-sync/2', 'lab', 'res.partner', 'sync@example.com'));
  inv.record(obs('reports/1', 'lab', 'account.move'));
  inv.record(obs('Reports/1 beta', 'lab2', 'res.partner'));
  inv.record(obs('crm-import', 'lab2', 'crm.lead'));
  return inv.snapshot({ dbHeader: true });
}

const sel = (q: Record<string, unknown>): Selection => {
  const s = selectionOf(q);
  if (typeof s === 'string') throw new Error(s);
  return s;
};

describe('selectionOf', () => {
  it('reads filters and paging, empty values as absent', () => {
    expect(selectionOf({ db: 'lab', model: '', offset: '10', limit: '5' })).toEqual({
      db: 'lab',
      model: undefined,
      client: undefined,
      offset: 10,
      limit: 5,
    });
  });
  it.each([
    [{ db: ['a', 'b'] }, '?db= must be given once'],
    [{ client: 'x'.repeat(257) }, 'at most 256 characters'],
    [{ limit: '1001' }, '?limit= must be a whole number from 1 to 1000'],
    [{ limit: '0' }, '?limit= must be a whole number from 1 to 1000'],
    [{ offset: '-1' }, '?offset= must be a whole number'],
    [{ offset: '1e3' }, '?offset= must be a whole number'],
    [{ limit: '9'.repeat(5000) }, '?limit= must be given once, at most 256 characters'],
  ])('refuses %o naming it', (q, message) => {
    expect(selectionOf(q)).toContain(message);
  });
});

describe('select', () => {
  const inv = inventory();
  const uas = (s: Selection) => select(inv, s).clients.map((c) => c.userAgent);

  it('filters by database, model and client (id, or a piece of User-Agent, login or address)', () => {
    expect(uas(sel({ db: 'lab2' }))).toEqual(['crm-import', 'Reports/1 beta']);
    expect(uas(sel({ model: 'res.partner' }))).toEqual(['Reports/1 beta', 'shop-sync/2']);
    expect(uas(sel({ client: 'REPORTS' }))).toEqual(['Reports/1 beta', 'reports/1']);
    expect(uas(sel({ client: 'sync@' }))).toEqual(['shop-sync/2']);
    const id = inv.clients.find((c) => c.userAgent === 'crm-import')?.id ?? '';
    expect(uas(sel({ client: id }))).toEqual(['crm-import']);
    expect(uas(sel({ db: 'lab', model: 'crm.lead' }))).toEqual([]);
  });

  it('pages the selected clients, most recently seen first, and says how many matched', () => {
    const page = select(inv, sel({ offset: '1', limit: '2' }));
    expect(page.clients.map((c) => c.userAgent)).toEqual(['Reports/1 beta', 'reports/1']);
    expect(page.selection).toEqual({ db: null, model: null, client: null, matched: 4, offset: 1, limit: 2 });
    // The overview still counts every client.
    expect(page.overview.clients.total).toBe(4);
    expect(select(inv, sel({ offset: '10' })).clients).toEqual([]);
  });
});
