import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { SchemaValidationError, assertSchema, checkSchema, schemaNames } from '../../adapters/canonical';

const FIXTURES = path.resolve(__dirname, '../../../mappings/fixtures');
const read = (p: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, p), 'utf8'));

describe('canonical schemas', () => {
  it('has every canonical event and every mapping target', () => {
    for (const name of ['person.address.changed', 'case.updated', 'payment.received', 'planning.update-party-address',
      'housing.update-correspondence-address', 'revenues.address-change-row', 'crm.add-case-update', 'finance.journal']) {
      assert.ok((schemaNames() as string[]).includes(name), name);
    }
  });

  it('accepts the fixture events as canonical events', () => {
    assertSchema('person.address.changed', read('canonical-to-housing/flat-with-saon.input.json'));
    assertSchema('case.updated', read('case-to-crm/planning-decision.input.json'));
    assertSchema('payment.received', read('payment-to-journal/council-tax-by-telephone.input.json'));
  });

  it('refuses a bad UPRN, a lower-case postcode, a zero amount, an unknown fund and an extra field', () => {
    const event = read('canonical-to-housing/flat-with-saon.input.json');
    const bad = { ...event, newAddress: { ...event.newAddress, uprn: '1234567890123', postcode: 'cf10 1ep' }, extra: true };
    const check = checkSchema('person.address.changed', bad);
    assert.ok(!check.valid);
    const where = check.problems.map((p) => `${p.instancePath} ${p.message}`);
    assert.ok(where.some((w) => w.startsWith('/newAddress/uprn must match pattern')), where.join());
    assert.ok(where.some((w) => w.startsWith('/newAddress/postcode must match pattern')), where.join());
    assert.ok(where.includes(' must not have property "extra"'), where.join());
    const payment = read('payment-to-journal/council-tax-by-telephone.input.json');
    assert.throws(() => assertSchema('payment.received', { ...payment, amountPence: 0, fund: 'XXX' }),
      (e: Error) => e instanceof SchemaValidationError && /\/amountPence must be > 0/.test(e.message) && /\/fund must be one of \["CTX","NDR","HRA","SUN"\]/.test(e.message));
  });

  it('refuses a journal that does not balance', () => {
    const line = { journal_ref: 'J', transaction_date: '2026-11-18', cost_centre: 'C', account_code: 'A', description: '', source_ref: 'S' };
    const unbalanced = { journalRef: 'J', lines: [{ ...line, debit_pence: 100, credit_pence: 0 }, { ...line, debit_pence: 0, credit_pence: 99 }] };
    assert.throws(() => assertSchema('finance.journal', unbalanced), /\/lines must balance/);
    const empty = { journalRef: 'J', lines: [{ ...line, debit_pence: 0, credit_pence: 0 }, { ...line, debit_pence: 0, credit_pence: 0 }] };
    assert.throws(() => assertSchema('finance.journal', empty), /\/lines must balance/);
  });
});
