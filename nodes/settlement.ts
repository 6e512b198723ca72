import type { NodeAPI, NodeMessage } from 'node-red';

/**
 * When is an inbound message "done with", so that its sender may be acknowledged (AMQP ack,
 * SFTP file moved to processed/)? Node-RED has no end-of-flow callback, so this follows the
 * message through the runtime's hooks: every send of its _msgid counts a hop in transit,
 * every receive turns it into a hop at work, every completion ends one. The message is
 * settled:
 *   - as soon as the journal says it is durably stored (acknowledgeStored), or
 *   - when no hop is left: `settled` if no node failed it, `failed` with the first error, or
 *   - `failed` when it is still going after the time limit (a node that never calls done).
 * Catch and Complete nodes receive without a send; their hops count like any other, and
 * the zero check waits a tick so that a Catch started by a failure is seen first.
 */
export interface SettlementHandlers {
  settled(): Promise<void> | void;
  failed(error: Error): Promise<void> | void;
}

export interface SettlementOptions {
  /** Fail the message if the flow has not finished with it by then. Default 5 minutes. */
  timeoutMs?: number;
}

interface Tracked {
  inTransit: number;
  atWork: number;
  error?: Error;
  handlers: SettlementHandlers;
  timer: NodeJS.Timeout;
}

const tracked = new Map<string, Tracked>();
const HOOK = 'councilHubSettlement';
let hooksOf: NodeAPI['hooks'] | undefined;

/**
 * The runtime's hooks. node-red-node-test-helper's RED object has no `hooks`, but the
 * runtime it drives uses the @node-red/util singleton, which is the same registry.
 */
export function runtimeHooks(RED: NodeAPI): NodeAPI['hooks'] {
  return RED.hooks ?? require('@node-red/util').hooks;
}

function settle(msgid: string, error?: Error): void {
  const entry = tracked.get(msgid);
  if (!entry) return;
  tracked.delete(msgid);
  clearTimeout(entry.timer);
  const run = async () => (error ? entry.handlers.failed(error) : entry.handlers.settled());
  // A handler that throws must not surface as an unhandled rejection in the runtime.
  run().catch(() => undefined);
}

function settleIfIdle(msgid: string): void {
  setImmediate(() => {
    const entry = tracked.get(msgid);
    if (entry && entry.inTransit <= 0 && entry.atWork <= 0) settle(msgid, entry.error);
  });
}

function installHooks(RED: NodeAPI): void {
  const hooks = runtimeHooks(RED);
  // The test helper clears every hook between flows: install again when ours is gone.
  if (hooksOf === hooks && (hooks as any).has(`onComplete.${HOOK}`)) return;
  hooksOf = hooks;
  hooks.add(`onSend.${HOOK}`, (events: any[]) => {
    for (const event of events) {
      const entry = tracked.get(event.msg?._msgid);
      if (entry) entry.inTransit += 1;
    }
  });
  hooks.add(`onReceive.${HOOK}`, (event: any) => {
    const entry = tracked.get(event.msg?._msgid);
    if (!entry) return;
    if (entry.inTransit > 0) entry.inTransit -= 1;
    // A node without an input handler never completes: the message ends there.
    const node = event.destination?.node;
    if (node && !node._inputCallback && !node._inputCallbacks) {
      if (entry.inTransit <= 0 && entry.atWork <= 0) settleIfIdle(event.msg._msgid);
      return;
    }
    entry.atWork += 1;
  });
  // Handlers written without `done` (arity < 3) never fire onComplete: their hop ends once
  // the handler has run. (Such a node sending later, asynchronously, is not followed.)
  hooks.add(`postReceive.${HOOK}`, (event: any) => {
    const entry = tracked.get(event.msg?._msgid);
    const node = event.destination?.node;
    if (!entry || !node || node._expectedDoneCount !== 0 || (!node._inputCallback && !node._inputCallbacks)) return;
    entry.atWork -= 1;
    if (entry.atWork <= 0 && entry.inTransit <= 0) settleIfIdle(event.msg._msgid);
  });
  hooks.add(`onComplete.${HOOK}`, (event: any) => {
    const msgid = event.msg?._msgid;
    const entry = tracked.get(msgid);
    if (!entry) return;
    entry.atWork -= 1;
    if (event.error && !entry.error) {
      entry.error = event.error instanceof Error ? event.error : new Error(String(event.error?.message ?? event.error));
    }
    if (entry.atWork <= 0 && entry.inTransit <= 0) settleIfIdle(msgid);
  });
}

/**
 * Called by an inbound node just BEFORE it sends `msg` into the flow. Exactly one of the
 * handlers runs, once. Gives the message its _msgid if it has none.
 */
export function awaitSettlement(RED: NodeAPI, msg: NodeMessage, handlers: SettlementHandlers, options: SettlementOptions = {}): void {
  installHooks(RED);
  if (!msg._msgid) msg._msgid = RED.util.generateId();
  const msgid = msg._msgid;
  const timeoutMs = options.timeoutMs ?? 5 * 60 * 1000;
  const timer = setTimeout(() => settle(msgid, new Error(`the flow did not finish with message ${msgid} within ${timeoutMs} ms`)), timeoutMs);
  timer.unref();
  tracked.set(msgid, { inTransit: 0, atWork: 0, handlers, timer });
  // Checked after the inbound node's send: a message sent nowhere (no wires) is not
  // silently acknowledged.
  setImmediate(() => {
    const entry = tracked.get(msgid);
    if (entry && entry.inTransit === 0 && entry.atWork === 0) settle(msgid, new Error('the node is not wired to anything: the message was not taken'));
  });
}

/** Called by the journal once the message is durably stored: its sender may be acknowledged now. */
export function acknowledgeStored(msg: NodeMessage): void {
  if (msg?._msgid) settle(msg._msgid);
}

/** Messages still waiting for settlement (for status displays and tests). */
export function unsettledCount(): number {
  return tracked.size;
}
