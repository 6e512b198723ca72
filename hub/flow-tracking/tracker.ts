import type { EventEmitter } from 'events';
import { Journal, RunTask, deliveryTag } from '../journal/journal';
import { copyOf, storableJson, storableMessage } from '../journal/snapshot';
import type { Hop as JournalHop, ResumePoint, StoredMessage } from '../journal/types';
import type { Hop, MessageObserver } from '../runtime/message-observer';

/**
 * Follows journalled messages through Node-RED, for any node (core nodes included), from
 * the message observer's events (hub/runtime/message-observer.ts):
 *  - entered: the message is about to enter a node. A copy is kept (in memory) so that a
 *    failure there can be retried and replayed from that node with the message as it was.
 *  - failed: the node reported an error (done(err) or node.error(err, msg)). It becomes a
 *    failed delivery that will re-run that node: the one path by which failures reach the
 *    journal, so flows need no Catch node to be journalled.
 *  - finished: the hop (node, timings, error) goes to the journal's provenance.
 * It also runs what the journal asks to run (retries, released deliveries, replays,
 * recovery) with RED.nodes.getNode(id).receive(msg) or .send(msg), polls for due retries,
 * and prunes by the retention setting.
 */
export interface FlowRuntime {
  observer: MessageObserver;
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
  /** The retention run itself (hub/privacy/retention.ts); without it, settled records older than retentionMs are pruned. */
  retention?: () => Promise<unknown>;
  /** Recover this instance's interrupted work when the flows first start. Default true. */
  recover?: boolean;
}

function journalledId(msg: any): string | undefined {
  // A duplicate (a redelivery of a stored message, say while its first consumer was paused)
  // is no part of the stored message's journey: ending it must not mark that message routed.
  if (msg?.journal?.duplicate) return undefined;
  const id = msg?.journal?.messageId;
  return typeof id === 'string' ? id : undefined;
}

/** A journalled message on its way through the flow: copies in transit, and hops at work. */
interface Journey {
  messageId: string;
  inTransit: number;
  atWork: number;
  since: number;
}

/** A journey not heard of for this long is forgotten (a node that never finished): a restart runs it again. */
const JOURNEY_FORGOTTEN_MS = 60 * 60 * 1000;

export class FlowTracker {
  /** The message as it entered each hop under way, for a retry from that node. */
  /** The message as it entered each node at work, as JSON text with its delivery tag: a retry runs
   * the node again from it. Kept as text (parsed only if the node fails): most nodes do not. */
  private readonly snapshots = new Map<Hop, { json: string; delivery?: { id?: string; target?: string; attempt?: number } }>();
  /** Journalled messages under way, by Node-RED's _msgid, until their journey has run to its end. */
  private readonly journeys = new Map<string, Journey>();
  /** The hops counted as at work on a journey. */
  private readonly counted = new Set<Hop>();
  private hopBuffer: JournalHop[] = [];
  private readonly queued: RunTask[] = [];
  private ready = false;
  private recovered = false;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe?: () => void;
  private readonly onRun = (task: RunTask) => this.run(task);
  private readonly onStarted = () => this.flowsStarted();
  private readonly onStopped = () => (this.ready = false);
  private polling = false;

  constructor(
    readonly journal: Journal,
    private readonly runtime: FlowRuntime,
    private readonly options: FlowTrackerOptions = {},
  ) {}

  /** Subscribes to the observer and starts the retry poller; runs recovery once the flows start. */
  start(): void {
    this.unsubscribe = this.runtime.observer.subscribe({
      sent: (msgid, msg) => this.sent(msgid, msg),
      arrived: (msgid) => this.arrived(msgid),
      entered: (hop) => this.entered(hop),
      failed: (hop, error) => this.failed(hop, error),
      finished: (hop) => this.finished(hop),
    });
    this.journal.on('run', this.onRun);
    this.runtime.events.on('flows:started', this.onStarted);
    this.runtime.events.on('flows:stopped', this.onStopped);
    const poll = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    const flush = setInterval(() => void this.flushHops(), 250);
    const prune = setInterval(() => void this.prune(), this.options.pruneEveryMs ?? 60 * 60 * 1000);
    const forget = setInterval(() => this.forgetOldJourneys(), 60 * 1000);
    this.timers = [poll, flush, prune, forget];
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.journal.off('run', this.onRun);
    this.runtime.events.off('flows:started', this.onStarted);
    this.runtime.events.off('flows:stopped', this.onStopped);
    this.unsubscribe?.();
    this.ready = false;
    await this.flushHops();
  }

  private warn(message: string): void {
    if (this.runtime.log) this.runtime.log.warn(`journal: ${message}`);
    else console.warn(`journal: ${message}`);
  }

  private flowsStarted(): void {
    this.runtime.observer.install();
    this.ready = true;
    const waiting = this.queued.splice(0);
    for (const task of waiting) this.run(task);
    if (!this.recovered && this.options.recover !== false) {
      this.recovered = true;
      this.journal.recover().catch((err) => this.warn(`recovery after restart failed: ${(err as Error).message}`));
    }
  }

  // ---- observer events (they must never throw or hold the message up) -------------------

  // A journey has run to its end when no copy of the message is in transit and no node is
  // at work on it (as hub/runtime/settlement.ts counts). Then its message is 'routed'.
  private sent(msgid: string, msg: unknown): void {
    const messageId = journalledId(msg);
    if (!messageId) return;
    let journey = this.journeys.get(msgid);
    if (!journey || journey.messageId !== messageId) {
      journey = { messageId, inTransit: 0, atWork: 0, since: Date.now() };
      this.journeys.set(msgid, journey);
    }
    journey.inTransit += 1;
  }

