import assert from 'assert';
import { refundDecision, refundSettledAt, type LedgerEntry } from '../../adapters/payments/refunds';

describe('refunds of online payments: whether one may be posted', () => {
  const payment = (status = 'delivered'): LedgerEntry => ({ id: 'p', eventType: 'payment.received', status, amountPence: 10000 });
  const refund = (id: string, amountPence: number, status = 'delivered'): LedgerEntry => ({ id, eventType: 'payment.refunded', status, amountPence });
  const asked = (amountPence: number) => ({ id: 'r-new', refundId: 'rf-new', paymentId: 'pay-1', amountPence });

  it('posts a refund that fits in what is left after the refunds already posted', () => {
    assert.deepStrictEqual(refundDecision(asked(4000), [payment(), refund('r1', 6000)]), { post: true, leftAfterPence: 0 });
    // A refund not posted (dead, waiting for a person) leaves the money where it was.
    assert.deepStrictEqual(refundDecision(asked(4000), [payment(), refund('r1', 6000, 'needs-attention'), refund('r-new', 4000, 'in-flight')]), { post: true, leftAfterPence: 6000 });
  });

  it('leaves a refund larger than what is left for a person, with both amounts', () => {
    const decision = refundDecision(asked(4001), [payment(), refund('r1', 6000)]);
    assert.deepStrictEqual(decision, { post: false, reason: 'refund rf-new of £40.01 is more than what is left of payment pay-1 (£40.00 of £100.00); not posted' });
  });

  it('never posts a refund whose payment is not in the ledger', () => {
    assert.match((refundDecision(asked(100), [payment('dead')]) as { reason: string }).reason, /payment pay-1 is not in the ledger \(its delivery is dead\)/);
    assert.match((refundDecision(asked(100), []) as { reason: string }).reason, /has no ledger delivery/);
  });
});

describe('refunds of online payments: when one may be judged', () => {
  const created = '2026-12-02T10:00:00.000Z';
  const at = Date.parse(created);
  it('waits the settle time after GOV.UK Pay created it, so that refunds created before it are in first', () => {
    assert.strictEqual(refundSettledAt(created, at + 1000, 900_000), at + 900_000);
    assert.strictEqual(refundSettledAt(created, at + 2_000_000, 900_000), at + 900_000, 'long settled: judged now');
    assert.strictEqual(refundSettledAt(created, at, 0), at, 'no settle time: at once');
  });
  it('never waits longer than the settle time from now, whatever GOV.UK Pay\'s clock says', () => {
    assert.strictEqual(refundSettledAt('2027-06-01T00:00:00Z', at, 900_000), at + 900_000);
    assert.strictEqual(refundSettledAt('not a date', at, 900_000), at);
  });
});

describe('cash-receipting times: the payments system keeps UK local time', () => {
  const { ukLocalTime } = require('../../adapters/payments/payment-file') as typeof import('../../adapters/payments/payment-file');
  it('gives GMT in winter and BST (+01:00) in summer', () => {
    assert.strictEqual(ukLocalTime('2026-12-01', '10:15:00'), '2026-12-01T10:15:00+00:00');
    assert.strictEqual(ukLocalTime('2026-07-01', '10:15:00'), '2026-07-01T10:15:00+01:00');
    assert.strictEqual(Date.parse(ukLocalTime('2026-07-01', '10:15:00')), Date.parse('2026-07-01T09:15:00Z'));
  });
});
