/**
 * The fake's databases (`lab`: contacts + sale_management, `lab2`: contacts), seeded from the
 * captures (test/fixtures/captures, located by test/support/captures.ts).
 *
 * Where the data comes from:
 * - res.partner: every value a capture shows (ids 1, 2, 3, 5, 8, 9, 10, 11, 15, 19, 20, 36: names,
 *   emails, is_company, country, parent, active, create_date, image_128 of 1-3 from 4b-13). The
 *   other partners fill the counts the captures assert (10 companies, 38 active partners, 28 of
 *   them persons, 2 inactive ones sorting first) and are Odoo 19's base demo partners in load
 *   order, which is also what makes ids 19, 20 and 36 land where the captures have them. No
 *   capture shows ids 42-58 (inferred: records the server created for other modules, none of
 *   them an active partner since the counts already add up). The partner sequence starts at 59:
 *   4b-20 created 59, 4b-23 60 and 61, and 4d-10 got 64, which fits the two failed creates of
 *   4b-37 and 4b-60 having consumed 62 and 63 (PostgreSQL sequences do not roll back).
 * - sale.order 1 and 2: 4d-03.
 * - res.users 2 (admin) and 5 (demo) with their partners 3 and 6, plus Odoo's base users 1
 *   (__system__), 3 (public), 4 (portal template) and 6 (portal, demo data; not captured); the
 *   groups that give the captured access errors (4d-33, 4d-34) and successes (4d-35, 4d-49).
 * - Access rights of other models and the group labels in their errors come from Odoo 19's
 *   ir.model.access.csv files, not from captures (sale.order's group list is approximate).
 * - Field descriptions, method signatures and doc bodies: doc-res.partner.json,
 *   doc-sale.order.json and the doc indexes (lab2's res.partner page was not captured: it is
 *   lab's, filtered to the fields and methods lab2's index lists).
 */
import { readFileSync } from 'node:fs';
import { CAPTURES_DIR } from './captures.ts';
import { float, fromPlain, isDict, parsePyJson, type PyDict, type PyJson } from './fake-odoo-json.ts';
import type { FakeDatabase, FakeField, FakeModel, FakeRecord, Operation } from './fake-odoo-orm.ts';
import { HIDDEN_CORE_METHODS, MODEL_METHODS, sigFromDoc, type MethodSig } from './fake-odoo-signatures.ts';

/** The capture directory (test/support/captures.ts: test/fixtures/captures, or ODOO_CAPTURES_DIR). */
export const DEFAULT_FIXTURES_DIR = CAPTURES_DIR;

export interface Fixtures {
  dir: string;
  /** api_doc index per database (4e-01 / 4e-12). */
  index: Record<string, PyDict>;
  /** api_doc model pages (4e-03 / 4e-04), for lab. */
  docs: Record<string, PyDict>;
  /** image_128 of partners 1, 2, 3 (4b-13). */
  images: Map<number, string>;
}

const fixtureCache = new Map<string, Fixtures>();

function readJson(dir: string, file: string): PyJson {
  return parsePyJson(readFileSync(`${dir.replace(/\/?$/, '/')}${file}`, 'utf8'));
}

/** Reads (once per directory) the capture files the fake is built from. */
export function loadFixtures(dir: string = DEFAULT_FIXTURES_DIR): Fixtures {
  const cached = fixtureCache.get(dir);
  if (cached) return cached;
  const images = new Map<number, string>();
  const read = readJson(dir, '4b-13-xmlrpc-object-read.json') as PyDict;
  const result = ((read.decoded_response as PyDict).result ?? []) as PyDict[];
  for (const r of result) if (typeof r.image_128 === 'string') images.set(Number(r.id), r.image_128);
  const fx: Fixtures = {
    dir,
    index: {
      lab: readJson(dir, 'doc-index.json') as PyDict,
      lab2: readJson(dir, 'doc-index-lab2.json') as PyDict,
    },
    docs: {
      'res.partner': readJson(dir, 'doc-res.partner.json') as PyDict,
      'sale.order': readJson(dir, 'doc-sale.order.json') as PyDict,
    },
    images,
  };
  fixtureCache.set(dir, fx);
  return fx;
}

