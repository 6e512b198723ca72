/**
 * Whether a refund of an online payment may be posted, decided inside the payment's ledger
 * timeline (so the payment and every earlier refund have had their answer from Finance):
 * only once the payment is in the ledger, and never for more than is left of it. Otherwise
 * it waits for a person.
 */
export interface LedgerEntry {
  eventType: string;
  /** The delivery's status: only `delivered` entries are in the ledger. */
  status: string;
  amountPence: number;
  id: string;
}

export type RefundDecision = { post: true; leftAfterPence: number } | { post: false; reason: string };

const pounds = (pence: number) => `£${(pence / 100).toFixed(2)}`;

export function refundDecision(refund: { id: string; refundId: string; paymentId: string; amountPence: number }, ledger: readonly LedgerEntry[]): RefundDecision {
  const payment = ledger.find((e) => e.eventType === 'payment.received');
  if (!payment) return { post: false, reason: `refund ${refund.refundId}: its payment ${refund.paymentId} has no ledger delivery` };
  if (payment.status !== 'delivered') {
    return { post: false, reason: `refund ${refund.refundId}: its payment ${refund.paymentId} is not in the ledger (its delivery is ${payment.status}); post the payment first, then replay this refund` };
  }
  const refunded = ledger.filter((e) => e.eventType === 'payment.refunded' && e.status === 'delivered' && e.id !== refund.id).reduce((sum, e) => sum + e.amountPence, 0);
  const left = payment.amountPence - refunded;
  if (refund.amountPence > left) {
    return { post: false, reason: `refund ${refund.refundId} of ${pounds(refund.amountPence)} is more than what is left of payment ${refund.paymentId} (${pounds(left)} of ${pounds(payment.amountPence)}); not posted` };
  }
  return { post: true, leftAfterPence: left - refund.amountPence };
}
