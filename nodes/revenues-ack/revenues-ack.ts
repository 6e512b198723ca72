import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { createHash } from 'crypto';
import { parseAckFile, requestFileForAck, RevenuesFileError } from '../../adapters/revenues/files';
import { settleAcks } from '../../adapters/revenues/acks';
import { permanentError } from '../../adapters/errors';
import { hubPort, requireJournal } from '../port';

/**
 * Reads a Revenues ack file (from an sftp-watch on revenues/ack) and settles the deliveries
 * it answers in the journal. A faulty file is the message's error: nothing is settled and
 * the watch moves it to failed/ with the reason, and it is kept in the journal for the
 * console's inbound failures (resubmitting a corrected copy there runs it through this node).
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
        const journal = requireJournal(RED);
        const where = { nodeId: this.id, nodeType: 'revenues-ack', nodeName: filename };
        // Only Revenues' own deliveries: an ack naming another target's delivery changes nothing.
        const ours = async (id: string) => (await journal.delivery(id))?.target === 'revenues';
        // The journal takes the answer for a delivery awaiting it, and also for one waiting to be
        // retried (after a restart its row was sent again and that attempt failed, but the first
        // file had reached Revenues): the ack is the truth.
        const summary = await settleAcks(rows, {
          delivered: async (id) => (await ours(id)) && (await journal.answer(id, { outcome: 'delivered' })).changed,
          skipped: async (id, reason) => (await ours(id)) && (await journal.answer(id, { outcome: 'skipped', reason })).changed,
          rejected: async (id, reason) =>
            (await ours(id)) && (await journal.answer(id, { outcome: 'rejected', error: permanentError('REJECTED', reason), where })).changed,
        });
        this.status({ fill: summary.unmatched.length ? 'yellow' : 'green', shape: 'dot', text: `${filename}: ${summary.accepted} accepted, ${summary.rejected} rejected, ${summary.noMatch} no match` });
        m.payload = { file: filename, ...summary };
        send(msg);
        done();
      } catch (err) {
        const m = msg as Record<string, any>;
        // Only a faulty file is kept (a journal that is down fails this node for another reason);
        // a resubmitted copy that is faulty again is already the journal's.
        if (err instanceof RevenuesFileError && !m.journal) {
          const filename = String(m.filename ?? m.sftp?.name ?? '');
          const text = Buffer.isBuffer(m.payload) ? m.payload.toString('utf8') : String(m.payload ?? '');
          const sha256 = createHash('sha256').update(text).digest('hex');
          try {
            await hubPort(RED).journal?.refuse({
              source: 'revenues',
              sourceMessageId: `ack:${filename}:${sha256}`,
              key: filename,
              msg: { payload: text.slice(0, 256 * 1024), filename },
              nodeId: this.id,
              error: err,
              where: { nodeId: this.id, nodeType: 'revenues-ack', nodeName: filename },
            });
          } catch (keepErr) {
            this.warn(`revenues-ack: ${filename} not kept for the console (it is in failed/): ${(keepErr as Error).message}`);
          }
        }
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('revenues-ack', RevenuesAckNode);
};
