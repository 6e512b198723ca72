import type { Node, NodeAPI, NodeMessage } from '../types';
import { hubServices } from '../../hub/services';
import type { Journal } from '../../hub/journal/journal';
import type { FlowTracker } from '../../hub/flow-tracking/tracker';

/**
 * How the journal nodes reach the running hub's journal (hubServices, filled by startHub).
 * Outside council-hub (another Node-RED, a node test without the hub) they fail every
 * message with this clear error instead of passing it on unjournalled.
 */
const MISSING = "the hub's journal is not running (hubServices.journal is not set): journal, delivery and delivery-outcome nodes work only inside council-hub";

export function requireJournal(): Journal {
  if (!hubServices.journal) throw new Error(MISSING);
  return hubServices.journal;
}

export function requireFlowTracker(): FlowTracker {
  if (!hubServices.flowTracker) throw new Error(MISSING);
  return hubServices.flowTracker;
}

/** A typed-input value of a node (msg property, string, number, JSONata...) for this message. */
export function evaluateProperty(RED: NodeAPI, node: Node, value: string, type: string, msg: NodeMessage): Promise<unknown> {
  if (!value && type !== 'str') return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(value, type || 'msg', node, msg, (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result)));
  });
}

/** The journal's tag on a message (set by the journal node), or undefined. */
export function journalTagOf(msg: NodeMessage): { messageId: string; key?: string } | undefined {
  const tag = (msg as { journal?: { messageId?: unknown } }).journal;
  return typeof tag?.messageId === 'string' ? (tag as { messageId: string; key?: string }) : undefined;
}
