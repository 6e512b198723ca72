import assert from 'assert';
import fs from 'fs';
import path from 'path';
import {
  checkSchema, schemaNames,
  type Bs7666Address, type CanonicalTypes, type CaseUpdated, type CrmAddCaseUpdate, type FinanceJournal, type PaymentReceived,
  type PersonAddressChanged, type SchemaCheck, type SchemaName,
} from '../../adapters/canonical';
import { MappingLibrary } from '../../adapters/mapping';
import { FIXTURES, MAPPINGS, REPO } from './fixtures';

/** scripts/generate-canonical-types.js (plain JavaScript: it runs before anything is compiled). */
const generator: { generateCanonicalTypes(): Promise<string>; TYPES_FILE: string } =
  require(path.join(REPO, 'scripts', 'generate-canonical-types.js'));

/** Schemas without a type: configuration tables, which their own modules read. */
const CONFIG_TABLES = ['funds', 'sharing-rules'];

const ADDRESS: Bs7666Address = {
  uprn: '100023336958', saon: 'Flat 2', paon: '12', streetDescription: 'HIGH STREET', townName: 'CARDIFF', postTown: 'CARDIFF', postcode: 'CF10 1EP',
};

/** One value of each type, written in TypeScript (so the type must accept it) and checked against its schema. */
const SAMPLES: { [N in keyof CanonicalTypes]: CanonicalTypes[N] } = {
  'person.address.changed': {
    eventType: 'person.address.changed', eventId: 'e-1', occurredAt: '2026-11-18T09:15:00+00:00', source: { system: 'crm', channel: 'ContactCentre' },
    person: { title: 'Ms', forename: 'Ann', surname: 'Smith', dateOfBirth: '1980-03-14', ids: { crmContactId: 'C0012345' } },
    previousAddress: { uprn: '100023336956', paon: '4', streetDescription: 'CHURCH ROAD', townName: 'CARDIFF', postTown: 'CARDIFF', postcode: 'CF14 2DX' },
    newAddress: ADDRESS, effectiveDate: '2026-11-18',
  },
  'person.address.changed.unresolved': {
    eventType: 'person.address.changed', eventId: 'e-1', occurredAt: '2026-11-18T09:15:00Z', source: { system: 'crm' },
    person: { forename: 'Siân', surname: 'Llywelyn-Jones', ids: { crmContactId: 'C0055555' } },
    previousAddress: { lines: ['4 Church Road'], town: 'Cardiff', postcode: 'cf14 2dx' },
    newAddress: { uprn: '100023336958', lines: ['Flat 2', '12 High Street'], postcode: 'CF10 1EP' }, effectiveDate: '2026-11-18',
  },
  'case.updated': {
    eventType: 'case.updated', sourceSystem: 'planning', sourceRef: '26/01234/FUL', caseType: 'Planning application', title: 'Rear extension',
    status: 'Decided', summary: 'Application decided: Approved', decision: 'Approved', eventDate: '2026-12-15', occurredAt: '2026-12-15T00:00:00Z',
    officer: 'J Evans', sourceEventId: 'planning:26/01234/FUL:1187', parties: { crmContactId: 'C0012345', planningPartyId: 'P000123' },
  },
  'payment.received': {
    eventType: 'payment.received', transactionRef: 'T0000001', receivedAt: '2026-11-18T10:00:00Z', fund: 'CTX', accountRef: 'CTX123456',
    amountPence: 12550, channel: 'T', authCode: 'A1B2C3', file: { name: 'PAY_20261118.txt', line: 2 },
  },
  'payment.refunded': {
    eventType: 'payment.refunded', refundId: 'rf1', paymentId: 'pay1', amountPence: 500, refundedAt: '2026-11-19T10:00:00Z', fund: 'CTX', accountRef: 'CTX123456', paymentAmountPence: 12550,
  },
  'bs7666-address': ADDRESS,
  'free-text-address': { lines: ['Rose Cottage', 'Mill Lane'], town: 'Llandaff' },
  'planning.update-party-address': { partyId: 'P000123', address: ADDRESS, effectiveDate: '2026-11-18', requestId: 'e-1' },
  'housing.update-correspondence-address': {
    tenancyRef: 'T1', personRef: 'PR1', effectiveDate: '2026-11-18', requestId: 'e-1',
    address: { addressLine1: 'Flat 2', addressLine2: '12 HIGH STREET', addressLine3: 'CARDIFF', postcode: 'CF10 1EP', uprn: '100023336958' },
  },
  'revenues.address-change-row': {
    request_id: 'd-1', forename: 'Ann', surname: 'Smith', date_of_birth: '', previous_uprn: '100023336956', uprn: '100023336958',
    address_line_1: 'Flat 2', address_line_2: '12 HIGH STREET', address_line_3: 'CARDIFF', address_line_4: '', postcode: 'CF10 1EP', effective_date: '2026-11-18',
  },
  'crm.add-case-update': {
    caseRef: 'CASE-1', status: 'Decided', summary: 'Application decided: Approved', occurredAt: '2026-12-15T00:00:00Z', sourceEventId: 'planning:1',
  },
  'finance.journal': {
    journalRef: 'PAY-T0000001',
    lines: [
      { journal_ref: 'PAY-T0000001', transaction_date: '2026-11-18', cost_centre: 'CT100', account_code: 'B100', debit_pence: 12550, credit_pence: 0, description: 'Council tax', source_ref: 'T0000001' },
      { journal_ref: 'PAY-T0000001', transaction_date: '2026-11-18', cost_centre: 'CT100', account_code: 'I100', debit_pence: 0, credit_pence: 12550, description: 'Council tax', source_ref: 'T0000001' },
    ],
  },
  'crm.add-contact-note': { fund: 'CTX', accountRef: 'CTX123456', text: 'Payment of £125.50', sourceEventId: 'payment:T0000001' },
};