// ---------------------------------------------------------------------------------------------
// Groups and access rights (from Odoo 19's ir.model.access.csv files; group labels as
// `group_names_with_access` prints them: "<privilege>/<group>" or the bare group name).

export const GROUP_NAMES: Record<string, string> = {
  'base.group_system': 'Role / Administrator',
  'base.group_erp_manager': 'Access Rights',
  'base.group_user': 'Role / User',
  'base.group_portal': 'Role / Portal',
  'base.group_public': 'Role / Public',
  'base.group_partner_manager': 'Contact/Creation',
  'base.group_allow_export': 'Export/Allowed',
  'sales_team.group_sale_salesman': 'Sales/User: Own Documents Only',
  'sales_team.group_sale_manager': 'Sales/Administrator',
  'account.group_account_invoice': 'Accounting/Invoicing',
  'account.group_account_readonly': 'Show Accounting Features - Readonly',
  'account.group_account_user': 'Show Full Accounting Features',
};

const everyone = ['base.group_portal', 'base.group_public', 'base.group_user'];
const ACCESS: Record<string, Record<Operation, string[]>> = {
  'res.partner': {
    read: ['base.group_partner_manager', ...everyone],
    write: ['base.group_partner_manager'],
    create: ['base.group_partner_manager'],
    unlink: ['base.group_partner_manager'],
  },
  'res.users': {
    read: ['base.group_erp_manager', ...everyone],
    write: ['base.group_erp_manager'],
    create: ['base.group_erp_manager'],
    unlink: ['base.group_erp_manager'],
  },
  'ir.config_parameter': {
    read: ['base.group_system'],
    write: ['base.group_system'],
    create: ['base.group_system'],
    unlink: ['base.group_system'],
  },
  'res.country': {
    read: everyone,
    write: ['base.group_system'],
    create: ['base.group_system'],
    unlink: ['base.group_system'],
  },
  'res.lang': {
    read: everyone,
    write: ['base.group_system'],
    create: ['base.group_system'],
    unlink: ['base.group_system'],
  },
  'res.company': {
    read: everyone,
    write: ['base.group_erp_manager'],
    create: ['base.group_erp_manager'],
    unlink: ['base.group_erp_manager'],
  },
  'sale.order': {
    read: [
      'account.group_account_invoice',
      'sales_team.group_sale_manager',
      'sales_team.group_sale_salesman',
      'base.group_portal',
      'account.group_account_readonly',
      'account.group_account_user',
    ],
    write: [
      'account.group_account_invoice',
      'sales_team.group_sale_manager',
      'sales_team.group_sale_salesman',
      'account.group_account_user',
    ],
    create: ['sales_team.group_sale_manager', 'sales_team.group_sale_salesman'],
    unlink: ['sales_team.group_sale_manager'],
  },
};

const ADMIN_GROUPS = [
  'base.group_user',
  'base.group_system',
  'base.group_erp_manager',
  'base.group_partner_manager',
  'base.group_allow_export',
];
const SALE_ADMIN_GROUPS = [
  'sales_team.group_sale_salesman',
  'sales_team.group_sale_manager',
  'account.group_account_invoice',
  'account.group_account_user',
  'account.group_account_readonly',
];
/** base/data/res_users_demo.xml: user, Contact/Creation, Export/Allowed. */
const DEMO_GROUPS = ['base.group_user', 'base.group_partner_manager', 'base.group_allow_export'];

// ---------------------------------------------------------------------------------------------
// Records

const CREATED = '2026-11-28 04:26:58'; // create_date of partners 1, 8, 9 in 4b-10
const US = 233;

type Seed = Record<string, unknown>;

