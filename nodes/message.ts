import type { Node, NodeAPI, NodeMessage } from './types';

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

/** What the hub's nodes put on a message, as they read it back. */
export interface HubMessage extends NodeMessage {
  payload?: unknown;
  journal?: { messageId: string; source: string; key?: string; sourceMessageId?: string; receivedAt: number };
  delivery?: { id: string; idempotencyKey: string; target: string; key: string; attempt: number; order: number; seq: number; received?: number; status?: string };
  /** Values a mapping is run with ($partyId, $requestId...). */
  bindings?: Record<string, unknown>;
  [property: string]: unknown;
}

/** A message carrying a canonical event of type T (or, until it is checked, perhaps not). */
export interface EventMessage<T> extends HubMessage {
  payload?: Partial<T>;
}
