/**
 * The one module that knows how Node-RED's message runtime works inside. Everything else
 * (settlement of inbound messages, journey tracking, failure capture) subscribes to the
 * plain events it emits:
 *
 *   sent(msgid)              a node sent the message on to one destination (one per wire)
 *   arrived(msgid)           it reached a node without an input handler: it ends there
 *   entered(hop)             a node's input handler is about to run with it
 *   failed(hop, error)       the node reported an error for it: done(err), or
 *                            node.error(err, msg) (many core nodes, e.g. http request,
 *                            report that way and then call done() without an error)
 *   finished(hop)            the node is done with it (done(), or, for a handler written
 *                            without `done`, once the handler has returned)
 *
 * A failure is reported once per hop, before that hop's `finished`. What it relies on,
 * verified on node-red 4.1.8 (tests/hub/message-observer.test.ts fails if an upgrade
 * changes any of it):
 *   - hooks onSend, onReceive, postReceive, onComplete (public API);
 *   - Node#_inputCallback / _inputCallbacks (is there an input handler?) and
 *     Node#_expectedDoneCount (0 when no handler takes `done`, so onComplete never fires);
 *   - Flow.prototype.handleError(node, err, msg) is where both done(err) and
 *     node.error(err, msg) end up; it is wrapped (once per process) to see failures
 *     without Catch nodes.
 */
export interface Hop {
  readonly msgid: string;
  readonly nodeId: string;
  /** The runtime node (type, name, z), for labels only. */
  readonly node: { type?: string; name?: string; z?: string } | undefined;
  /** The message as it entered the node (the runtime's object, not a copy). */
  readonly msg: Record<string, unknown>;
  readonly startedAt: number;
  /** Set once the node reported a failure for this message. */
  error?: unknown;
  /** The node never said it finished (forgotten after a long time): not a failure, not a success. */
  abandoned?: boolean;
}

export interface MessageListener {
  /** msg: the message as sent (the journey tracker needs its journal tag). */
  sent?(msgid: string, msg?: unknown): void;
  arrived?(msgid: string): void;
  entered?(hop: Hop): void;
  failed?(hop: Hop, error: unknown): void;
  finished?(hop: Hop): void;
}

export interface RuntimeHooks {
  add(name: string, hook: (event: any) => unknown): void;
  remove(name: string): void;
  has?(name: string): boolean;
}

/** The node-red version the private fields above were verified on. */
export const VERIFIED_NODE_RED = '4.1.8';

const HOOK = 'councilHubObserver';
/** Hops a node never finishes (a handler that drops the message) are forgotten after this. */
const FORGET_AFTER_MS = 10 * 60 * 1000;
const MAX_OPEN_HOPS = 50000;

type NodeInternals = {
  id?: string;
  type?: string;
  name?: string;
  z?: string;
  _inputCallback?: unknown;
  _inputCallbacks?: unknown;
  _expectedDoneCount?: number;
};

function hasInputHandler(node: NodeInternals | undefined): boolean {
  return !!node && (!!node._inputCallback || !!node._inputCallbacks);
}

/** The handler takes no `done`: Node-RED will not fire onComplete for it. */
function completesWithoutDone(node: NodeInternals | undefined): boolean {
  return !!node && node._expectedDoneCount === 0;
}

/**
 * Flow.prototype.handleError is where Node-RED takes a node's error with its message: both
 * done(err) and node.error(err, msg) end there (it is what starts Catch nodes). It is shared
 * by every runtime in the process: wrapped once, and again only if something put another
 * function there. (Node.prototype.error would do too, but the node test helper replaces it
 * with a spy for every flow it loads.)
 */
const errorReporters = new Set<(node: NodeInternals, error: unknown, msg: unknown) => void>();
const WRAPPED = Symbol.for('council-hub.observer.handleError');

function wrapFlowErrors(): void {
  type HandleError = ((this: unknown, node: NodeInternals, logMessage: unknown, msg: unknown, reportingNode?: unknown) => unknown) & { [WRAPPED]?: true };
  const { Flow } = require('@node-red/runtime/lib/flows/Flow') as { Flow: { prototype: { handleError: HandleError } } };
  const original = Flow?.prototype?.handleError;
  if (typeof original !== 'function') throw new Error('message observer: node-red has no Flow.prototype.handleError to observe (see hub/runtime/message-observer.ts)');
  if (original[WRAPPED]) return;
  const wrapped = function (this: unknown, node: NodeInternals, logMessage: unknown, msg: unknown, reportingNode?: unknown) {
    if (msg && typeof msg === 'object' && errorReporters.size) {
      for (const report of errorReporters) {
        try {
          report(node, logMessage, msg);
        } catch {
          // an observer must never break the node reporting its error
        }
      }
    }
    return original.call(this, node, logMessage, msg, reportingNode);
  };
  Flow.prototype.handleError = Object.assign(wrapped, { [WRAPPED]: true as const });
}

