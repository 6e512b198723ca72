import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { permanentError } from '../../adapters/errors';
import { evaluateProperty, journalTagOf } from '../message';
import { hubPort, requireJournal } from '../port';

interface JournalNodeDef extends NodeDef {
  source: string;
  sourceMessageId: string;
  sourceMessageIdType: string;
  key: string;
  keyType: string;
}

function text(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number') throw permanentError('INVALID_MESSAGE', `${what} must be a string or a number, got ${typeof value}`);
  return String(value);
}

/**
 * Stores each inbound message in the journal before its sender is acknowledged, then
 * acknowledges it (settlement: AMQP ack, SFTP file move, SOAP answer) and sends it on with
 * msg.journal. A message whose source id was seen before goes to the second output.
 */
export = function register(RED: NodeAPI) {
  function JournalNode(this: Node, config: JournalNodeDef) {
    RED.nodes.createNode(this, config);
    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        const journal = requireJournal(RED);
        const tag = journalTagOf(msg);
        // Already journalled: a replay from the start or a recovered message. Send it on.
        if (tag && (await journal.isStored(tag.messageId))) {
          send([msg, null]);
          done();
          return;
        }
        const source = config.source;
        if (!source) throw permanentError('NODE_CONFIGURATION', 'journal node: no source configured (e.g. "crm")');
        const sourceMessageId = text(await evaluateProperty(RED, this, config.sourceMessageId, config.sourceMessageIdType, msg), 'the source message id');
        const key = text(await evaluateProperty(RED, this, config.key, config.keyType, msg), 'the key');
        const { duplicate, tag: stored } = await journal.record({ source, sourceMessageId, key, msg, nodeId: this.id });
        (msg as Record<string, unknown>).journal = duplicate ? { ...stored, duplicate: true } : stored;
        hubPort(RED).settlement.stored(msg);
        this.status(duplicate ? { fill: 'yellow', shape: 'ring', text: `duplicate ${sourceMessageId}` } : { fill: 'green', shape: 'dot', text: `stored ${stored.messageId.slice(0, 8)}` });
        send(duplicate ? [null, msg] : [msg, null]);
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: (err as Error).message.slice(0, 60) });
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('journal', JournalNode);
};
