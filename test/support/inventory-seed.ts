/**
 * A realistic saved inventory (the format BRIDGE_INVENTORY_FILE holds) for the migration page's
 * tests: `clients` integrations over a few databases, `kinds` kinds of call each, calls per day
 * over the last `days` days ending today; every tenth client stopped calling `migratedDaysAgo`
 * days ago, and in each calling client one kind of call stopped then too. Deterministic.
 */
import { STATE_FORMAT, type PersistedClient, type PersistedState } from '../../src/inventory/saved-state.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

const AGENTS = [
  'Python-xmlrpc/3.11',
  'odoo-await/3.4.1 (warehouse-sync)',
  'PHP XML-RPC (ripcord) shop-connector/2.0',
  'Ruby/XMLRPC 0.3.2 (edi-gateway)',
  'Go-http-client/1.1 (go-odoo payroll)',
  'Java/17 apache-xmlrpc/3.1 (bi-export)',
  'Python-urllib/3.10 (odoorpc crm-bridge)',
  'node-xmlrpc/1.3.2 (invoice-mailer)',
];
const DBS = ['prod', 'prod-eu', 'staging', 'shop', 'hr'];
const MODELS = [
  'res.partner',
  'sale.order',
  'product.product',
  'account.move',
  'stock.picking',
  'crm.lead',
  'project.task',
  'res.users',
  'mail.message',
  'ir.attachment',
];
const METHODS = ['search_read', 'read', 'write', 'create', 'search_count', 'name_search', 'read_group'];

export interface Seed {
  state: PersistedState;
  /** Every client's calls per day, summed: `YYYY-MM-DD` → calls. */
  totals: Map<string, number>;
}

export function seedInventory(clients: number, kinds: number, days: number, now = Date.now()): Seed {
  const today = Math.floor(now / DAY);
  const day = (i: number) => new Date((today - i) * DAY).toISOString().slice(0, 10);
  const totals = new Map<string, number>();
  const out: PersistedClient[] = [];
  const migratedDaysAgo = 10;
  for (let c = 0; c < clients; c++) {
    const migrated = c % 10 === 9;
    const lastDay = migrated ? migratedDaysAgo : 0;
    const last = now - lastDay * DAY - (c % 50) * 60_000;
    const daily: [string, number, number][] = [];
    let count = 0;
    let errors = 0;
    for (let i = days - 1; i >= lastDay; i--) {
      // Fewer calls as the weeks go by (integrations being migrated), with some day-to-day noise.
      const calls = 5 + ((c * 7 + i * 13) % 15) + Math.round(i * 1.5);
      const faults = (c + i) % 9 === 0 ? 1 + (c % 3) : 0;
      daily.push([day(i), calls, faults]);
      totals.set(day(i), (totals.get(day(i)) ?? 0) + calls);
      count += calls;
      errors += faults;
    }
    const calls = [];
    for (let k = 0; k < kinds; k++) {
      // Five models per client (half the clients call crm.lead), a method per kind of call.
      const model = MODELS[(c + (k % 5)) % MODELS.length] as string;
      const method = METHODS[k % METHODS.length] as string;
      const stopped = migrated || k === kinds - 1;
      calls.push({
        protocol: k % 4 === 3 ? 'jsonrpc' : 'xmlrpc/2',
        service: 'object',
        function: 'execute_kw',
        model,
        method: `${method}${k >= METHODS.length ? `_${k}` : ''}`,
        count: 10 + k * 3,
        errors: k === 2 ? 1 : 0,
        first: new Date(now - days * DAY).toISOString(),
        last: new Date(stopped ? now - migratedDaysAgo * DAY : last).toISOString(),
        ...(k === 2 ? { lastFault: 'odoo.exceptions.AccessError' } : {}),
        example: JSON.stringify({
          domain: [['active', '=', true]],
          fields: ['name', 'write_date'],
          limit: 80,
        }),
      });
    }
    const hourly: [string, number, number][] = migrated
      ? []
      : Array.from({ length: 6 }, (_, h) => {
          const at = new Date(now - (5 - h) * HOUR).toISOString().slice(0, 13);
          return [at, 2 + h, 0] as [string, number, number];
        });
    out.push({
      userAgent: `${AGENTS[c % AGENTS.length] as string} #${c}`,
      address: `10.0.${Math.floor(c / 10)}.${(c % 10) + 1}`,
      db: DBS[c % DBS.length] as string,
      login: `integration-${c}@example.com`,
      uid: 100 + c,
      first: new Date(now - days * DAY).toISOString(),
      last: new Date(last).toISOString(),
      count,
      errors,
      calls,
      daily,
      hourly,
    });
  }
  return {
    state: {
      format: STATE_FORMAT,
      version: 1,
      savedAt: new Date(now).toISOString(),
      clients: out,
      logins: [],
    },
    totals,
  };
}