  private arrived(msgid: string): void {
    const journey = this.journeys.get(msgid);
    if (!journey) return;
    journey.inTransit = Math.max(0, journey.inTransit - 1);
    this.completeIfIdle(msgid);
  }

  private completeIfIdle(msgid: string): void {
    const journey = this.journeys.get(msgid);
    if (!journey || journey.inTransit > 0 || journey.atWork > 0) return;
    // A tick later: a Catch or a send from the finishing node may still be on its way.
    setImmediate(() => {
      const again = this.journeys.get(msgid);
      if (again !== journey || again.inTransit > 0 || again.atWork > 0) return;
      this.journeys.delete(msgid);
      this.journal.journeyComplete(journey.messageId).catch((err) => this.warn(`could not record that message ${journey.messageId} has run its journey: ${(err as Error).message}`));
    });
  }

  private forgetOldJourneys(): void {
    const before = Date.now() - JOURNEY_FORGOTTEN_MS;
    for (const [msgid, journey] of this.journeys) if (journey.since < before) this.journeys.delete(msgid);
    if (!this.journeys.size) this.counted.clear();
  }

  private entered(hop: Hop): void {
    const journey = this.journeys.get(hop.msgid);
    if (journey && journalledId(hop.msg) === journey.messageId) {
      journey.inTransit = Math.max(0, journey.inTransit - 1);
      journey.atWork += 1;
      this.counted.add(hop);
    }
    if (!journalledId(hop.msg)) return;
    try {
      const delivery = (hop.msg as { delivery?: { id?: string; target?: string; attempt?: number } }).delivery;
      this.snapshots.set(hop, { json: storableJson(hop.msg), ...(delivery ? { delivery: { id: delivery.id, target: delivery.target, attempt: delivery.attempt } } : {}) });
    } catch (err) {
      this.warn(`could not follow message ${journalledId(hop.msg)} into node ${hop.nodeId}: ${(err as Error).message}`);
    }
  }

  private failed(hop: Hop, error: unknown): void {
    const messageId = journalledId(hop.msg);
    if (!messageId) return;
    const kept = this.snapshots.get(hop);
    const snapshot = kept ? (JSON.parse(kept.json) as StoredMessage) : storableMessage(hop.msg);
    const resume: ResumePoint = { nodeId: hop.nodeId, how: 'receive', msg: snapshot };
    const where = { nodeId: hop.nodeId, nodeType: hop.node?.type, nodeName: hop.node?.name };
    const delivery = snapshot.delivery as { id?: string; attempt?: number } | undefined;
    const work = delivery?.id ? this.journal.fail(delivery.id, error, where, resume, delivery.attempt) : this.journal.failBeforeDelivery(messageId, error, where, resume);
    work.catch((err) => this.warn(`could not record the failure of node ${hop.nodeId} for message ${messageId}: ${(err as Error).message}`));
    if (!this.snapshots.has(hop)) this.recordHop(hop, messageId); // a failure outside any hop
  }

  private finished(hop: Hop): void {
    const messageId = journalledId(hop.msg);
    const snapshot = this.snapshots.get(hop);
    this.snapshots.delete(hop);
    const entered = snapshot ? { delivery: snapshot.delivery } : undefined;
    const journey = this.journeys.get(hop.msgid);
    if (journey) {
      // The journal node's own hop was not counted: the message had no tag when it entered.
      if (this.counted.delete(hop)) journey.atWork = Math.max(0, journey.atWork - 1);
      this.completeIfIdle(hop.msgid);
    } else this.counted.delete(hop);
    if (!messageId) return;
    this.recordHop(hop, messageId, entered);
    const delivery = (entered ?? hop.msg).delivery as { id?: string; target?: string } | undefined;
    if (hop.error === undefined && !hop.abandoned && delivery?.target === 'hub' && delivery.id) {
      this.journal.hubStagePassed(delivery.id, hop.nodeId).catch((err) => this.warn(`could not record that node ${hop.nodeId} passed message ${messageId}: ${(err as Error).message}`));
    }
  }

  private recordHop(hop: Hop, messageId: string, snapshot?: { delivery?: unknown }): void {
    const finishedAt = Date.now();
    const delivery = (snapshot ?? hop.msg).delivery as { id?: string } | undefined;
    const error = hop.abandoned ? 'no completion reported by the node' : hop.error !== undefined ? String((hop.error as Error)?.message ?? hop.error) : undefined;
    this.hopBuffer.push({
      messageId,
      msgid: hop.msgid,
      nodeId: hop.nodeId,
      startedAt: hop.startedAt,
      finishedAt,
      durationMs: finishedAt - hop.startedAt,
      ...(delivery?.id ? { deliveryId: delivery.id } : {}),
      ...(hop.node?.type ? { nodeType: hop.node.type } : {}),
      ...(hop.node?.name ? { nodeName: hop.node.name } : {}),
      ...(hop.node?.z ? { flowId: hop.node.z } : {}),
      ...(error ? { error } : {}),
    });
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
      await this.journal.claimDue();
    } catch (err) {
      this.warn(`retry poll failed: ${(err as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async prune(): Promise<void> {
    try {
      if (this.options.retention) await this.options.retention();
      else await this.journal.prune(this.options.retentionMs ?? 30 * 24 * 60 * 60 * 1000);
    } catch (err) {
      this.warn(`retention run failed: ${(err as Error).message}`);
    }
  }
}
