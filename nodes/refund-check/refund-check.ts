import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import type { PaymentRefunded } from '../../adapters/canonical';
import { permanentError } from '../../adapters/errors';
import { refundDecision, type LedgerEntry } from '../../adapters/payments/refunds';
import { messageAtDelivery, requireJournal } from '../port';

/**
 * Inside a payment's ledger timeline (after its delivery node), decides whether a refund may
 * be posted: its payment must be in the ledger (Finance took it), and the refund no more
 * than is left of it after the refunds posted before. Output 1: post it; output 2: it
 * waits for a person (msg.reason, for a delivery-outcome "needs attention").
 */
export = function register(RED: NodeAPI) {
  function RefundCheckNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const m = msg as Record<string, any>;
        const refund = m.payload as PaymentRefunded | undefined;
        if (refund?.eventType !== 'payment.refunded') throw permanentError('INVALID_MESSAGE', 'refund-check: msg.payload must be a payment.refunded (from an online-payment node)');
        const delivery = m.delivery;
        if (!delivery?.id) throw permanentError('NOT_A_DELIVERY', 'refund-check: msg.delivery is missing (put the refund\'s ledger delivery node before this one)');
        const ledger: LedgerEntry[] = (await requireJournal(RED).deliveriesOfKey(delivery.target, delivery.key)).map((d) => {
          const payload = messageAtDelivery(d)?.payload as { eventType?: string; amountPence?: number } | undefined;
          return { id: d.id, status: d.status, eventType: payload?.eventType ?? '', amountPence: Number(payload?.amountPence ?? 0) };
        });
        const decision = refundDecision({ id: delivery.id, refundId: refund.refundId, paymentId: refund.paymentId, amountPence: refund.amountPence }, ledger);
        if (decision.post) {
          this.status({ fill: 'green', shape: 'dot', text: `${refund.refundId}: £${(decision.leftAfterPence / 100).toFixed(2)} left after it` });
          send([msg, null]);
        } else {
          m.reason = decision.reason;
          this.status({ fill: 'yellow', shape: 'dot', text: decision.reason.slice(0, 60) });
          send([null, msg]);
        }
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: (err as Error).message.slice(0, 60) });
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('refund-check', RefundCheckNode);
};
