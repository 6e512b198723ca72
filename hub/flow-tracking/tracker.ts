import type { EventEmitter } from 'events';
import { Journal, RunTask, deliveryTag } from '../journal/journal';
import { copyOf, storableMessage } from '../journal/snapshot';
import type { DeliveryRecord, Hop, ResumePoint, StoredMessage } from '../journal/types';

/**
 * Follows journalled messages through Node-RED, for any node (core nodes included), with
 * the runtime's hooks (seen working on node-red 4.1.8):
 *  - onReceive: the message is about to enter a node. A copy is kept (in memory) so that a
 *    failure there can be retried and replayed from that node with the message as it was.
 *  - onComplete: the node is done with it, perhaps with an error. The hop (node, timings,
 *    error) goes to the journal's provenance; an error becomes a failed delivery that will
 *    re-run that node.
 * It also runs what the journal asks to run (retries, released deliveries, replays,
 * recovery) with RED.nodes.getNode(id).receive(msg) or .send(msg), polls for due retries,
 * and prunes by the retention setting.
 */
export interface FlowRuntime {
  hooks: { add(name: string, hook: (event: any) => unknown): void; remove(name: string): void; has?(name: string): boolean };
  getNode(id: string): any;
  events: EventEmitter;
  log?: { warn(message: string): void; error(message: string): void };
}

export interface FlowTrackerOptions {
  /** How often due retries are looked for. Default 1000 ms. */
  pollMs?: number;
  /** Delivered/skipped/superseded records older than this are pruned. Default 30 days. */
  retentionMs?: number;
  /** How often retention runs. Default 1 hour. */
  pruneEveryMs?: number;
  /** Recover this instance's interrupted work when the flows first start. Default true. */
  recover?: boolean;
}

interface AtNode {
  snapshot: StoredMessage;
  hop: Hop;
}

const HOOK = 'councilHubJournal';
/** A message that never completes at a node (a handler without done) is forgotten after this. */
const FORGET_AFTER_MS = 10 * 60 * 1000;
const MAX_TRACKED = 20000;

function journalledId(msg: any): string | undefined {
  const id = msg?.journal?.messageId;
  return typeof id === 'string' ? id : undefined;
}

export class FlowTracker {
  private readonly atNode = new Map<string, AtNode>();
  private hopBuffer: Hop[] = [];
  private readonly queued: RunTask[] = [];
  private ready = false;
  private recovered = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly onRun = (task: RunTask) => this.run(task);
  private readonly onStarted = () => this.flowsStarted();
  private readonly onStopped = () => (this.ready = false);
  private polling = false;

  constructor(
    readonly journal: Journal,
    private readonly runtime: FlowRuntime,
    private readonly options: FlowTrackerOptions = {},
  ) {}

  /** Installs the hooks and starts the retry poller; runs recovery once the flows start. */
  start(): void {
    this.installHooks();
    this.journal.on('run', this.onRun);
    this.runtime.events.on('flows:started', this.onStarted);
    this.runtime.events.on('flows:stopped', this.onStopped);
    const poll = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    const flush = setInterval(() => void this.flushHops(), 250);
    const prune = setInterval(() => void this.prune(), this.options.pruneEveryMs ?? 60 * 60 * 1000);
    this.timers = [poll, flush, prune];
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.journal.off('run', this.onRun);
    this.runtime.events.off('flows:started', this.onStarted);
    this.runtime.events.off('flows:stopped', this.onStopped);
    for (const name of ['onReceive', 'postReceive', 'onComplete']) this.runtime.hooks.remove(`${name}.${HOOK}`);
    this.ready = false;
    await this.flushHops();
  }

  /** The test helper clears every hook when it loads a flow: install again when ours is gone. */
  private installHooks(): void {
    const hooks = this.runtime.hooks;
    if (hooks.has?.(`onComplete.${HOOK}`)) return;
    hooks.add(`onReceive.${HOOK}`, (event: any) => this.received(event));
    hooks.add(`postReceive.${HOOK}`, (event: any) => this.handedOver(event));
    hooks.add(`onComplete.${HOOK}`, (event: any) => this.completed(event));
  }