function partner(id: number, name: string | false, extra: Seed = {}): Seed {
  return {
    id,
    name,
    active: true,
    is_company: false,
    type: 'contact',
    parent_id: false,
    lang: 'en_US',
    color: 0,
    create_date: CREATED,
    write_date: CREATED,
    ...extra,
  };
}
const company = (
  id: number,
  name: string,
  email: string,
  phone: string,
  country: number,
  website?: string,
): Seed =>
  partner(id, name, { is_company: true, email, phone, country_id: country, ...(website ? { website } : {}) });
const person = (
  id: number,
  name: string,
  parent: number,
  email: string,
  phone: string,
  fn: string,
  country = US,
): Seed => partner(id, name, { parent_id: parent, email, phone, function: fn, country_id: country });

/** Odoo 19 base demo partners (res_partner_data.xml, res_users_demo.xml, res_partner_demo.xml). */
function partnerSeeds(): Seed[] {
  return [
    partner(1, 'YourCompany', {
      is_company: true,
      email: 'info@yourcompany.com',
      phone: '+1 555-555-5556',
      website: 'www.example.com',
      country_id: US,
    }),
    partner(2, 'OdooBot', { active: false, tz: 'Europe/Brussels' }),
    partner(3, 'Mitchell Admin', {
      company_name: 'YourCompany',
      email: 'admin@yourcompany.example.com',
      phone: '+1 555-555-5555',
      country_id: US,
      tz: 'Europe/Brussels',
    }),
    partner(4, 'Public user', { active: false }),
    partner(5, 'Portal User Template', { active: false }),
    partner(6, 'Marc Demo', {
      company_name: 'YourCompany',
      email: 'mark.brown23@example.com',
      phone: '(441)-695-2334',
      country_id: US,
      tz: 'Europe/Brussels',
    }),
    partner(7, 'Joel Willis', {
      company_name: 'YourCompany',
      email: 'joel.willis63@example.com',
      phone: '(683)-556-5104',
      country_id: US,
    }),
    company(
      8,
      'Wood Corner',
      'wood.corner26@example.com',
      '(623)-853-7197',
      US,
      'http://www.wood-corner.com',
    ),
    company(
      9,
      'Acme Corporation',
      'acme_corp@yourcompany.example.com',
      '(603)-996-3829',
      US,
      'http://www.acme-example-company.com',
    ),
    company(
      10,
      'Gemini Furniture',
      'gemini_furniture@fake.geminifurniture.com',
      '+378 0549 885555',
      203,
      'http://www.gemini-furniture.com/',
    ),
    company(11, 'Ready Mat', 'ready.mat28@example.com', '(803)-873-6126', US, 'http://www.ready-mat.com/'),
    company(12, 'OpenWood', 'wow@example.com', '+352 123 456 789', 128, 'www.openwood.example.com'),
    company(13, 'LightsUp', 'lightsup@example.com', '+372 123 1234', 139, 'www.lightsup.example.com'),
    company(14, 'The Jackson Group', 'jackson.group82@example.com', '(334)-502-1024', US),
    company(
      15,
      'Azure Interior',
      'azure.Interior24@example.com',
      '(870)-931-0505',
      US,
      'http://www.azure-interior.com',
    ),
    company(16, 'Lumber Inc', 'lumber-inv92@example.com', '(828)-316-0593', US, 'http://www.lumber-inc.com'),
    person(17, 'Willie Burke', 8, 'willie.burke80@example.com', '(846)-523-2111', 'Service Manager'),
    person(18, 'Ron Gibson', 8, 'ron.gibson76@example.com', '(976)-397-4091', 'Store Manager'),
    person(
      19,
      'Douglas Fletcher',
      9,
      'douglas.fletcher51@example.com',
      '(132)-553-7242',
      'Functional Consultant',
    ),
    person(20, 'Floyd Steward', 9, 'floyd.steward34@example.com', '(145)-138-3401', 'Analyst'),
    person(21, 'Edwin Hansen', 10, 'edwin.hansen58@example.com', '(943)-352-2555', 'Marketing Manager', 203),
    person(22, 'Billy Fox', 11, 'billy.fox45@example.com', '(915)-498-5611', 'Production Supervisor'),
    person(23, 'Jesse Brown', 10, 'jesse.brown74@example.com', '(829)-386-3277', 'Senior Consultant', 203),
    person(24, 'Soham Palmer', 10, 'soham.palmer15@example.com', '(379)-167-2040', 'Director', 203),
    person(25, 'Kim Snyder', 11, 'kim.snyder96@example.com', '(215)-379-4865', 'Senior Associate'),
    person(26, 'Edith Sanchez', 11, 'edith.sanchez68@example.com', '(938)-175-2048', 'Analyst'),
    person(27, 'Brandon Freeman', 15, 'brandon.freeman55@example.com', '(355)-687-3262', 'Creative Director'),
    person(28, 'Nicole Ford', 15, 'nicole.ford75@example.com', '(946)-638-6034', 'Director'),
    person(29, 'Toni Rhodes', 14, 'toni.rhodes11@example.com', '(198)-539-4948', 'Managing Partner'),
    person(30, 'Gordon Owens', 14, 'gordon.owens47@example.com', '(336)-723-6569', 'Senior Consultant'),
    person(31, 'Theodore Gardner', 11, 'theodore.gardner36@example.com', '(186)-612-6561', 'System Analyst'),
    person(32, 'Oscar Morgan', 10, 'oscar.morgan11@example.com', '(561)-239-1744', 'Order Clerk', 203),
    person(33, 'Tom Ruiz', 8, 'tom.ruiz89@example.com', '(102)-834-1602', 'Software Developer'),
    person(34, 'Colleen Diaz', 15, 'colleen.diaz83@example.com', '(255)-595-8393', 'Business Executive'),
    person(
      35,
      'Lorraine Douglas',
      16,
      'lorraine.douglas35@example.com',
      '(443)-648-9155',
      'Functional Consultant',
    ),
    person(36, 'Addison Olson', 9, 'addison.olson28@example.com', '(223)-399-7637', 'Sales Representative'),
    person(37, 'Sandra Neal', 11, 'sandra.neal80@example.com', '(430)-371-7293', 'Sales Manager'),
    person(38, 'Julie Richards', 11, 'julie.richards84@example.com', '(225)-148-7811', 'Financial Manager'),
    person(39, 'Travis Mendoza', 11, 'travis.mendoza24@example.com', '(840)-944-8661', 'Knowledge Manager'),
    person(
      40,
      'Chester Reed',
      1,
      'chester.reed79@example.com',
      '(979)-904-8902',
      'Chief Executive Officer (CEO)',
    ),
    person(
      41,
      'Dwayne Newman',
      1,
      'dwayne.newman28@example.com',
      '(614)-177-4937',
      'Chief Operations Officer (COO)',
    ),
  ];
}

