import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { evaluateProperty, requireFlowTracker, requireJournal } from '../journal/hub-journal';

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
 * Ends a delivery: delivered, skipped (with a reason: policy said no, no relationship),
 * needs-attention (with a reason and the candidates a person chooses from), or failed
 * (wired from a Catch node: records the failure of the node in msg.error.source, to be
 * retried from that node). Sends the message on with msg.delivery.status.
 */
export = function register(RED: NodeAPI) {
  function DeliveryOutcomeNode(this: Node, config: OutcomeNodeDef) {
    RED.nodes.createNode(this, config);
    const mode: Mode = modes.includes(config.mode) ? config.mode : 'delivered';
    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const m = msg as Record<string, any>;
        if (mode === 'failed') {
          const d = await requireFlowTracker().caught(msg);
          if (d && m.delivery) m.delivery.status = d.status;
          this.status({ fill: 'red', shape: 'dot', text: d ? `${d.key}: ${d.status}` : 'failure recorded' });
          send(msg);
          done();
          return;
        }
        const journal = requireJournal();
        const deliveryId = m.delivery?.id;
        if (typeof deliveryId !== 'string') throw new Error('delivery-outcome: msg.delivery is missing (put a delivery node before this one)');
        const reason = await evaluateProperty(RED, this, config.reason, config.reasonType || 'str', msg);
        if (mode !== 'delivered' && (typeof reason !== 'string' || !reason.trim())) {
          throw new Error(`delivery-outcome: a ${mode} outcome needs a reason`);
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
