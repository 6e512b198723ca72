import type { StoredMessage } from './types';

/** Message properties that are live objects of the runtime, not data: never stored. */
const LIVE = new Set(['req', 'res', 'socket', 'client']);

/**
 * A JSON copy of a Node-RED message, fit to store and to run again: without the HTTP
 * request/response objects and other private `_` properties (except _msgid), functions or
 * circular references. Buffers become {type:'Buffer', data:[...]}, as JSON makes them.
 */
export function storableMessage(msg: object): StoredMessage {
  return JSON.parse(storableJson(msg)) as StoredMessage;
}

/** storableMessage as its JSON text: what a hop keeps while its node works (parsed only if the node fails). */
export function storableJson(msg: object): string {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(msg)) {
    if (LIVE.has(name) || (name.startsWith('_') && name !== '_msgid') || typeof value === 'function') continue;
    copy[name] = value;
  }
  // Plain JSON first: it drops functions and symbols as the careful way does, and runs several
  // times faster (this runs at every node a journalled message enters). Only a circular
  // reference or a BigInt makes it throw.
  try {
    return JSON.stringify(copy);
  } catch {
    return carefulJson(copy);
  }
}

function carefulJson(copy: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(copy, (_name, value) => {
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    if (typeof value === 'bigint') return value.toString();
    if (value && typeof value === 'object') {
      if (seen.has(value)) return undefined;
      seen.add(value);
    }
    return value;
  });
}

/** A fresh copy of a stored message, to give to a node (the stored one stays untouched). */
export function copyOf(msg: StoredMessage): StoredMessage {
  return JSON.parse(JSON.stringify(msg)) as StoredMessage;
}