function userSeeds(): Seed[] {
  const u = (id: number, login: string, partnerId: number, active: boolean, share: boolean): Seed => ({
    id,
    login,
    partner_id: partnerId,
    active,
    share,
    company_id: 1,
    company_ids: [1],
    create_date: CREATED,
    write_date: CREATED,
  });
  return [
    u(1, '__system__', 2, false, false),
    u(2, 'admin', 3, true, false),
    u(3, 'public', 4, false, true),
    u(4, 'portaltemplate', 5, false, true),
    u(5, 'demo', 6, true, false),
    u(6, 'portal', 7, true, true),
  ];
}

// ---------------------------------------------------------------------------------------------
// Models

interface IndexEntry {
  name: string;
  fields: PyDict;
  methods: string[];
}

function indexEntry(index: PyDict, model: string): IndexEntry | undefined {
  const models = Array.isArray(index.models) ? (index.models as PyDict[]) : [];
  const m = models.find((x) => x.model === model);
  if (!m) return undefined;
  return {
    name: String(m.name),
    fields: (m.fields ?? {}) as PyDict,
    methods: (Array.isArray(m.methods) ? m.methods : []).map(String),
  };
}

function fieldFromDescription(name: string, description: PyDict): FakeField {
  return {
    name,
    type: String(description.type),
    relation: typeof description.relation === 'string' ? description.relation : null,
    relationField: typeof description.relation_field === 'string' ? description.relation_field : null,
    description,
  };
}