  private warn(message: string): void {
    if (this.runtime.log) this.runtime.log.warn(`journal: ${message}`);
    else console.warn(`journal: ${message}`);
  }

  private flowsStarted(): void {
    this.installHooks();
    this.ready = true;
    const waiting = this.queued.splice(0);
    for (const task of waiting) this.run(task);
    if (!this.recovered && this.options.recover !== false) {
      this.recovered = true;
      this.journal.recover().catch((err) => this.warn(`recovery after restart failed: ${(err as Error).message}`));
    }
  }

  // ---- hooks (they must never throw or hold the message up) ------------------------------

  private received(event: any): void {
    const msg = event.msg;
    const messageId = journalledId(msg);
    if (!messageId) return;
    const node = event.destination?.node;
    const nodeId: string = event.destination?.id;
    try {
      const hop: Hop = {
        messageId,
        msgid: msg._msgid,
        nodeId,
        startedAt: Date.now(),
        ...(msg.delivery?.id ? { deliveryId: msg.delivery.id } : {}),
        ...(node?.type ? { nodeType: node.type } : {}),
        ...(node?.name ? { nodeName: node.name } : {}),
        ...(node?.z ? { flowId: node.z } : {}),
      };
      if (this.atNode.size >= MAX_TRACKED) this.forgetOld(true);
      this.atNode.set(`${msg._msgid}|${nodeId}`, { snapshot: storableMessage(msg), hop });
    } catch (err) {
      this.warn(`could not follow message ${messageId} into node ${nodeId}: ${(err as Error).message}`);
    }
  }

  /** A node whose handler takes no `done` never completes: its hop ends when the handler has run. */
  private handedOver(event: any): void {
    const node = event.destination?.node;
    if (!node || node._expectedDoneCount !== 0 || !journalledId(event.msg)) return;
    const entry = this.atNode.get(`${event.msg._msgid}|${event.destination.id}`);
    if (!entry) return;
    this.atNode.delete(`${event.msg._msgid}|${event.destination.id}`);
    this.finishHop(entry.hop);
  }

  private completed(event: any): void {
    const msg = event.msg;
    const messageId = journalledId(msg);
    if (!messageId) return;
    const nodeId: string = event.node?.id;
    const node = event.node?.node;
    const key = `${msg._msgid}|${nodeId}`;
    const entry = this.atNode.get(key);
    this.atNode.delete(key);
    const error = event.error;
    if (entry) this.finishHop(entry.hop, error);
    const snapshot = entry?.snapshot ?? storableMessage(msg);
    const work = error
      ? this.failed(messageId, snapshot, error, { nodeId, nodeType: node?.type, nodeName: node?.name })
      : msg.delivery?.target === 'hub' && msg.delivery.id
        ? this.journal.hubStagePassed(msg.delivery.id, nodeId)
        : undefined;
    work?.catch((err) => this.warn(`could not record the outcome of node ${nodeId} for message ${messageId}: ${(err as Error).message}`));
  }

  private finishHop(hop: Hop, error?: unknown): void {
    const finishedAt = Date.now();
    this.hopBuffer.push({
      ...hop,
      finishedAt,
      durationMs: finishedAt - hop.startedAt,
      ...(error ? { error: String((error as Error)?.message ?? error) } : {}),
    });
  }

  private async failed(messageId: string, snapshot: StoredMessage, error: unknown, where: { nodeId: string; nodeType?: string; nodeName?: string }): Promise<void> {
    const resume: ResumePoint = { nodeId: where.nodeId, how: 'receive', msg: snapshot };
    const delivery = snapshot.delivery as { id?: string; attempt?: number } | undefined;
    if (delivery?.id) await this.journal.fail(delivery.id, error, where, resume, delivery.attempt);
    else await this.journal.failBeforeDelivery(messageId, error, where, resume);
  }

