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

/**
 * When a refund created at `createdDate` (GOV.UK Pay's time) may be judged: `settleMs` after
 * it was created, so that every refund of the same payment created before it (GOV.UK Pay
 * retries one it could not deliver: after 60 s, then 5 min) has reached the payment's
 * timeline first. Never later than `settleMs` from now, whatever GOV.UK Pay's clock says.
 */
export function refundSettledAt(createdDate: string, now: number, settleMs: number): number {
  const created = Date.parse(createdDate);
  if (!Number.isFinite(created)) return now;
  return Math.min(created + settleMs, now + settleMs);
}