/** Core ORM method entries of an api_doc page (the same on every model). */
function coreMethodDocs(fx: Fixtures): Map<string, PyDict> {
  const out = new Map<string, PyDict>();
  const methods = (fx.docs['res.partner']?.methods ?? {}) as PyDict;
  for (const [name, doc] of Object.entries(methods)) {
    if (isDict(doc) && (doc.model === 'core' || doc.model === 'base')) out.set(name, doc);
  }
  return out;
}

interface ModelSpec {
  name: string;
  order: string;
  recName?: string;
  recNamesSearch?: string[];
  defaults?: Seed;
  records: Seed[];
  nextId: number;
}

/** A model whose api_doc page was captured (res.partner, sale.order). */
function modelFromDoc(fx: Fixtures, db: string, spec: ModelSpec): FakeModel | null {
  const entry = indexEntry(fx.index[db] as PyDict, spec.name);
  const doc = fx.docs[spec.name];
  if (!entry || !doc) return null;
  const docFields = (doc.fields ?? {}) as PyDict;
  const docMethods = (doc.methods ?? {}) as PyDict;
  const fields = new Map<string, FakeField>();
  const pageFields: PyDict = {};
  for (const [fname, raw] of Object.entries(docFields)) {
    if (!(fname in entry.fields) || !isDict(raw)) continue;
    const { module: _module, ...description } = raw;
    fields.set(fname, fieldFromDescription(fname, description));
    pageFields[fname] = raw;
  }
  const methods = new Map<string, MethodSig>();
  const pageMethods: PyDict = {};
  for (const [mname, raw] of Object.entries(docMethods)) {
    if (!entry.methods.includes(mname) || !isDict(raw)) continue;
    methods.set(mname, sigFromDoc(mname, raw));
    pageMethods[mname] = raw;
  }
  for (const s of HIDDEN_CORE_METHODS) methods.set(s.name, s);
  return finishModel(spec, entry, fields, methods, {
    model: spec.name,
    name: doc.name ?? entry.name,
    doc: null,
    fields: pageFields,
    methods: pageMethods,
  });
}

type HandField = [name: string, type: string, extra?: Seed];

/**
 * A model whose api_doc page was not captured: the fake models the listed fields only (labels
 * from the doc index), and takes core method signatures from the res.partner page.
 */
function handModel(fx: Fixtures, db: string, spec: ModelSpec, handFields: HandField[]): FakeModel | null {
  const entry = indexEntry(fx.index[db] as PyDict, spec.name);
  if (!entry) return null;
  const fields = new Map<string, FakeField>();
  const pageFields: PyDict = {};
  for (const [fname, type, extra] of handFields) {
    const label = (entry.fields[fname] as PyDict | undefined)?.string;
    const description = fromPlain({
      name: fname,
      readonly: ['id', 'display_name', 'create_date', 'write_date'].includes(fname),
      required: false,
      searchable: true,
      sortable: fname !== 'display_name',
      store: fname !== 'display_name',
      string: typeof label === 'string' ? label : fname,
      type,
      ...extra,
    }) as PyDict;
    fields.set(fname, fieldFromDescription(fname, description));
    pageFields[fname] = { ...description, module: null };
  }
  const core = coreMethodDocs(fx);
  const methods = new Map<string, MethodSig>();
  const pageMethods: PyDict = {};
  const own = new Map((MODEL_METHODS[spec.name] ?? []).map((s) => [s.name, s]));
  for (const mname of entry.methods) {
    const coreDoc = core.get(mname);
    const ownSig = own.get(mname);
    if (coreDoc) {
      methods.set(mname, sigFromDoc(mname, coreDoc));
      pageMethods[mname] = coreDoc;
    } else if (ownSig) {
      methods.set(mname, ownSig);
      pageMethods[mname] = {
        signature: `(${ownSig.params.map((p) => p.name + (p.hasDefault ? `=${p.default === false ? 'False' : String(p.default)}` : '')).join(', ')})`,
        parameters: Object.fromEntries(
          ownSig.params.map((p) => [
            p.name,
            p.hasDefault && p.default !== undefined ? { default: p.default } : {},
          ]),
        ),
        ...(ownSig.apiModel ? { api: ['model'] } : {}),
        model: spec.name,
        module: 'base',
      } as PyDict;
    }
  }
  for (const s of HIDDEN_CORE_METHODS) methods.set(s.name, s);
  return finishModel(spec, entry, fields, methods, {
    model: spec.name,
    name: entry.name,
    doc: null,
    fields: pageFields,
    methods: pageMethods,
  });
}