  /**
   * A Catch node saw a failure (msg.error.source names the node). Nodes that report errors
   * with node.error(err, msg) instead of done(err) are only seen this way. A failure the
   * hooks have already recorded is not counted twice.
   */
  async caught(msg: any): Promise<DeliveryRecord | undefined> {
    const messageId = journalledId(msg);
    const source = msg?.error?.source;
    if (!messageId || !source?.id) throw new Error('journal: a caught failure needs msg.journal (from a journal node) and msg.error.source (from a Catch node)');
    const key = `${msg._msgid}|${source.id}`;
    const entry = this.atNode.get(key);
    this.atNode.delete(key);
    if (entry) this.finishHop(entry.hop, msg.error.message);
    const { error, ...rest } = msg;
    const snapshot = entry?.snapshot ?? storableMessage(rest);
    const err = Object.assign(new Error(String(error?.message ?? 'failed')), error?.code ? { code: error.code } : {});
    await this.failed(messageId, snapshot, err, { nodeId: source.id, nodeType: source.type, nodeName: source.name });
    const deliveryId = (snapshot.delivery as { id?: string } | undefined)?.id;
    return deliveryId ? this.journal.store.getDelivery(deliveryId) : undefined;
  }

  private forgetOld(all = false): void {
    const limit = Date.now() - FORGET_AFTER_MS;
    for (const [key, entry] of this.atNode) {
      if (all || entry.hop.startedAt < limit) {
        this.atNode.delete(key);
        this.hopBuffer.push({ ...entry.hop, error: 'no completion reported by the node' });
        if (all && this.atNode.size < MAX_TRACKED / 2) break;
      }
    }
  }

  async flushHops(): Promise<void> {
    if (!this.hopBuffer.length) return;
    const hops = this.hopBuffer;
    this.hopBuffer = [];
    try {
      await this.journal.store.appendHops(hops);
    } catch (err) {
      this.warn(`could not store ${hops.length} hops: ${(err as Error).message}`);
    }
  }

  // ---- running stored messages ---------------------------------------------------------

  /** Runs a stored message from a node: send (as that node would) or receive (re-run it). */
  run(task: RunTask): void {
    if (!this.ready) {
      this.queued.push(task);
      return;
    }
    const { resume, delivery } = task;
    const node = this.runtime.getNode(resume.nodeId);
    if (!node) {
      const reason = `node ${resume.nodeId} is no longer in the deployed flows`;
      if (delivery) {
        this.journal
          .fail(delivery.id, Object.assign(new Error(reason), { transient: false }), { nodeId: resume.nodeId }, resume, delivery.attempts)
          .catch((err) => this.warn(`${reason}, and recording it failed: ${(err as Error).message}`));
      } else this.warn(`${reason}: message ${task.message?.id} cannot be resumed; replay it from the console`);
      return;
    }
    const msg = copyOf(resume.msg) as any;
    if (delivery && msg.delivery?.id === delivery.id) msg.delivery = deliveryTag(delivery);
    try {
      if (resume.how === 'send') node.send(msg);
      else node.receive(msg);
    } catch (err) {
      this.warn(`running node ${resume.nodeId} again failed: ${(err as Error).message}`);
    }
  }

  private async poll(): Promise<void> {
    if (!this.ready || this.polling) return;
    this.polling = true;
    try {
      this.forgetOld();
      await this.journal.claimDue();
    } catch (err) {
      this.warn(`retry poll failed: ${(err as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async prune(): Promise<void> {
    try {
      await this.journal.prune(this.options.retentionMs ?? 30 * 24 * 60 * 60 * 1000);
    } catch (err) {
      this.warn(`retention run failed: ${(err as Error).message}`);
    }
  }
}
