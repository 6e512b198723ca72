import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import type { PaymentReceived, PaymentRefunded } from '../../adapters/canonical';
import { permanentError, transientError, waitUntil } from '../../adapters/errors';
import { refundSettledAt } from '../../adapters/payments/refunds';
import type { WebhookEvent } from '../../adapters/govuk-pay/events';
import { messageAtDelivery, requireJournal } from '../port';

interface OnlinePaymentDef extends NodeDef {
  /** The target of the online payments' ledger deliveries (default finance). */
  ledgerTarget: string;
  /** Seconds a refund waits after GOV.UK Pay created it, so that the refunds created before it are in first (default 900). */
  refundSettleSeconds?: string | number;
}

const DEFAULT_REFUND_SETTLE_SECONDS = 900;

/**
 * Sorts a stored GOV.UK Pay event: card_payment_succeeded is a payment to post (output 1, a
 * canonical payment.received, channel W); card_payment_refunded a refund to post reversed
 * (output 2, a payment.refunded with its payment's fund and account); every other type is
 * recorded, nothing posted (output 3, with msg.reason). Every output sets msg.paymentId (the
 * key of the payment's ledger timeline) and msg.occurredAt (its order in it). A refund whose
 * payment the hub has not had yet waits for it: a passing error, retried, so that it is
 * never posted before its payment. A refund also waits (REFUND_SETTLING, not an attempt) until
 * `refundSettleSeconds` after GOV.UK Pay created it, so that what is left of its payment is
 * judged in the order GOV.UK Pay created the refunds, not the order they arrived in.
 */
export = function register(RED: NodeAPI) {
  function OnlinePaymentNode(this: Node, config: OnlinePaymentDef) {
    RED.nodes.createNode(this, config);
    const ledgerTarget = (config.ledgerTarget || 'finance').trim();
    const rawSettle = config.refundSettleSeconds;
    const settleSeconds = rawSettle === undefined || rawSettle === '' ? DEFAULT_REFUND_SETTLE_SECONDS : Number(rawSettle);
    if (!Number.isFinite(settleSeconds) || settleSeconds < 0) {
      this.error(`online-payment: refund settle seconds must be a number of at least 0, got "${String(rawSettle)}"; using ${DEFAULT_REFUND_SETTLE_SECONDS}`);
    }
    const settleMs = (Number.isFinite(settleSeconds) && settleSeconds >= 0 ? settleSeconds : DEFAULT_REFUND_SETTLE_SECONDS) * 1000;

    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const m = msg as Record<string, any>;
        const event = m.payload as WebhookEvent | undefined;
        if (!event || typeof event !== 'object' || typeof event.eventType !== 'string' || typeof event.paymentId !== 'string') {
          throw permanentError('INVALID_MESSAGE', 'online-payment: msg.payload must be a GOV.UK Pay event as govuk-pay-in gives it');
        }
        m.paymentId = event.paymentId;
        m.webhookEvent = { webhookMessageId: event.webhookMessageId, eventType: event.eventType, createdDate: event.createdDate };
        if (event.kind === 'payment' && event.payment) {
          const p = event.payment;
          const payment: PaymentReceived = {
            eventType: 'payment.received',
            source: 'govuk-pay',
            transactionRef: p.paymentId,
            receivedAt: event.createdDate,
            fund: p.fund as PaymentReceived['fund'],
            accountRef: p.reference,
            amountPence: p.amountPence,
            channel: 'W',
            authCode: '',
          };
          m.payload = payment;
          m.occurredAt = event.createdDate;
          this.status({ fill: 'green', shape: 'dot', text: `payment ${p.paymentId}` });
          send([msg, null, null]);
        } else if (event.kind === 'refund' && event.refund) {
          const r = event.refund;
          // "What is left" is judged in the order GOV.UK Pay created the refunds: one that GOV.UK Pay
          // had to send again must reach the timeline before a later one is judged.
          const settledAt = refundSettledAt(r.createdDate, Date.now(), settleMs);
          if (settledAt > Date.now()) {
            throw waitUntil('REFUND_SETTLING', `refund ${r.refundId} waits until ${new Date(settledAt).toISOString()} (${Math.round(settleMs / 1000)} s after GOV.UK Pay created it), so that refunds of payment ${r.paymentId} created before it are judged first`, settledAt);
          }
          // Its payment's ledger entry gives the fund and account, and proves the payment is ahead of it in the timeline.
          const ledger = await requireJournal(RED).deliveriesOfKey(ledgerTarget, r.paymentId);
          const paid = ledger.map((d) => messageAtDelivery(d)?.payload as Partial<PaymentReceived> | undefined).find((p) => p?.eventType === 'payment.received');
          if (!paid) throw transientError('PAYMENT_NOT_YET_RECEIVED', `refund ${r.refundId} waits for its payment ${r.paymentId}, which has not reached the hub yet`);
          const refund: PaymentRefunded = {
            eventType: 'payment.refunded',
            refundId: r.refundId,
            paymentId: r.paymentId,
            amountPence: r.amountPence,
            refundedAt: r.createdDate,
            fund: paid.fund!,
            accountRef: paid.accountRef!,
            paymentAmountPence: paid.amountPence!,
          };
          m.payload = refund;
          m.occurredAt = r.createdDate;
          this.status({ fill: 'green', shape: 'dot', text: `refund ${r.refundId}` });
          send([null, msg, null]);
        } else {
          m.reason = `${event.eventType}: recorded; nothing is posted for it`;
          m.occurredAt = event.createdDate;
          this.status({ fill: 'grey', shape: 'dot', text: `${event.eventType} recorded` });
          send([null, null, msg]);
        }
        done();
      } catch (err) {
        this.status({ fill: 'yellow', shape: 'ring', text: (err as Error).message.slice(0, 60) });
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('online-payment', OnlinePaymentNode);
};
