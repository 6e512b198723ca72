import type { Node, NodeAPI } from 'node-red';
import type { LedgerBatches, PaymentRegister } from '../adapters/payments/register';
import { PORT_SETTING, type HubPort, type JournalPort } from '../hub/port';
export { messageAtDelivery } from '../hub/port';
import { standalonePort } from '../hub/standalone-port';
import type { CrossReferenceStore } from '../adapters/people/cross-references';
import { permanentError } from '../adapters/errors';

/**
 * A node's way to the running hub: the port the composition root put in Node-RED's
 * settings, or, outside council-hub, a standalone one (no journal, no stores).
 */
export function hubPort(RED: NodeAPI): HubPort {
  const given = (RED.settings as unknown as Record<string, unknown>)[PORT_SETTING] as HubPort | undefined;
  return given ?? standalonePort(RED as never);
}

const OUTSIDE = 'work only inside council-hub (the hub gives them its journal and stores)';

export function requireJournal(RED: NodeAPI): JournalPort {
  const journal = hubPort(RED).journal;
  if (!journal) throw permanentError('HUB_NOT_RUNNING', `the hub's journal is not running: journal, delivery, delivery-outcome, held-address and revenues nodes ${OUTSIDE}`);
  return journal;
}

export function requireCrossReferences(RED: NodeAPI): CrossReferenceStore {
  const xref = hubPort(RED).crossReferences;
  if (!xref) throw permanentError('HUB_NOT_RUNNING', `the hub has no cross-reference store: person-lookup nodes ${OUTSIDE}`);
  return xref;
}

export function requirePaymentRegister(RED: NodeAPI): PaymentRegister {
  const payments = hubPort(RED).payments;
  if (!payments) throw permanentError('HUB_NOT_RUNNING', `the hub has no payment register: payment-file nodes ${OUTSIDE}`);
  return payments;
}

export function requireLedgerBatches(RED: NodeAPI): LedgerBatches {
  const batches = hubPort(RED).ledgerBatches;
  if (!batches) throw permanentError('HUB_NOT_RUNNING', `the hub keeps no ledger batches: ledger-batch and ledger-answers nodes ${OUTSIDE}`);
  return batches;
}

/**
 * Runs `start` once the flows have started. Node-RED creates a tab's nodes one by one; a
 * source (a folder watch, a queue consumer, a poller) that sends before the node it is wired
 * to exists loses the message without a word, and its sender then waits for a settlement
 * that never comes. Every start (the hub's, a deploy) ends with 'flows:started'.
 */
export function whenFlowsStarted(RED: NodeAPI, node: Node, start: () => void): void {
  let settled = false;
  const go = () => {
    if (settled) return;
    settled = true;
    RED.events.removeListener('flows:started', go);
    start();
  };
  RED.events.on('flows:started', go);
  node.on('close', () => {
    settled = true;
    RED.events.removeListener('flows:started', go);
  });
}
