import { transientError } from '../../adapters/errors';
import type { MessageObserver } from './message-observer';

/**
 * When is an inbound message "done with", so that its sender may be acknowledged (AMQP ack,
 * SFTP file moved to processed/, a file's rows handed over)? Node-RED has no end-of-flow
 * callback, so this counts the message's hops from the message observer: every send puts
 * one in transit, every arrival at a node takes it out of transit and (if the node has an
 * input handler) puts one at work, every finish ends one. The message is settled:
 *   - as soon as the journal says it is durably stored (stored()), or
 *   - when no hop is left: `settled` if no node failed it, `failed` with the first error, or
 *   - `failed` when it is still going after the time limit (a node that never calls done).
 * Catch and Complete nodes receive without a send; the zero check waits a tick so that a
 * Catch started by a failure is seen first.
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

function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  const message = (error as { message?: unknown } | null)?.message;
  return new Error(String(message ?? error));
}

export class Settlement {
  private readonly tracked = new Map<string, Tracked>();

  constructor(
    observer: MessageObserver,
    private readonly newId: () => string,
    /** Where a sender's acknowledgement that failed is told (an AMQP ack on a lost channel...). */
    private readonly warn: (message: string) => void = (message) => console.warn(`council-hub: ${message}`),
  ) {
    observer.subscribe({
      sent: (msgid) => {
        const entry = this.tracked.get(msgid);
        if (entry) entry.inTransit += 1;
      },
      arrived: (msgid) => {
        const entry = this.tracked.get(msgid);
        if (!entry) return;
        if (entry.inTransit > 0) entry.inTransit -= 1;
        this.settleIfIdle(msgid);
      },
      entered: (hop) => {
        const entry = this.tracked.get(hop.msgid);
        if (!entry) return;
        if (entry.inTransit > 0) entry.inTransit -= 1;
        entry.atWork += 1;
      },
      failed: (hop, error) => {
        const entry = this.tracked.get(hop.msgid);
        if (entry && !entry.error) entry.error = asError(error);
      },
      finished: (hop) => {
        const entry = this.tracked.get(hop.msgid);
        if (!entry) return;
        entry.atWork -= 1;
        this.settleIfIdle(hop.msgid);
      },
    });
  }

  /**
   * Called by an inbound node just BEFORE it sends `msg` into the flow. Exactly one of the
   * handlers runs, once. Gives the message its _msgid if it has none.
   */
  await(msg: { _msgid?: string }, handlers: SettlementHandlers, options: SettlementOptions = {}): void {
    if (!msg._msgid) msg._msgid = this.newId();
    const msgid = msg._msgid;
    const timeoutMs = options.timeoutMs ?? 5 * 60 * 1000;
    // Not the message's fault: a file stays where it is and is offered again, a queue message is redelivered.
    const timer = setTimeout(() => this.settle(msgid, transientError('FLOW_TIMEOUT', `the flow did not finish with message ${msgid} within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    this.tracked.set(msgid, { inTransit: 0, atWork: 0, handlers, timer });
    // Checked after the inbound node's send: a message sent nowhere (no wires) is not silently acknowledged.
    setImmediate(() => {
      const entry = this.tracked.get(msgid);
      if (entry && entry.inTransit === 0 && entry.atWork === 0) this.settle(msgid, new Error('the node is not wired to anything: the message was not taken'));
    });
  }

  /** The journal has durably stored the message: its sender may be acknowledged now. */
  stored(msg: { _msgid?: string } | undefined): void {
    if (msg?._msgid) this.settle(msg._msgid);
  }

  /** Messages still waiting for settlement (for status displays and tests). */
  get unsettled(): number {
    return this.tracked.size;
  }

  private settleIfIdle(msgid: string): void {
    const entry = this.tracked.get(msgid);
    if (!entry || entry.inTransit > 0 || entry.atWork > 0) return;
    setImmediate(() => {
      const again = this.tracked.get(msgid);
      if (again && again.inTransit <= 0 && again.atWork <= 0) this.settle(msgid, again.error);
    });
  }

  private settle(msgid: string, error?: Error): void {
    const entry = this.tracked.get(msgid);
    if (!entry) return;
    this.tracked.delete(msgid);
    clearTimeout(entry.timer);
    const run = async () => (error ? entry.handlers.failed(error) : entry.handlers.settled());
    // A handler that throws must not surface as an unhandled rejection in the runtime: it is told.
    run().catch((err: Error) => this.warn(`settling message ${msgid} (${error ? 'failed' : 'settled'}) failed: ${err?.message ?? err}`));
  }
}
