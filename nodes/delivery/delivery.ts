import type { NodeAPI, NodeDef, Node, NodeMessage, Send, Done } from '../types';
import { deliveryTag } from '../../hub/journal/journal';
import { retryPolicy } from '../../hub/journal/retry';
import { storableMessage } from '../../hub/journal/snapshot';
import { evaluateProperty, journalTagOf, requireJournal } from '../journal/hub-journal';

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
}

/** The order value of a change: a number, or a time (ISO 8601) as ms since 1970. */
function orderOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new Error(`delivery: the order value must be a number or a time, got ${JSON.stringify(value)}`);
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
    let retry: ReturnType<typeof retryPolicy> | undefined;
    let configError: Error | undefined;
    try {
      retry = retryPolicy({
        maxAttempts: config.maxAttempts,
        initialDelayMs: seconds(config.initialDelay),
        maxDelayMs: seconds(config.maxDelay),
        unclassified: config.unclassified || undefined,
      });
    } catch (err) {
      configError = err as Error;
      this.status({ fill: 'red', shape: 'ring', text: configError.message.slice(0, 60) });
    }
    this.on('input', async (msg: NodeMessage, send: Send, done: Done) => {
      try {
        if (configError) throw configError;
        if (!config.target) throw new Error('delivery node: no target configured (e.g. "planning")');
        const journal = requireJournal();
        const tag = journalTagOf(msg);
        if (!tag) throw new Error('delivery node: msg.journal is missing (put a journal node at the start of the flow)');
        const rawKey = await evaluateProperty(RED, this, config.key || 'journal.key', config.keyType || 'msg', msg);
        if (rawKey === undefined || rawKey === null || rawKey === '' || typeof rawKey === 'object') {
          throw new Error(`delivery node: no key for ${config.target} (${config.keyType || 'msg'}.${config.key || 'journal.key'} is ${JSON.stringify(rawKey)})`);
        }
        const order = orderOf(await evaluateProperty(RED, this, config.order, config.orderType, msg));
        const result = await journal.startDelivery({
          messageId: tag.messageId,
          target: config.target,
          key: String(rawKey),
          order,
          retry,
          nodeId: this.id,
          msg: storableMessage(msg),
        });
        const d = result.delivery;
        if (result.action === 'send') {
          (msg as Record<string, unknown>).delivery = deliveryTag(d);
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