// What the types refuse, as the schemas do: the build fails if a type stops refusing one of these.
// @ts-expect-error a BS7666 address needs its UPRN
const _noUprn: Bs7666Address = { paon: '12', streetDescription: 'HIGH STREET', townName: 'CARDIFF', postTown: 'CARDIFF', postcode: 'CF10 1EP' };
// @ts-expect-error an object refuses a property its schema does not define
const _extra: CrmAddCaseUpdate = { ...SAMPLES['crm.add-case-update'], note: 'not a field' };
// @ts-expect-error a fund outside CTX, NDR, HRA, SUN
const _fund: PaymentReceived = { ...SAMPLES['payment.received'], fund: 'XXX' };
// @ts-expect-error sourceSystem is planning or housing
const _source: CaseUpdated = { ...SAMPLES['case.updated'], sourceSystem: 'revenues' };
// @ts-expect-error an amount is a number of pence, not text
const _amount: FinanceJournal['lines'][number] = { ...SAMPLES['finance.journal'].lines[0], debit_pence: '12550' };
// @ts-expect-error a resolved event's addresses are BS7666, not free text
const _unresolved: PersonAddressChanged = SAMPLES['person.address.changed.unresolved'];

/** What each mapping takes: the canonical schema of its input, or null for a source system's own message. */
const INPUT_SCHEMA: Record<string, keyof CanonicalTypes | null> = {
  'crm-event-to-canonical': null,
  'canonical-to-planning': 'person.address.changed',
  'canonical-to-housing': 'person.address.changed',
  'canonical-to-revenues': 'person.address.changed',
  'planning-event-to-case': null,
  'repair-to-case': null,
  'case-to-crm': 'case.updated',
  'payment-to-journal': 'payment.received',
  'refund-to-journal': 'payment.refunded',
  // Takes a payment.received or a payment.refunded: no one schema.
  'payment-to-crm-note': null,
};

/**
 * Fixtures whose input is deliberately not quite the canonical event, with the fields that differ
 * (JSON Pointers, as checkSchema gives them) and why. Any other difference fails.
 */
