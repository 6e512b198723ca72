import type { Readable } from 'stream';
import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { HubError, permanentError } from '../../adapters/errors';
import { readPaymentFile, refusalReason } from '../../adapters/payments/cash-receipting';
import { PAYMENTS_SOURCE, cashPaymentReceived, judgePaymentFile } from '../../adapters/payments/payment-file';
import type { MessageTag } from '../../hub/port';
import { hubPort, requireJournal, requirePaymentRegister } from '../port';

interface PaymentFileDef extends NodeDef {
  /** Payments sent on into the flow at once (the rest wait their turn). */
  window: string | number;
}

/** Payments stored in the journal per commit. */
const RECORD_CHUNK = 2000;
/** Problems kept in the console's copy of a refused file (the reason file has them all). */
const PROBLEMS_KEPT = 200;

/**
 * Takes a cash-receipting payment file (from an sftp-watch on payments/out), reads and checks
 * all of it as a stream, and then either refuses it whole (the watch moves it to failed/
 * with <name>.reason.txt naming every problem by line, and the console shows it) or stores
 * every payment in the journal, remembers the file and its transaction refs, lets the file
 * go to processed/, and sends each payment on (output 1) to be posted to Finance and noted
 * on the CRM. Output 2: one report per file.
 */
export = function register(RED: NodeAPI) {
  function PaymentFileNode(this: Node, config: PaymentFileDef) {
    RED.nodes.createNode(this, config);
    const node: Node = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the dispatcher sends after the input handler ends
    const port = hubPort(RED);
    // At least two ledger batches (1,000 journals each): with fewer in flight a batch fills only by its age.
    const window = Math.max(1, Number(config.window) || 2000);
    let inFlight = 0;
    let closing = false;
    const waiting: Array<() => void> = [];
    const released = () => {
      inFlight -= 1;
      waiting.shift()?.();
    };

    /** Sends the payments on, at most `window` in the flow at once: a 100,000-payment file must not flood it. */
    async function dispatch(messages: Array<{ payload: unknown; filename: string; journal: MessageTag }>) {
      for (const m of messages) {
        if (closing) return; // what is left is 'received' in the journal: recovery sends it after the restart
        while (inFlight >= window) await new Promise<void>((resolve) => waiting.push(resolve));
        inFlight += 1;
        const msg = { ...m, _msgid: RED.util.generateId() } as NodeMessage;
        port.settlement.await(msg, { settled: released, failed: released }, { timeoutMs: 30 * 60 * 1000 });
        node.send([msg, null]);
      }
    }

    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const m = msg as Record<string, any>;
        const name = String(m.filename ?? m.sftp?.name ?? '');
        if (!name) throw permanentError('INVALID_MESSAGE', 'payment-file: the message names no file (msg.filename); put an sftp-watch before this node');
        const content = m.payload as Readable | Buffer | string | undefined;
        if (content === undefined || content === null) {
          throw permanentError('FILE_CONTENT_MISSING', `payment-file: ${name} has no content here; the hub does not keep a file's bytes, so drop the file (or its corrected copy) into payments/out again`);
        }
        const journal = requireJournal(RED);
        const registerOfFiles = requirePaymentRegister(RED);
        const funds = Object.keys((port.mappings.table('funds') as Record<string, unknown> | undefined) ?? {});
        node.status({ fill: 'blue', shape: 'dot', text: `reading ${name}` });
        const reading = await readPaymentFile(content, { name, funds });
        const verdict = await judgePaymentFile(reading, registerOfFiles, { recovered: m.sftp?.recovered === true });
        const report = (extra: object) => ({ ...m, payload: { file: name, bytes: reading.bytes, sha256: reading.sha256, ...extra }, topic: 'payment-file' });

        if (verdict.outcome === 'refuse') {
          const count = verdict.problems.length + verdict.moreProblems;
          const reason = refusalReason(name, verdict.problems, verdict.moreProblems);
          const summary = `${name} refused whole, nothing posted: ${count} problem${count === 1 ? '' : 's'} (${verdict.problems
            .slice(0, 3)
            .map((p) => (p.line ? `line ${p.line}: ${p.message}` : p.message))
            .join('; ')}${count > 3 ? '; ...' : ''})`;
          const error = Object.assign(new HubError('PAYMENT_FILE_REFUSED', summary, { transient: false }), { reasonText: reason });
          // Kept and shown: the console lists it with every problem, until a person discards it.
          await journal.refuse({
            source: PAYMENTS_SOURCE,
            sourceMessageId: `file:${name}:${reading.sha256}`,
            key: name,
            msg: { filename: name, payload: { file: name, bytes: reading.bytes, sha256: reading.sha256, problems: verdict.problems.slice(0, PROBLEMS_KEPT), moreProblems: count - Math.min(count, PROBLEMS_KEPT) } },
            nodeId: node.id,
            error,
            where: { nodeId: node.id, nodeType: 'payment-file', nodeName: name },
          });
          node.status({ fill: 'red', shape: 'ring', text: `${name}: refused, ${count} problems` });
          send([null, report({ outcome: 'refused', problems: verdict.problems.length + verdict.moreProblems })]);
          done(error);
          return;
        }

        if (verdict.outcome === 'already-posted') {
          // Accepted before a crash stopped the move to processed/: its payments are in the journal already.
          port.settlement.stored(msg);
          node.status({ fill: 'green', shape: 'ring', text: `${name}: already posted` });
          send([null, report({ outcome: 'already-posted', payments: verdict.file.payments, totalPence: verdict.file.totalPence })]);
          done();
          return;
        }

        // Every payment stored before the file is let go. One stored already (a crash, or a store
        // that failed, before the file was remembered) goes on only if its journey never began.
        const toSend: Array<{ payload: unknown; filename: string; journal: MessageTag }> = [];
        for (let at = 0; at < reading.payments.length; at += RECORD_CHUNK) {
          const chunk = reading.payments.slice(at, at + RECORD_CHUNK);
          const inputs = chunk.map((p) => ({
            source: PAYMENTS_SOURCE,
            sourceMessageId: p.transactionRef,
            key: `${p.fund}:${p.accountRef}`,
            msg: { payload: cashPaymentReceived(p, name), filename: name },
            nodeId: node.id,
          }));
          const results = await journal.recordMany(inputs);
          results.forEach((r, i) => {
            if (!r.duplicate || !r.routed) toSend.push({ payload: inputs[i].msg.payload, filename: name, journal: r.tag });
          });
        }
        await registerOfFiles.accept(verdict.file, reading.payments.map((p) => p.transactionRef));
        port.settlement.stored(msg);
        node.status({ fill: 'green', shape: 'dot', text: `${name}: ${reading.payments.length} payments, £${(reading.totalPence / 100).toFixed(2)}` });
        send([null, report({ outcome: 'accepted', payments: reading.payments.length, totalPence: reading.totalPence })]);
        done();
        void dispatch(toSend).catch((err: Error) => node.error(`payment-file: sending the payments of ${name} on failed: ${err.message} (they are in the journal; a restart sends them)`));
      } catch (err) {
        node.status({ fill: 'red', shape: 'ring', text: (err as Error).message.slice(0, 60) });
        done(err as Error);
      }
    });
    this.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      waiting.splice(0).forEach((resume) => resume());
      done();
    });
  }
  RED.nodes.registerType('payment-file', PaymentFileNode);
};
