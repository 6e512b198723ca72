import type { NodeAPI, NodeDef, Node, NodeMessage } from '../types';
import { permanentError } from '../../adapters/errors';
import { readLedgerAnswers } from '../../adapters/finance/answers';
import { requireJournal, requireLedgerBatches } from '../port';
import { serverOf, sftpStatus, type SftpServerNode } from '../sftp-server/shared';

interface LedgerAnswersDef extends NodeDef {
  server: string;
  /** Finance's inbox, where the hub writes GL files (default finance/in). */
  folder: string;
  /** Seconds between looks. */
  interval: string | number;
}

/**
 * Settles the ledger deliveries from Finance's answers: every few seconds it looks for the
 * GL files the hub is waiting on in finance/in/processed/ (posted: delivered) and
 * finance/in/rejected/ (refused with a .rej: every delivery in the file is dead with
 * Finance's reason, one failure group in the console, replayed once Finance's problem is
 * fixed). One message per answered file.
 */
export = function register(RED: NodeAPI) {
  function LedgerAnswersNode(this: Node, config: LedgerAnswersDef) {
    RED.nodes.createNode(this, config);
    const node: Node = this; // eslint-disable-line @typescript-eslint/no-this-alias -- used by the timer
    const server = RED.nodes.getNode(config.server) as SftpServerNode | null;
    const folder = (config.folder || 'finance/in').trim();
    const intervalMs = Math.max(0.2, Number(config.interval) || 5) * 1000;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    let closed = false;
    let lastError = '';
    server?.register?.(node);

    async function look(): Promise<void> {
      const batches = requireLedgerBatches(RED);
      const journal = requireJournal(RED);
      const waiting = await batches.unanswered();
      if (!waiting.length) {
        node.status(sftpStatus('grey', 'dot', 'no ledger file waiting for Finance'));
        return;
      }
      const answers = await readLedgerAnswers(serverOf(server), folder, waiting.map((b) => b.file));
      const where = { nodeId: node.id, nodeType: 'ledger-answers', nodeName: folder };
      for (const answer of answers) {
        const batch = waiting.find((b) => b.file === answer.file)!;
        let settled = 0;
        for (const id of batch.deliveryIds) {
          const result =
            answer.outcome === 'processed'
              ? await journal.answer(id, { outcome: 'delivered' })
              : await journal.answer(id, {
                  outcome: 'rejected',
                  error: permanentError('FINANCE_REFUSED', `Finance refused ${answer.file}: ${answer.problems[0] ?? 'no reason given'}${answer.problems.length > 1 ? ` (and ${answer.problems.length - 1} more problems)` : ''}`),
                  where,
                });
          if (result.changed) settled += 1;
        }
        await batches.answered(answer.file, { outcome: answer.outcome, problems: answer.outcome === 'rejected' ? answer.problems : [], at: Date.now() });
        const msg: NodeMessage & Record<string, unknown> = { topic: 'ledger-answer', payload: { file: answer.file, outcome: answer.outcome, deliveries: batch.deliveryIds.length, settled, ...(answer.outcome === 'rejected' ? { problems: answer.problems } : {}) } };
        node.send(msg);
      }
      node.status(sftpStatus('green', 'dot', `${waiting.length - answers.length} ledger files waiting for Finance`));
    }

    const schedule = () => {
      if (closed) return;
      timer = setTimeout(() => {
        running = look()
          .then(() => {
            lastError = '';
          })
          .catch((err: Error) => {
            if (err.message !== lastError) node.error(`ledger-answers: ${err.message}`);
            lastError = err.message;
            node.status(sftpStatus('red', 'ring', err.message.slice(0, 60)));
          })
          .finally(() => {
            running = undefined;
            schedule();
          });
      }, intervalMs);
    };
    if (!server) node.status(sftpStatus('red', 'ring', 'no SFTP server configured'));
    else schedule();

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      clearTimeout(timer);
      server?.deregister?.(node);
      Promise.resolve(running).then(() => done(), () => done());
    });
  }
  RED.nodes.registerType('ledger-answers', LedgerAnswersNode);
};