function finishModel(
  spec: ModelSpec,
  entry: IndexEntry,
  fields: Map<string, FakeField>,
  methods: Map<string, MethodSig>,
  doc: PyDict,
): FakeModel {
  const records = new Map<number, FakeRecord>();
  for (const seed of spec.records) {
    const rec = fromPlain(seed) as FakeRecord;
    records.set(Number(rec.id), rec);
  }
  return {
    name: spec.name,
    description: entry.name,
    order: spec.order,
    recName: spec.recName ?? 'name',
    recNamesSearch: spec.recNamesSearch ?? [spec.recName ?? 'name'],
    fields,
    unmodelledFields: new Set(Object.keys(entry.fields).filter((f) => !fields.has(f))),
    methods,
    unmodelledMethods: new Set(entry.methods.filter((m) => !methods.has(m))),
    defaults: fromPlain(spec.defaults ?? {}) as PyDict,
    access: ACCESS[spec.name] ?? { read: [], write: [], create: [], unlink: [] },
    records,
    nextId: spec.nextId,
    doc,
  };
}

/** Builds one database from the fixtures. Each call returns fresh, independent data. */
export function seedDatabase(fx: Fixtures, name: 'lab' | 'lab2'): FakeDatabase {
  const index = fx.index[name] as PyDict;
  const withSales = name === 'lab';
  const partners = partnerSeeds().map((p) => {
    const img = fx.images.get(Number(p.id));
    return img ? { ...p, image_128: img } : p;
  });
  const models: Record<string, FakeModel> = {};
  const add = (m: FakeModel | null): void => {
    if (m) models[m.name] = m;
  };
  add(
    modelFromDoc(fx, name, {
      name: 'res.partner',
      order: 'complete_name ASC, id DESC',
      recNamesSearch: ['complete_name', 'email', 'ref', 'vat', 'company_registry'],
      defaults: { active: true, type: 'contact', is_company: false, color: 0 },
      records: partners,
      // lab: see the header. lab2 (contacts only) never had ids handed out past the demo data in
      // the captures; 42 is the first free one.
      nextId: withSales ? 59 : 42,
    }),
  );
  if (withSales) {
    add(
      modelFromDoc(fx, name, {
        name: 'sale.order',
        order: 'date_order desc, id desc',
        defaults: { state: 'draft' },
        records: [
          {
            id: 1,
            name: 'S00001',
            partner_id: 9,
            date_order: '2026-10-28 04:27:00',
            amount_total: float(1740),
            state: 'draft',
            order_line: [1, 2, 3],
            company_id: 1,
            create_date: CREATED,
            write_date: CREATED,
          },
          {
            id: 2,
            name: 'S00002',
            partner_id: 11,
            date_order: '2026-10-28 04:27:00',
            amount_total: float(2947.5),
            state: 'draft',
            order_line: [4, 5],
            company_id: 1,
            create_date: CREATED,
            write_date: CREATED,
          },
        ],
        nextId: 3,
      }),
    );
  }
  const common: HandField[] = [
    ['id', 'integer'],
    ['display_name', 'char'],
    ['create_date', 'datetime'],
    ['write_date', 'datetime'],
  ];
  add(
    handModel(
      fx,
      name,
      { name: 'res.users', order: 'name, login', recNamesSearch: ['name'], records: userSeeds(), nextId: 7 },
      [
        ...common,
        ['name', 'char'],
        ['login', 'char', { required: true }],
        ['partner_id', 'many2one', { relation: 'res.partner', required: true }],
        ['active', 'boolean'],
        ['email', 'char'],
        ['phone', 'char'],
        ['tz', 'selection'],
        ['lang', 'selection'],
        ['image_128', 'binary'],
        ['share', 'boolean'],
        ['company_id', 'many2one', { relation: 'res.company', required: true }],
        ['company_ids', 'many2many', { relation: 'res.company' }],
      ],
    ),
  );
  add(
    handModel(
      fx,
      name,
      {
        name: 'res.company',
        order: 'sequence, name',
        records: [{ id: 1, name: 'YourCompany', partner_id: 1, sequence: 0 }],
        nextId: 2,
      },
      [
        ...common,
        ['name', 'char', { required: true }],
        ['partner_id', 'many2one', { relation: 'res.partner', required: true }],
        ['sequence', 'integer'],
      ],
    ),
  );
  add(
    handModel(
      fx,
      name,
      {
        name: 'res.country',
        order: 'name, id',
        recNamesSearch: ['name', 'code'],
        records: [
          { id: 128, name: 'Liechtenstein', code: 'LI' },
          { id: 139, name: 'Montenegro', code: 'ME' },
          { id: 203, name: 'San Marino', code: 'SM' },
          { id: 233, name: 'United States', code: 'US' },
        ],
        nextId: 252,
      },
      [...common, ['name', 'char', { required: true }], ['code', 'char']],
    ),
  );
  // A few of base's res.lang.csv languages; only English is active, as on a fresh database.
  add(
    handModel(
      fx,
      name,
      {
        name: 'res.lang',
        order: 'active desc, name',
        recNamesSearch: ['name'],
        records: [
          { id: 1, name: 'English (US)', code: 'en_US', active: true },
          { id: 7, name: 'Dutch / Nederlands', code: 'nl_NL', active: false },
          { id: 12, name: 'French / Français', code: 'fr_FR', active: false },
          { id: 16, name: 'German / Deutsch', code: 'de_DE', active: false },
          { id: 3, name: 'Arabic / الْعَرَبيّة', code: 'ar_001', active: false },
          { id: 9, name: 'English (UK)', code: 'en_GB', active: false },
        ],
        nextId: 100,
      },
      [
        ...common,
        ['name', 'char', { required: true }],
        ['code', 'char', { required: true }],
        ['active', 'boolean'],
      ],
    ),
  );
  add(
    handModel(
      fx,
      name,
      {
        name: 'ir.config_parameter',
        order: 'key',
        recName: 'key',
        records: [
          {
            id: 1,
            key: 'web.base.url',
            value: 'http://127.0.0.1:8069',
            create_date: CREATED,
            write_date: CREATED,
          },
        ],
        nextId: 2,
      },
      [...common, ['key', 'char', { required: true }], ['value', 'text', { required: true }]],
    ),
  );

  const registry = new Map<string, { methods: Set<string> }>();
  for (const m of (Array.isArray(index.models) ? index.models : []) as PyDict[]) {
    registry.set(String(m.model), {
      methods: new Set((Array.isArray(m.methods) ? m.methods : []).map(String)),
    });
  }
  const adminGroups = withSales ? [...ADMIN_GROUPS, ...SALE_ADMIN_GROUPS] : ADMIN_GROUPS;
  return {
    name,
    models,
    registry,
    userGroups: new Map([
      [2, new Set(adminGroups)],
      [5, new Set(DEMO_GROUPS)],
      [6, new Set(['base.group_portal'])],
    ]),
    groupNames: { ...GROUP_NAMES },
    docIndex: index,
  };
}
