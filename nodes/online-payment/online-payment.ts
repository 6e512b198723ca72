import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import type { PaymentReceived, PaymentRefunded } from '../../adapters/canonical';
import { permanentError, transientError } from '../../adapters/errors';
import type { WebhookEvent } from '../../adapters/govuk-pay/events';
import { requireJournal } from '../port';

interface OnlinePaymentDef extends NodeDef {
  /** The target of the online payments' ledger deliveries (default finance). */
  ledgerTarget: string;
}

/**
 * Sorts a stored GOV.UK Pay event: card_payment_succeeded is a payment to post (output 1, a
 * canonical payment.received, channel W); card_payment_refunded a refund to post reversed
 * (output 2, a payment.refunded with its payment's fund and account); every other type is
 * recorded, nothing posted (output 3, with msg.reason). Every output sets msg.paymentId (the
 * key of the payment's ledger timeline) and msg.occurredAt (its order in it). A refund whose
 * payment the hub has not had yet waits for it: a passing error, retried, so that it is
 * never posted before its payment.
 */
export = function register(RED: NodeAPI) {
  function OnlinePaymentNode(this: Node, config: OnlinePaymentDef) {
    RED.nodes.createNode(this, config);
    const ledgerTarget = (config.ledgerTarget || 'finance').trim();

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
          // Its payment's ledger entry gives the fund and account, and proves the payment is ahead of it in the timeline.
          const ledger = await requireJournal(RED).deliveriesOfKey(ledgerTarget, r.paymentId);
          const paid = ledger.map((d) => d.resume?.msg?.payload as Partial<PaymentReceived> | undefined).find((p) => p?.eventType === 'payment.received');
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
