import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { permanentError } from '../../adapters/errors';
import { evaluateProperty } from '../message';
import { requireJournal } from '../port';

type Mode = 'delivered' | 'skipped' | 'needs-attention' | 'failed';
const modes: Mode[] = ['delivered', 'skipped', 'needs-attention', 'failed'];

interface OutcomeNodeDef extends NodeDef {
  mode: Mode;
  reason: string;
  reasonType: string;
  candidates: string;
  candidatesType: string;
}

/**
 * Ends a delivery: delivered, skipped (with a reason: policy said no, no relationship), or
 * needs-attention (with a reason and the candidates a person chooses from). Sends the
 * message on with msg.delivery.status. Failures need no outcome node: the hub journals
 * every node's failure itself. The old "failed" mode (fed by a Catch node) now only passes
 * the message on, so flows made with it keep working without recording a failure twice.
 */
export = function register(RED: NodeAPI) {
  function DeliveryOutcomeNode(this: Node, config: OutcomeNodeDef) {
    RED.nodes.createNode(this, config);
    const mode: Mode = modes.includes(config.mode) ? config.mode : 'delivered';
    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const m = msg as Record<string, any>;
        const journal = requireJournal(RED);
        if (mode === 'failed') {
          const d = typeof m.delivery?.id === 'string' ? await journal.delivery(m.delivery.id) : undefined;
          if (d && m.delivery) m.delivery.status = d.status;
          this.status({ fill: 'grey', shape: 'ring', text: d ? `${d.key}: ${d.status} (recorded by the hub)` : 'failures are recorded by the hub' });
          send(msg);
          done();
          return;
        }
        const deliveryId = m.delivery?.id;
        if (typeof deliveryId !== 'string') throw permanentError('NOT_A_DELIVERY', 'delivery-outcome: msg.delivery is missing (put a delivery node before this one)');
        const reason = await evaluateProperty(RED, this, config.reason, config.reasonType || 'str', msg);
        if (mode !== 'delivered' && (typeof reason !== 'string' || !reason.trim())) {
          throw permanentError('INVALID_MESSAGE', `delivery-outcome: a ${mode} outcome needs a reason`);
        }
        const candidates = mode === 'needs-attention' ? await evaluateProperty(RED, this, config.candidates, config.candidatesType || 'msg', msg) : undefined;
        const { delivery } = await journal.settle(deliveryId, mode, {
          ...(typeof reason === 'string' && reason ? { reason } : {}),
          ...(candidates !== undefined ? { candidates } : {}),
        });
        m.delivery = { ...m.delivery, status: delivery.status };
        this.status({ fill: delivery.status === 'delivered' ? 'green' : 'yellow', shape: 'dot', text: `${delivery.key}: ${delivery.status}` });
        send(msg);
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: (err as Error).message.slice(0, 60) });
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('delivery-outcome', DeliveryOutcomeNode);
};