const NOT_QUITE_CANONICAL: Record<string, { paths: string[]; why: string }> = {
  'canonical-to-housing/lower-case-postcode': { paths: ['/newAddress/postcode'], why: 'the target mappings put postcodes in Royal Mail form' },
  'canonical-to-planning/no-saon-lower-case-postcode': { paths: ['/newAddress/postcode'], why: 'the target mappings put postcodes in Royal Mail form' },
  'canonical-to-revenues/lower-case-postcode': { paths: ['/newAddress/postcode'], why: 'the target mappings put postcodes in Royal Mail form' },
  'canonical-to-revenues/welsh-name-no-date-of-birth-no-previous-uprn': {
    paths: ['/previousAddress'], why: 'the previous address as the data-sharing rules pass it on when it has no UPRN (only previousAddress.uprn is shared)',
  },
};

/** The cases of a mapping that expect an output (not an error), by name. */
function successCases(mapping: string): string[] {
  const dir = path.join(FIXTURES, mapping);
  return fs.readdirSync(dir).filter((f) => f.endsWith('.expected.json')).map((f) => f.slice(0, -'.expected.json'.length)).sort();
}

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));

describe('canonical types (adapters/canonical/types.ts, generated from the schemas)', () => {
  it('is exactly what the schemas generate now (else: npm run generate:types)', async function () {
    this.timeout(60000);
    const committed = fs.readFileSync(generator.TYPES_FILE, 'utf8');
    const wanted = await generator.generateCanonicalTypes();
    if (committed === wanted) return;
    const [have, want] = [committed.split('\n'), wanted.split('\n')];
    const line = have.findIndex((text, i) => text !== want[i]);
    const at = line < 0 ? want.length : line;
    assert.fail(`${path.relative(REPO, generator.TYPES_FILE)} differs from what the schemas generate (line ${at + 1}: `
      + `${JSON.stringify(have[at] ?? '(end of file)')}, generated ${JSON.stringify(want[at] ?? '(end of file)')}): run npm run generate:types and commit it`);
  });

  it('has a type for every schema but the configuration tables', () => {
    const typed: SchemaName[] = Object.keys(SAMPLES) as Array<keyof CanonicalTypes>;
    assert.deepStrictEqual([...typed].sort(), schemaNames().filter((n) => !CONFIG_TABLES.includes(n)).sort());
  });

  for (const name of Object.keys(SAMPLES) as Array<keyof CanonicalTypes>) {
    it(`${name}: a value written as its type matches its schema`, () => {
      const check = checkSchema(name, JSON.parse(JSON.stringify(SAMPLES[name])));
      assert.ok(check.valid, check.valid ? '' : JSON.stringify(check.problems));
    });
  }
});

describe('mapping fixtures match the canonical types', () => {
  const mappings = new MappingLibrary({ mappingsDir: MAPPINGS }).list();

  it('every mapping says what it takes, and its target has a type', () => {
    assert.deepStrictEqual(mappings.map((m) => m.name).sort(), Object.keys(INPUT_SCHEMA).sort());
    for (const m of mappings) assert.ok(m.target in SAMPLES, `${m.name}: its target ${m.target} has no canonical type`);
  });

  for (const { name, target } of mappings) {
    it(`${name}: every expected output is a ${target}`, () => {
      for (const fixtureCase of successCases(name)) {
        const check = checkSchema(target, readJson(`${name}/${fixtureCase}.expected.json`));
        assert.ok(check.valid, `${name}/${fixtureCase}.expected.json: ${check.valid ? '' : JSON.stringify(check.problems)}`);
      }
    });
    const input = INPUT_SCHEMA[name];
    if (!input) continue;
    it(`${name}: every input of a case that expects an output is a ${input}, but for the cases listed with a reason`, () => {
      for (const fixtureCase of successCases(name)) {
        const id = `${name}/${fixtureCase}`;
        const check: SchemaCheck<unknown> = checkSchema(input, readJson(`${id}.input.json`));
        const differs: string[] = check.valid ? [] : [...new Set(check.problems.map((p) => p.instancePath))].sort();
        assert.deepStrictEqual(differs, NOT_QUITE_CANONICAL[id]?.paths ?? [], `${id}.input.json: ${check.valid ? 'valid' : JSON.stringify(check.problems)}`);
      }
    });
  }

  it('lists no case as not quite canonical that does not exist', () => {
    for (const id of Object.keys(NOT_QUITE_CANONICAL)) assert.ok(fs.existsSync(path.join(FIXTURES, `${id}.expected.json`)), id);
  });
});
