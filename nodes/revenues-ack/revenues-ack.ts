import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { parseAckFile, requestFileForAck } from '../../adapters/revenues/files';
import { settleAcks } from '../../adapters/revenues/acks';
import { requireJournal } from '../journal/hub-journal';

/**
 * Reads a Revenues ack file (from an sftp-watch on revenues/ack) and settles the deliveries
 * it answers in the journal. A faulty file is the message's error: nothing is settled and
 * the watch moves it to failed/ with the reason.
 */
export = function register(RED: NodeAPI) {
  function RevenuesAckNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const m = msg as Record<string, any>;
        const filename = String(m.filename ?? m.sftp?.name ?? '');
        requestFileForAck(filename);
        const rows = parseAckFile(Buffer.isBuffer(m.payload) ? m.payload : String(m.payload ?? ''));
        const journal = requireJournal();
        const where = { nodeId: this.id, nodeType: 'revenues-ack', nodeName: filename };
        // An ack may come for a delivery waiting to be retried: after a restart its row was sent
        // again and that attempt failed, but the first file had reached Revenues. The ack is the truth.
        const answerable = ['in-flight', 'failed'] as const;
        const open = async (id: string) => {
          const d = await journal.store.getDelivery(id);
          return d && d.target === 'revenues' && (answerable as readonly string[]).includes(d.status) ? d : undefined;
        };
        const summary = await settleAcks(rows, {
          delivered: async (id) => !!((await open(id)) && (await journal.settle(id, 'delivered', {}, answerable)).changed),
          skipped: async (id, reason) => !!((await open(id)) && (await journal.settle(id, 'skipped', { reason }, answerable)).changed),
          rejected: async (id, reason) => {
            const d = await open(id);
            if (!d) return false;
            const error = Object.assign(new Error(reason), { transient: false, code: 'REJECTED' });
            return !!(await journal.fail(id, error, where, d.resume ?? { nodeId: d.startNodeId ?? this.id, how: 'send', msg: {} }));
          },
        });
        this.status({ fill: summary.unmatched.length ? 'yellow' : 'green', shape: 'dot', text: `${filename}: ${summary.accepted} accepted, ${summary.rejected} rejected, ${summary.noMatch} no match` });
        m.payload = { file: filename, ...summary };
        send(msg);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('revenues-ack', RevenuesAckNode);
};
