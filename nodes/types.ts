import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';

/** Shared shapes for the hub's nodes; keeps each node file down to its own logic. */
export type { Node, NodeAPI, NodeDef, NodeMessage };

export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;

/** Reads a dotted msg property path such as "payload.address.postcode". */
export function getMessageProperty(RED: NodeAPI, msg: NodeMessage, property: string): unknown {
  return RED.util.getMessageProperty(msg, property);
}

export function setMessageProperty(RED: NodeAPI, msg: NodeMessage, property: string, value: unknown): void {
  RED.util.setMessageProperty(msg, property, value, true);
}
