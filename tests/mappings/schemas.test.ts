import assert from 'assert';
import { SchemaValidationError, assertSchema, checkSchema, schemaNames, type FinanceJournal } from '../../adapters/canonical';
import { fixture } from './fixtures';

describe('canonical schemas', () => {
  it('has every canonical event and every mapping target', () => {
    for (const name of ['person.address.changed', 'case.updated', 'payment.received', 'planning.update-party-address',
      'housing.update-correspondence-address', 'revenues.address-change-row', 'crm.add-case-update', 'finance.journal']) {
      assert.ok((schemaNames() as string[]).includes(name), name);
    }
  });

  it('accepts the fixture events as canonical events', () => {
    assert.strictEqual(fixture('person.address.changed', 'canonical-to-housing/flat-with-saon.input.json').eventType, 'person.address.changed');
    assert.strictEqual(fixture('case.updated', 'case-to-crm/planning-decision.input.json').eventType, 'case.updated');
    assert.strictEqual(fixture('payment.received', 'payment-to-journal/council-tax-by-telephone.input.json').eventType, 'payment.received');
  });

  it('refuses a bad UPRN, a lower-case postcode, a zero amount, an unknown fund and an extra field', () => {
    const event = fixture('person.address.changed', 'canonical-to-housing/flat-with-saon.input.json');
    const bad = { ...event, newAddress: { ...event.newAddress, uprn: '1234567890123', postcode: 'cf10 1ep' }, extra: true };
    const check = checkSchema('person.address.changed', bad);
    assert.ok(!check.valid);
    const where = check.problems.map((p) => `${p.instancePath} ${p.message}`);
    assert.ok(where.some((w) => w.startsWith('/newAddress/uprn must match pattern')), where.join());
    assert.ok(where.some((w) => w.startsWith('/newAddress/postcode must match pattern')), where.join());
    assert.ok(where.includes(' must not have property "extra"'), where.join());
    const payment = fixture('payment.received', 'payment-to-journal/council-tax-by-telephone.input.json');
    assert.throws(() => assertSchema('payment.received', { ...payment, amountPence: 0, fund: 'XXX' }),
      (e: Error) => e instanceof SchemaValidationError && /\/amountPence must be > 0/.test(e.message) && /\/fund must be one of \["CTX","NDR","HRA","SUN"\]/.test(e.message));
  });

  it('refuses a journal that does not balance', () => {
    const line: Omit<FinanceJournal['lines'][number], 'debit_pence' | 'credit_pence'> = { journal_ref: 'J', transaction_date: '2026-11-18', cost_centre: 'C', account_code: 'A', description: '', source_ref: 'S' };
    const unbalanced: FinanceJournal = { journalRef: 'J', lines: [{ ...line, debit_pence: 100, credit_pence: 0 }, { ...line, debit_pence: 0, credit_pence: 99 }] };
    assert.throws(() => assertSchema('finance.journal', unbalanced), /\/lines must balance/);
    const empty: FinanceJournal = { journalRef: 'J', lines: [{ ...line, debit_pence: 0, credit_pence: 0 }, { ...line, debit_pence: 0, credit_pence: 0 }] };
    assert.throws(() => assertSchema('finance.journal', empty), /\/lines must balance/);
  });
});
