import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { permanentError } from '../../adapters/errors';
import type { DeliveryMode, RetryPolicy } from '../../hub/port';
import { evaluateProperty, journalTagOf } from '../message';
import { hubPort, requireJournal } from '../port';

interface DeliveryNodeDef extends NodeDef {
  target: string;
  key: string;
  keyType: string;
  order: string;
  orderType: string;
  maxAttempts: string;
  initialDelay: string;
  maxDelay: string;
  unclassified: string;
  /** Hours a target that answers later (ack files) may take before the delivery needs attention. */
  answerWithin: string;
  /** latest: a newer change supersedes older ones (addresses); timeline: every entry, in order (case updates, payments). */
  mode: string;
  /** The target answers later (ack files). */
  answersLater: boolean | string;
}

/** The order value of a change: a number, or a time (ISO 8601) as ms since 1970. */
function orderOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw permanentError('INVALID_MESSAGE', `delivery: the order value must be a number or a time, got ${JSON.stringify(value)}`);
  return ms;
}

/**
 * Starts the delivery of a journalled message to one target for one key: the order gate
 * (one delivery per target and key at a time; later ones are held and sent on by the hub
 * once the earlier one is settled), supersede (a newer change replaces an older one not
 * yet delivered), and the idempotency key in msg.delivery.idempotencyKey.
 */
export = function register(RED: NodeAPI) {
  function DeliveryNode(this: Node, config: DeliveryNodeDef) {
    RED.nodes.createNode(this, config);
    const seconds = (value: string) => (value === '' || value === undefined ? undefined : Number(value) * 1000);
    let retry: RetryPolicy | undefined;
    const mode: DeliveryMode = {
      ...(config.mode === 'timeline' ? { timeline: true } : {}),
      ...(config.answersLater === true || config.answersLater === 'true' ? { answersLater: true } : {}),
    };
    let configError: Error | undefined;
    const journal = hubPort(RED).journal;
    try {
      const answerWithin = config.answerWithin === '' || config.answerWithin === undefined ? undefined : Number(config.answerWithin);
      if (answerWithin !== undefined && !(Number.isFinite(answerWithin) && answerWithin > 0)) throw new Error(`answer within must be a number of hours above 0, got "${config.answerWithin}"`);
      retry = journal?.retryPolicy({
        maxAttempts: config.maxAttempts,
        initialDelayMs: seconds(config.initialDelay),
        maxDelayMs: seconds(config.maxDelay),
        unclassified: config.unclassified || undefined,
      });
      if (retry && answerWithin !== undefined) retry = { ...retry, answerWithinMs: answerWithin * 60 * 60 * 1000 };
      if (config.mode && config.mode !== 'latest' && config.mode !== 'timeline') throw new Error(`mode must be latest or timeline, got "${config.mode}"`);
    } catch (err) {
      configError = permanentError('NODE_CONFIGURATION', (err as Error).message, err);
      this.status({ fill: 'red', shape: 'ring', text: configError.message.slice(0, 60) });
    }
    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        if (configError) throw configError;
        if (!config.target) throw permanentError('NODE_CONFIGURATION', 'delivery node: no target configured (e.g. "planning")');
        const journal = requireJournal(RED);
        const tag = journalTagOf(msg);
        if (!tag) throw permanentError('NOT_JOURNALLED', 'delivery node: msg.journal is missing (put a journal node at the start of the flow)');
        const rawKey = await evaluateProperty(RED, this, config.key || 'journal.key', config.keyType || 'msg', msg);
        if (rawKey === undefined || rawKey === null || rawKey === '' || typeof rawKey === 'object') {
          throw permanentError('INVALID_MESSAGE', `delivery node: no key for ${config.target} (${config.keyType || 'msg'}.${config.key || 'journal.key'} is ${JSON.stringify(rawKey)})`);
        }
        const order = orderOf(await evaluateProperty(RED, this, config.order, config.orderType, msg));
        const result = await journal.startDelivery({
          messageId: tag.messageId,
          target: config.target,
          key: String(rawKey),
          order,
          retry,
          mode,
          nodeId: this.id,
          msg,
        });
        const d = result.delivery;
        if (result.action === 'send') {
          (msg as Record<string, unknown>).delivery = result.tag;
          this.status({ fill: 'blue', shape: 'dot', text: `${d.key}: attempt ${d.attempts}` });
          send(msg);
        } else {
          const why = result.action === 'held' ? 'held behind an earlier change' : result.action === 'superseded' ? 'superseded by a newer change' : `already ${d.status}`;
          this.status({ fill: 'grey', shape: 'ring', text: `${d.key}: ${why}` });
        }
        done();
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: (err as Error).message.slice(0, 60) });
        done(err as Error);
      }
    });
  }
  RED.nodes.registerType('delivery', DeliveryNode);
};