export class MessageObserver {
  private readonly listeners = new Set<MessageListener>();
  private readonly open = new Map<string, Hop>();
  /** Hops finished in this tick: done(err) runs onComplete before node.error, which must not report twice. */
  private readonly justFinished = new Map<string, Hop>();
  private readonly reportError = (node: NodeInternals, error: unknown, msg: unknown) => this.errorReported(node, error, msg);
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly hooks: RuntimeHooks) {}

  /** Installs the hooks (again, if something cleared them: the node test helper does). */
  install(): void {
    wrapFlowErrors();
    errorReporters.add(this.reportError);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.forgetStale(), 60_000);
      this.sweeper.unref();
    }
    if (this.hooks.has?.(`onComplete.${HOOK}`)) return;
    this.hooks.add(`onSend.${HOOK}`, (events: any[]) => this.onSend(events));
    this.hooks.add(`onReceive.${HOOK}`, (event: any) => this.onReceive(event));
    this.hooks.add(`postReceive.${HOOK}`, (event: any) => this.onPostReceive(event));
    this.hooks.add(`onComplete.${HOOK}`, (event: any) => this.onComplete(event));
  }

  uninstall(): void {
    for (const name of ['onSend', 'onReceive', 'postReceive', 'onComplete']) this.hooks.remove(`${name}.${HOOK}`);
    errorReporters.delete(this.reportError);
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.open.clear();
  }

  subscribe(listener: MessageListener): () => void {
    this.install();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hops under way now (for tests and status). */
  get openHops(): number {
    return this.open.size;
  }

  private emit<K extends keyof MessageListener>(name: K, ...args: Parameters<NonNullable<MessageListener[K]>>): void {
    for (const listener of this.listeners) {
      const fn = listener[name] as ((...a: unknown[]) => void) | undefined;
      if (!fn) continue;
      try {
        fn.apply(listener, args);
      } catch {
        // listeners must never throw into the runtime; they log for themselves
      }
    }
  }

  // Every hook must return quickly and never throw: it runs on every hop of every message.

  private onSend(events: any[]): void {
    for (const event of events) {
      const msgid = event?.msg?._msgid;
      if (typeof msgid === 'string') this.emit('sent', msgid, event.msg);
    }
  }

  private onReceive(event: any): void {
    const msg = event?.msg;
    const msgid = msg?._msgid;
    if (typeof msgid !== 'string') return;
    const node = event.destination?.node as NodeInternals | undefined;
    if (!hasInputHandler(node)) {
      this.emit('arrived', msgid);
      return;
    }
    const nodeId = String(event.destination?.id ?? node?.id);
    const hop: Hop = { msgid, nodeId, node: node && { type: node.type, name: node.name, z: node.z }, msg, startedAt: Date.now() };
    if (this.open.size >= MAX_OPEN_HOPS) this.forgetStale(true);
    this.open.set(`${msgid}|${nodeId}`, hop);
    this.emit('entered', hop);
  }

  private onPostReceive(event: any): void {
    const node = event?.destination?.node as NodeInternals | undefined;
    if (!completesWithoutDone(node) || !hasInputHandler(node)) return;
    this.finish(`${event.msg?._msgid}|${event.destination.id}`);
  }

  private onComplete(event: any): void {
    const key = `${event?.msg?._msgid}|${event?.node?.id}`;
    const hop = this.open.get(key);
    if (!hop) return;
    if (event.error && hop.error === undefined) {
      hop.error = event.error;
      this.emit('failed', hop, event.error);
    }
    this.finish(key);
  }

  private finish(key: string): void {
    const hop = this.open.get(key);
    if (!hop) return;
    this.open.delete(key);
    this.emit('finished', hop);
    if (hop.error !== undefined) {
      this.justFinished.set(key, hop);
      setImmediate(() => this.justFinished.delete(key));
    }
  }

  /** A node's error with its message (done(err) or node.error(err, msg)), via the flow. */
  private errorReported(node: NodeInternals, error: unknown, msg: any): void {
    const msgid = msg?._msgid;
    if (typeof msgid !== 'string' || !node?.id) return;
    const key = `${msgid}|${node.id}`;
    const recent = this.justFinished.get(key);
    if (recent && recent.error === error) return; // done(err): already reported by onComplete (or a repeat)
    const hop = this.open.get(key);
    if (hop) {
      if (hop.error !== undefined) return; // one failure per hop
      hop.error = error;
      this.emit('failed', hop, error);
      return;
    }
    // Reported outside any hop (a node failing later, asynchronously): a hop of its own,
    // once (a subflow hands the same error on to its parent flow).
    const lone: Hop = { msgid, nodeId: node.id, node: { type: node.type, name: node.name, z: node.z }, msg, startedAt: Date.now(), error };
    this.justFinished.set(key, lone);
    setImmediate(() => this.justFinished.delete(key));
    this.emit('failed', lone, error);
  }

  private forgetStale(all = false): void {
    const limit = Date.now() - FORGET_AFTER_MS;
    for (const [key, hop] of this.open) {
      if (!all && hop.startedAt >= limit) continue;
      this.open.delete(key);
      hop.abandoned = true;
      this.emit('finished', hop);
      if (all && this.open.size < MAX_OPEN_HOPS / 2) break;
    }
  }
}

const observers = new WeakMap<RuntimeHooks, MessageObserver>();

/** The observer of one runtime's hooks registry: one per runtime, whoever asks. */
export function observerFor(hooks: RuntimeHooks): MessageObserver {
  let observer = observers.get(hooks);
  if (!observer) {
    observer = new MessageObserver(hooks);
    observers.set(hooks, observer);
  }
  observer.install();
  return observer;
}

/**
 * The hooks registry of the runtime a node runs in. node-red-node-test-helper's RED object
 * has no `hooks`, but the runtime it drives uses the @node-red/util singleton, which is the
 * same registry.
 */
export function hooksOf(RED: { hooks?: RuntimeHooks }): RuntimeHooks {
  return RED.hooks ?? (require('@node-red/util') as { hooks: RuntimeHooks }).hooks;
}
