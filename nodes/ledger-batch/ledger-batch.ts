import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import type { FinanceJournal } from '../../adapters/canonical';
import { permanentError } from '../../adapters/errors';
import { buildLedgerFile, ledgerFileName } from '../../adapters/finance/ledger-file';
import { RequestBatch } from '../../adapters/revenues/batch';
import { hubPort, requireLedgerBatches } from '../port';

interface LedgerBatchDef extends NodeDef {
  maxJournals: string;
  maxAgeSeconds: string;
}

interface Waiting {
  deliveryId: string;
  journal: FinanceJournal;
  /** The delivery's messages waiting on this row (a recovered payment may arrive twice). */
  done: Done[];
}

/**
 * Gathers ledger journals (one per payment or refund delivery) into Finance's GL_ files. A
 * batch leaves as one message (msg.filename, msg.payload the csv, msg.control the .ctl line)
 * for an sftp-write node on finance/in. The file's name is taken once from the hub's store
 * and remembered with the deliveries in it before it is written, so that Finance's answer
 * (which names only the file) settles them. The rows' messages finish when the file is
 * written: awaiting Finance's answer if it was, failed (and retried one by one) if not.
 */
export = function register(RED: NodeAPI) {
  function LedgerBatchNode(this: Node, config: LedgerBatchDef) {
    RED.nodes.createNode(this, config);
    const node: Node = this; // eslint-disable-line @typescript-eslint/no-this-alias -- used by the batch's release callback
    const port = hubPort(RED);
    const byDelivery = new Map<string, Waiting>();

    async function release(rows: Waiting[]) {
      for (const row of rows) byDelivery.delete(row.deliveryId);
      const fail = (error: Error) => rows.forEach((row) => row.done.forEach((d) => d(error)));
      let filename: string;
      let built: ReturnType<typeof buildLedgerFile>;
      try {
        const batches = requireLedgerBatches(RED);
        built = buildLedgerFile(rows.map((r) => r.journal));
        const now = new Date();
        const day = now.toISOString().slice(0, 10).replace(/-/g, '');
        filename = ledgerFileName(now, await batches.nextSequence(day));
        await batches.remember({ file: filename, deliveryIds: rows.map((r) => r.deliveryId), journals: rows.length, debitPence: built.debitPence, createdAt: now.getTime() });
      } catch (err) {
        fail(err as Error);
        return;
      }
      const msg: NodeMessage & Record<string, unknown> = { payload: built.csv, filename, control: { content: built.control }, topic: 'ledger-file', deliveryIds: rows.map((r) => r.deliveryId) };
      port.settlement.await(msg, {
        settled: async () => {
          // With Finance now: awaiting its answer, even across a restart (nothing is written twice).
          const journal = port.journal;
          if (journal) {
            await Promise.all(
              rows.map((r) => journal.awaitAnswer(r.deliveryId).catch((err: Error) => node.warn(`ledger delivery ${r.deliveryId} is in ${filename}, but could not be marked awaiting Finance's answer: ${err.message}`))),
            );
          }
          rows.forEach((r) => r.done.forEach((d) => d()));
          node.status({ fill: 'green', shape: 'dot', text: `${filename}: ${rows.length} journals, £${(built.debitPence / 100).toFixed(2)}` });
        },
        failed: async (error) => {
          await requireLedgerBatches(RED)
            .answered(filename, { outcome: 'not-written', problems: [error.message], at: Date.now() })
            .catch(() => undefined);
          fail(Object.assign(new Error(`ledger file ${filename} was not written: ${error.message}`), { transient: (error as { transient?: boolean }).transient ?? true }));
          node.status({ fill: 'red', shape: 'ring', text: `${filename} not written` });
        },
      });
      node.send(msg);
    }

    const batch = new RequestBatch<Waiting>({ maxRows: Number(config.maxJournals) || 1000, maxAgeMs: (Number(config.maxAgeSeconds) || 5) * 1000 }, (rows) => void release(rows));

    this.on('input', (msg: NodeMessage, _send: Send, done: Done) => {
      try {
        const m = msg as Record<string, any>;
        const journal = m.payload as FinanceJournal | undefined;
        if (!journal || typeof journal !== 'object' || !Array.isArray(journal.lines) || !journal.journalRef) {
          throw permanentError('INVALID_MESSAGE', 'ledger-batch: msg.payload must be a finance.journal (map payment-to-journal or refund-to-journal first)');
        }
        const deliveryId = m.delivery?.id;
        if (typeof deliveryId !== 'string') throw permanentError('NOT_A_DELIVERY', 'ledger-batch: msg.delivery is missing (put a delivery node, target finance, before this one)');
        const already = byDelivery.get(deliveryId);
        if (already) {
          already.done.push(done); // the same delivery twice (recovery and a re-offered file): one row
          return;
        }
        const row: Waiting = { deliveryId, journal, done: [done] };
        byDelivery.set(deliveryId, row);
        batch.add(row);
        node.status({ fill: 'blue', shape: 'dot', text: `${batch.size} journals waiting` });
      } catch (err) {
        done(err as Error);
      }
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      batch.flush();
      done();
    });
  }
  RED.nodes.registerType('ledger-batch', LedgerBatchNode);
};
