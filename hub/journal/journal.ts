import { createHash, randomUUID } from 'crypto';
import { EventEmitter } from 'events';
import { JournalMetrics } from './metrics';
import { isNewer } from './order';
import { defaultRetryPolicy, describeError, retryAtOf, retryDelayMs } from './retry';
import { demoCodec, PersonalDataCodec } from './sealing';
import {
  AuditRecord,
  Change,
  ConflictError,
  DeliveryError,
  DeliveryFilter,
  DeliveryMode,
  DeliveryRecord,
  DeliveryStatus,
  ErasureRecord,
  HUB_STAGE,
  JournalStore,
  MessageRecord,
  PurgeReport,
  ResumePoint,
  RetentionCutoffs,
  RetryPolicy,
  StoredMessage,
  everyItem,
} from './types';

/** What the flow runner is asked to do: run a stored message from a node. */
export interface RunTask {
  delivery?: DeliveryRecord;
  message?: MessageRecord;
  resume: ResumePoint;
}

export interface JournalOptions {
  store: JournalStore;
  /** This hub instance's name: in-flight work it owns is recovered when it restarts. */
  instance: string;
  /** Retry policy of failures before any delivery (target "hub"). */
  hubRetry?: RetryPolicy;
  metrics?: JournalMetrics;
  /** How long a target that answers later may take, unless its delivery says otherwise. Default 24 h. */
  answerTimeoutMs?: number;
  /** The codec the store seals with: its key also makes the audit's pseudonyms. */
  codec?: PersonalDataCodec;
  now?: () => number;
}

/** How long each kind of record is kept (hub/config.ts reads them; docs/data-protection.md lists them). */
export interface RetentionPeriods {
  settledMs: number;
  discardedMs: number;
  refusedMs: number;
  auditMs: number;
}

/** A message to store: where it came from and where its journey starts. */
export interface RecordInput {
  source: string;
  sourceMessageId?: string;
  key?: string;
  payload: unknown;
  entry: ResumePoint;
}

/** What msg.journal holds once the journal node has stored the message. */
export interface MessageTag {
  messageId: string;
  source: string;
  key?: string;
  sourceMessageId?: string;
  receivedAt: number;
  /** This copy is a duplicate of the stored message (a redelivery): it goes the duplicate way
   * and is no part of the stored message's journey (it must not end it). */
  duplicate?: true;
}

/** What msg.delivery holds while a delivery is under way; idempotencyKey goes to the target. */
export interface DeliveryTag {
  id: string;
  idempotencyKey: string;
  target: string;
  key: string;
  attempt: number;
  /** Where it stands among the key's deliveries: compared on (order, seq), as the journal does. */
  order: number;
  seq: number;
  received?: number;
}

export type StartResult =
  | { action: 'send'; delivery: DeliveryRecord }
  | { action: 'held'; delivery: DeliveryRecord }
  | { action: 'superseded'; delivery: DeliveryRecord }
  | { action: 'exists'; delivery: DeliveryRecord };

export type ReplayFrom = 'failed-node' | 'start';

export interface ReplayRequest {
  from: ReplayFrom;
  actor: string;
  reason: string;
  /** An edited payload: the replay runs an edited copy with a new message id. */
  payload?: unknown;
}

export interface ReplayResult {
  deliveryId: string;
  /** The delivery that runs now (the same one, or the edited copy's). */
  runs?: string;
  messageId?: string;
}

/** A request a person may not make now (replay a superseded delivery, discard a delivered one): HTTP 409. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/**
 * Does this delivery keep the later entries of its key waiting? One with the target (in
 * flight, or awaiting its answer) always does. One being retried does in a timeline (order is
 * kept) and at a target that answers later (it may hold the change already). A dead one does
 * in a timeline at a target that answers later (a payment Finance refused): what comes after
 * it (its refund) must not go before it, so it waits until a person replays or discards it.
 */
function holdsGate(d: DeliveryRecord, forTimeline: boolean, forAnswersLater: boolean): boolean {
  if (d.status === 'in-flight' || d.status === 'awaiting-answer') return true;
  if (d.status === 'failed') return forTimeline || forAnswersLater;
  if (d.status === 'dead') return forTimeline && forAnswersLater;
  return false;
}

const replayable: readonly DeliveryStatus[] = ['failed', 'dead', 'needs-attention', 'delivered', 'skipped', 'discarded'];
const discardable: readonly DeliveryStatus[] = ['pending', 'failed', 'dead', 'needs-attention'];
/** Statuses a target's late answer may settle (see answer()). */
const answerable: readonly DeliveryStatus[] = ['awaiting-answer', 'failed', 'in-flight'];
/** After a restart, interrupted deliveries wait this long, so that messages run again from their start find them waiting. */
const RECOVERY_HEAD_START_MS = 1000;

/** One delivery per (message, target, key): its id is derived from them, so a message run
 * through the flow again finds the delivery it already has instead of making another. */
export function deliveryIdOf(messageId: string, target: string, key: string): string {
  const h = createHash('sha256').update(`${messageId}\n${target}\n${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function deliveryTag(d: DeliveryRecord): DeliveryTag {
  return { id: d.id, idempotencyKey: d.idempotencyKey, target: d.target, key: d.key, attempt: d.attempts, order: d.order, seq: d.seq, ...(d.received !== undefined ? { received: d.received } : {}) };
}

export function messageTag(m: MessageRecord): MessageTag {
  return {
    messageId: m.id,
    source: m.source,
    receivedAt: m.receivedAt,
    ...(m.key !== undefined ? { key: m.key } : {}),
    ...(m.sourceMessageId !== undefined ? { sourceMessageId: m.sourceMessageId } : {}),
  };
}

/** Runs `work` on every item, at most `limit` at a time. */
async function eachAtMost<T>(limit: number, items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A skipped change to run again: the same delivery from its start, or a copy (see skippedToTryAgain). */
type TryAgain = { kind: 'same'; delivery: DeliveryRecord; audit: AuditRecord; resume: ResumePoint } | { kind: 'copy'; copyOf: DeliveryRecord; message: MessageRecord; reason: string };

/**
 * The journal: every message and every delivery, the per (target, key) order gate with
 * supersede, retries with backoff, dead letters, replay and discard with their audit. All
 * state is in the store; this class holds none, so several hub instances can share a Redis
 * store. It emits 'run' with a RunTask when a stored message must be run from a node (a
 * retry is due, a held delivery is released, a person replayed one, recovery): the flow
 * runner (hub/flow-tracking) does that in Node-RED.
 */
export class Journal extends EventEmitter {
  readonly store: JournalStore;
  readonly instance: string;
  private readonly hubRetry: RetryPolicy;
  private readonly metrics?: JournalMetrics;
  private readonly answerTimeoutMs: number;
  readonly codec: PersonalDataCodec;
  private readonly now: () => number;

  constructor(options: JournalOptions) {
    super();
    this.store = options.store;
    this.instance = options.instance;
    this.hubRetry = options.hubRetry ?? defaultRetryPolicy;
    this.metrics = options.metrics;
    this.answerTimeoutMs = options.answerTimeoutMs ?? 24 * 60 * 60 * 1000;
    this.codec = options.codec ?? demoCodec();
    this.now = options.now ?? Date.now;
  }

  /** Why a record that is not found is gone, when an erasure removed it. */
  private async erased(id: string, what: string): Promise<ErasureRecord | undefined> {
    const erasure = await this.store.erasureOf(id);
    if (erasure) this.emit('erased', { id, erasureId: erasure.id, what });
    return erasure;
  }

  // ---- messages ----------------------------------------------------------------------

  /**
   * Stores a message that entered the hub, before its sender is acknowledged. A message
   * whose (source, sourceMessageId) is already stored is a duplicate: the first is returned.
   */
  async record(input: RecordInput): Promise<{ duplicate: boolean; message: MessageRecord }> {
    const message = this.newMessage(input);
    const { inserted, message: stored } = await this.store.insertMessage(message);
    // Found under our own new id: Redis applied this very insert before a restart lost its
    // answer, and the client sent it again. Not a duplicate: it is ours and must run.
    return { duplicate: !inserted && stored.id !== message.id, message: stored };
  }

  /**
   * record() for many messages in one commit (a payment file's payments): one disk sync
   * instead of one per message. Each is a duplicate or not by itself, as with record().
   */
  async recordMany(inputs: RecordInput[]): Promise<Array<{ duplicate: boolean; message: MessageRecord }>> {
    if (!inputs.length) return [];
    const messages = inputs.map((input) => this.newMessage(input));
    const results = await this.store.insertMessages(messages);
    return results.map(({ inserted, message }, i) => ({ duplicate: !inserted && message.id !== messages[i].id, message }));
  }

  private newMessage(input: RecordInput): MessageRecord {
    if (!input.source) throw new Error('journal: a message needs a source (e.g. "crm")');
    const message: MessageRecord = {
      id: randomUUID(),
      source: input.source,
      ...(input.sourceMessageId ? { sourceMessageId: input.sourceMessageId } : {}),
      ...(input.key ? { key: input.key } : {}),
      payload: input.payload,
      receivedAt: this.now(),
      status: 'received',
      entry: input.entry,
      instance: this.instance,
      version: 1,
    };
    message.entry = { ...input.entry, msg: { ...input.entry.msg, journal: messageTag(message) } };
    return message;
  }

  /**
   * Something the hub refused whole (a payment file that failed its checks): kept and shown
   * as a dead letter at the pseudo-target "hub", with the reason, so that support staff see
   * it in the console. Refusing the same thing (source, sourceMessageId) again adds nothing.
   */
  async refuse(input: RecordInput & { error: unknown; where: { nodeId?: string; nodeType?: string; nodeName?: string } }): Promise<{ duplicate: boolean; message: MessageRecord; delivery?: DeliveryRecord }> {
    const { duplicate, message } = await this.record(input);
    if (duplicate) return { duplicate, message };
    const delivery = await this.failBeforeDelivery(message.id, input.error, input.where, message.entry);
    return { duplicate, message, delivery };
  }

  // ---- deliveries: start, settle, fail ------------------------------------------------

  private async commit(change: Change, before: Map<string, DeliveryRecord | undefined>): Promise<void> {
    await this.store.commit(change);
    for (const d of change.deliveries ?? []) this.metrics?.observe(before.get(d.id), d);
  }

  private lockName(target: string, key: string): string {
    return `${target}\n${key}`;
  }

  /**
   * The message's journey through the flow has run to its end (every branch reached its
   * delivery, or stopped): it is 'routed', and a restart no longer runs it from the start.
   * Until then a restart runs it again from its journal node, meeting the deliveries it has.
   */
  async journeyComplete(messageId: string): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const changes = await this.routed(messageId);
      if (!changes.length) return false;
      try {
        await this.store.commit({ messages: changes });
        return true;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err; // changed meanwhile: look again
      }
    }
    return false;
  }

  /** Marks the message routed (its journey has run, or a failure took it over) as part of a change. */
  private async routed(messageId: string): Promise<MessageRecord[]> {
    const message = await this.store.getMessage(messageId);
    if (!message || message.status === 'routed') return [];
    return [{ ...message, status: 'routed', version: message.version + 1 }];
  }

  private inFlight(d: DeliveryRecord, now: number): DeliveryRecord {
    // A new attempt has not reached the target yet, whatever an earlier one did.
    const { nextAttemptAt: _next, sentAt: _sent, runFromStart: _run, ...rest } = d;
    return { ...rest, status: 'in-flight', attempts: d.attempts + 1, owner: this.instance, updatedAt: now, firstAttemptAt: d.firstAttemptAt ?? now, version: d.version + 1 };
  }

  /**
   * Starts the delivery of a message to a target for a key (a person, a case). Deliveries of
   * one (target, key) run one at a time, in order; a newer change supersedes older ones not
   * yet delivered, and a change older than one already delivered or under way is
   * superseded at once. `msg` is the message as the delivery node sends it on (stored so a
   * held delivery can be sent later and a crashed one resumed).
   */
  async startDelivery(input: {
    messageId: string;
    target: string;
    key: string;
    order?: number;
    retry?: RetryPolicy;
    /** How this target's deliveries of a key relate (DeliveryMode); default latest. */
    mode?: DeliveryMode;
    nodeId: string;
    msg: StoredMessage;
  }): Promise<StartResult> {
    const { messageId, target, key } = input;
    if (!target) throw new Error('journal: a delivery needs a target');
    if (!key) throw new Error('journal: a delivery needs a key (a person, a case)');
    const id = deliveryIdOf(messageId, target, key);
    // The (target, key) lock serialises this delivery's key, but the message record is shared
    // by the deliveries of every target the message goes to, which start at the same time
    // (in one instance or several): a version conflict on it is met by reading again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startDeliveryOnce(input, id);
      } catch (err) {
        if (!(err instanceof ConflictError) || attempt >= 5) throw err;
      }
    }
  }

  private async startDeliveryOnce(
    input: { messageId: string; target: string; key: string; order?: number; retry?: RetryPolicy; mode?: DeliveryMode; nodeId: string; msg: StoredMessage },
    id: string,
  ): Promise<StartResult> {
    const { messageId, target, key } = input;
    return this.store.withKeyLock(this.lockName(target, key), async () => {
      const existing = await this.store.getDelivery(id);
      if (existing) {
        if (existing.status === 'in-flight') {
          // Only a replay from the start sends an attempt already in flight; any other run meeting it stops.
          if (!existing.runFromStart) return { action: 'exists', delivery: existing };
          const { runFromStart: _r, ...sending } = existing;
          const taken: DeliveryRecord = { ...sending, version: existing.version + 1 };
          await this.commit({ deliveries: [taken] }, new Map([[existing.id, existing]]));
          return { action: 'send', delivery: taken };
        }
        if (existing.status === 'pending') return { action: 'held', delivery: existing };
        return { action: 'exists', delivery: existing };
      }
      const message = await this.store.getMessage(messageId);
      if (!message) throw new Error(`journal: message ${messageId} is not in the journal (is a journal node before the delivery node?)`);
      const now = this.now();
      const seq = await this.store.nextSeq();
      const tagged: DeliveryRecord = {
        id,
        messageId,
        target,
        key,
        order: input.order ?? message.receivedAt,
        seq,
        received: message.receivedAt,
        status: 'pending',
        idempotencyKey: id,
        attempts: 0,
        retry: input.retry ?? defaultRetryPolicy,
        startNodeId: input.nodeId,
        ...(input.mode?.timeline ? { timeline: true } : {}),
        ...(input.mode?.answersLater ? { answersLater: true } : {}),
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      tagged.resume = { nodeId: input.nodeId, how: 'send', msg: { ...input.msg, delivery: deliveryTag(tagged) } };
      const before = new Map<string, DeliveryRecord | undefined>();
      const latest = await this.store.latestDelivery(target, key);
      // The message stays 'received' here: it is routed only once its whole journey through the
      // flow has run (journeyComplete), so a crash between its first delivery and its last loses none.
      // A timeline keeps every entry: an update that arrives late is still added.
      if (!tagged.timeline && latest && isNewer(latest, tagged)) {
        const stale: DeliveryRecord = { ...tagged, status: 'superseded', supersededBy: latest.id, settledAt: now, reason: `a newer change (delivery ${latest.id}) was already ${latest.status}` };
        await this.commit({ deliveries: [stale] }, before);
        return { action: 'superseded', delivery: stale };
      }
      const changes: DeliveryRecord[] = [];
      let blocker: DeliveryRecord | undefined;
      for (const open of await this.store.openDeliveries(target, key)) {
        before.set(open.id, open);
        if (holdsGate(open, !!tagged.timeline, !!tagged.answersLater)) blocker = open;
        // A timeline supersedes nothing; waiting entries (and dead ones) wait on.
        else if (tagged.timeline) continue;
        else changes.push(this.superseded(open, id, now));
      }
      const started = blocker ? tagged : this.inFlight({ ...tagged, version: 0 }, now);
      if (!blocker) started.resume = { ...tagged.resume, msg: { ...tagged.resume.msg, delivery: deliveryTag(started) } };
      await this.commit({ deliveries: [...changes, started] }, before);
      return { action: blocker ? 'held' : 'send', delivery: started };
    });
  }

  private superseded(d: DeliveryRecord, by: string, now: number): DeliveryRecord {
    const { nextAttemptAt: _next, owner: _owner, ...rest } = d;
    return { ...rest, status: 'superseded', supersededBy: by, settledAt: now, updatedAt: now, version: d.version + 1 };
  }

  /** The newest held delivery of a key, released to run now, with the changes that go with it. */
  private async release(target: string, key: string, except: string, now: number, before: Map<string, DeliveryRecord | undefined>) {
    const open = (await this.store.openDeliveries(target, key)).filter((d) => d.id !== except);
    const pending = open.filter((d) => d.status === 'pending');
    if (!pending.length) return { changes: [] as DeliveryRecord[], released: undefined };
    // Another change still holds the gate (a timeline entry being retried): nothing goes yet.
    if (open.some((d) => holdsGate(d, !!d.timeline, !!d.answersLater))) {
      return { changes: [] as DeliveryRecord[], released: undefined };
    }
    pending.sort((a, b) => (isNewer(a, b) ? -1 : 1));
    if (pending[0].timeline) {
      // A timeline: the oldest waiting entry goes next; the others wait their turn.
      const oldest = pending[pending.length - 1];
      before.set(oldest.id, oldest);
      const released = this.inFlight(oldest, now);
      released.resume = { ...oldest.resume!, msg: { ...oldest.resume!.msg, delivery: deliveryTag(released) } };
      return { changes: [released], released };
    }
    const [newest, ...older] = pending;
    for (const d of pending) before.set(d.id, d);
    const released = this.inFlight(newest, now);
    released.resume = { ...newest.resume!, msg: { ...newest.resume!.msg, delivery: deliveryTag(released) } };
    return { changes: [released, ...older.map((d) => this.superseded(d, newest.id, now))], released };
  }

  /**
   * Ends an in-flight delivery: delivered, skipped (policy said no; with a reason) or
   * needs-attention (a person must decide; with a reason and the candidates). Releases the
   * next held delivery of the same key. A delivery that is no longer in flight (superseded
   * or discarded meanwhile) is left as it is: `changed` is false.
   */
  async settle(
    deliveryId: string,
    outcome: 'delivered' | 'skipped' | 'needs-attention',
    detail: { reason?: string; candidates?: unknown } = {},
    /** Statuses the delivery may be settled from. A target's own late answer (an ack file)
     * may also settle a delivery that is waiting to be retried: the target took it after all. */
    from: readonly DeliveryStatus[] = ['in-flight'],
  ): Promise<{ changed: boolean; delivery: DeliveryRecord }> {
    const found = await this.store.getDelivery(deliveryId);
    if (!found) {
      const erasure = await this.erased(deliveryId, `settle as ${outcome}`);
      if (erasure) throw new RefusedError(erasedReason(deliveryId, erasure));
      throw new NotFoundError(`journal: no delivery ${deliveryId}`);
    }
    return this.store.withKeyLock(this.lockName(found.target, found.key), async () => {
      const d = await this.store.getDelivery(deliveryId);
      if (!d) throw new RefusedError(`journal: delivery ${deliveryId} was erased meanwhile`);
      if (!from.includes(d.status) || this.fenced(d, `settle as ${outcome}`)) return { changed: false, delivery: d };
      const now = this.now();
      const before = new Map<string, DeliveryRecord | undefined>([[d.id, d]]);
      const { release, changes, settled } = await this.settleChanges(d, outcome, detail, now, before);
      const again = outcome === 'delivered' && !release && !d.timeline ? await this.skippedToTryAgain(d, now, before) : undefined;
      await this.commitWithAgain(settled, changes, again, before);
      if (release) this.emit('run', { delivery: release, resume: release.resume! } satisfies RunTask);
      const afterOlder = outcome === 'skipped' && !release && !d.timeline ? await this.skippedAfterOlder(settled) : undefined;
      if (afterOlder) await this.tryAgain(afterOlder);
      return { changed: true, delivery: settled };
    });
  }

  /** Runs a skipped change again (skippedAfterOlder): the same delivery from its start, or a copy. */
  private async tryAgain(again: TryAgain | { kind: 'rerun'; delivery: DeliveryRecord; message: MessageRecord; reason: string }): Promise<void> {
    if (again.kind === 'rerun') await this.replayStored(again.delivery, again.message, { from: 'start', actor: 'hub', reason: again.reason });
    else if (again.kind === 'copy') await this.replayEdited(again.copyOf, again.message, { from: 'start', actor: 'hub', reason: again.reason, payload: again.message.payload });
  }

  /**
   * An older change delivered after a newer one was skipped: the newer one may have been
   * skipped only because the system did not know the person yet at the address that change
   * left (the older change was still on its way: redelivered after an instance died, or
   * retried). It runs again from its start, now that the system knows them. Audited as the
   * hub's own replay.
   */
  private async skippedToTryAgain(d: DeliveryRecord, now: number, before: Map<string, DeliveryRecord | undefined>): Promise<TryAgain | undefined> {
    const ofKey = await this.store.deliveriesOfKey(d.target, d.key);
    if (ofKey.some((o) => o.id !== d.id && (o.status === 'in-flight' || o.status === 'pending'))) return undefined;
    const newer = ofKey.filter((o) => o.status === 'skipped' && !o.timeline && isNewer(o, d)).sort((a, b) => (isNewer(a, b) ? -1 : 1))[0];
    // Not when something newer than the skipped change was delivered since: that one holds.
    if (!newer || ofKey.some((o) => o.status === 'delivered' && o.id !== d.id && isNewer(o, newer))) return undefined;
    const message = await this.store.getMessage(newer.messageId);
    if (!message || message.resolvedBy) return undefined;
    const reason = `an older change (delivery ${d.id}) reached ${d.target} after this one was skipped (${newer.reason ?? 'no reason given'}); tried again`;
    // A target that answers later remembers its answer to a request id: a copy goes instead.
    if (newer.answersLater) return { kind: 'copy', copyOf: newer, message, reason };
    before.set(newer.id, newer);
    const delivery: DeliveryRecord = { ...this.inFlight(newer, now), runFromStart: true };
    const audit = this.audit('replay', 'hub', reason, newer, { from: 'start', previousStatus: 'skipped', attempt: delivery.attempts });
    return { kind: 'same', delivery, audit, resume: message.entry };
  }

  /**
   * This change is being skipped, but it was judged without an older change of the person:
   * one the target took after this one was handed over (its late answer came meanwhile), or
   * one that reached the hub after this one was made (a redelivery from an instance that died
   * or was paused), superseded by it at once and so never sent. The target still holds what
   * it held before that older change: the change runs again from its start, where the address
   * the target holds is worked out again. A target that answers later remembers its answer to
   * a request id: a copy goes instead.
   */
  private async skippedAfterOlder(skipped: DeliveryRecord): Promise<TryAgain | { kind: 'rerun'; delivery: DeliveryRecord; message: MessageRecord; reason: string } | undefined> {
    const handedOver = skipped.sentAt ?? skipped.updatedAt;
    const ofKey = await this.store.deliveriesOfKey(skipped.target, skipped.key);
    const others = ofKey.filter((o) => o.id !== skipped.id);
    const older = others.find(
      (o) => isNewer(skipped, o) && ((o.status === 'delivered' && (o.settledAt ?? 0) > handedOver) || (o.status === 'superseded' && o.createdAt > skipped.createdAt && o.supersededBy === skipped.id)),
    );
    if (!older || skipped.triedAgainAfter === older.id || others.some((o) => o.status === 'in-flight' || o.status === 'pending' || (o.status === 'delivered' && isNewer(o, skipped)))) return undefined;
    const message = await this.store.getMessage(skipped.messageId);
    if (!message || message.resolvedBy) return undefined;
    const reason = `an older change (delivery ${older.id}) ${older.status === 'delivered' ? `reached ${skipped.target} after this one was handed over` : 'reached the hub after this one'}; tried again`;
    return skipped.answersLater ? { kind: 'copy', copyOf: skipped, message, reason } : { kind: 'rerun', delivery: { ...skipped, triedAgainAfter: older.id }, message, reason };
  }

  private async commitWithAgain(settled: DeliveryRecord, changes: DeliveryRecord[], again: TryAgain | undefined, before: Map<string, DeliveryRecord | undefined>): Promise<void> {
    const same = again?.kind === 'same' ? again : undefined;
    await this.commit({ deliveries: [settled, ...changes, ...(same ? [same.delivery] : [])], ...(same ? { audit: [same.audit] } : {}) }, before);
    if (same) this.emit('run', { delivery: same.delivery, resume: same.resume } satisfies RunTask);
    if (again?.kind === 'copy') await this.replayEdited(again.copyOf, again.message, { from: 'start', actor: 'hub', reason: again.reason, payload: again.message.payload });
  }

  private async settleChanges(d: DeliveryRecord, outcome: DeliveryStatus, detail: { reason?: string; candidates?: unknown; lastError?: DeliveryError }, now: number, before: Map<string, DeliveryRecord | undefined>) {
    const { owner: _owner, nextAttemptAt: _next, ...rest } = d;
    let settled: DeliveryRecord = {
      ...rest,
      status: outcome,
      updatedAt: now,
      settledAt: now,
      version: d.version + 1,
      ...(detail.reason !== undefined ? { reason: detail.reason } : {}),
      ...(detail.candidates !== undefined ? { candidates: detail.candidates } : {}),
      ...(detail.lastError ? { lastError: detail.lastError } : {}),
    };
    // A dead timeline entry at a target that answers later keeps the next ones waiting (holdsGate).
    const keepsWaiting = outcome === 'dead' && holdsGate({ ...d, status: 'dead' }, !!d.timeline, !!d.answersLater);
    const { changes, released } = keepsWaiting ? { changes: [] as DeliveryRecord[], released: undefined } : await this.release(d.target, d.key, d.id, now, before);
    // A newer change waiting behind this one makes an unfinished outcome moot (not in a
    // timeline, where every entry counts: it waits for a person while the next ones go).
    if (released && !d.timeline && (outcome === 'needs-attention' || outcome === 'failed' || outcome === 'dead')) {
      settled = { ...settled, status: 'superseded', supersededBy: released.id };
    }
    return { settled, changes, release: released };
  }

  /**
   * Records that an in-flight delivery failed at a node. `resume` is where a retry runs it
   * again: the failing node with the message as it entered that node. A transient error
   * is retried after a backoff; a permanent one, or the last allowed attempt, makes it a
   * dead letter. `attempt` (msg.delivery.attempt) makes the report idempotent: the hook and
   * a Catch node may both report the same failure, and only the first counts.
   */
  async fail(deliveryId: string, error: unknown, where: { nodeId?: string; nodeType?: string; nodeName?: string }, resume: ResumePoint, attempt?: number): Promise<DeliveryRecord | undefined> {
    const found = await this.store.getDelivery(deliveryId);
    if (!found) return undefined;
    return this.store.withKeyLock(this.lockName(found.target, found.key), async () => {
      const d = (await this.store.getDelivery(deliveryId))!;
      if (d.status !== 'in-flight' || (attempt !== undefined && attempt !== d.attempts) || this.fenced(d, 'record a failure')) return undefined;
      const now = this.now();
      const lastError = describeError(error, d.retry.unclassified, where, now);
      // A wait (waitUntil) is not a failed attempt: it goes again at its time, whatever the count.
      const waitTill = retryAtOf(error);
      const waiting = waitTill !== undefined && waitTill > now;
      const giveUp = !waiting && (lastError.classification === 'permanent' || d.attempts >= d.retry.maxAttempts);
      const before = new Map<string, DeliveryRecord | undefined>([[d.id, d]]);
      // What the delivery is about stays readable once the retry point moves past the delivery node.
      const leavesDeliveryNode = d.atDelivery === undefined && d.resume !== undefined && d.resume.nodeId === d.startNodeId && resume.nodeId !== d.startNodeId;
      const failed = { ...d, resume, ...(leavesDeliveryNode ? { atDelivery: d.resume!.msg } : {}) };
      if (giveUp) {
        const { release, changes, settled } = await this.settleChanges(failed, 'dead', { lastError }, now, before);
        await this.commit({ deliveries: [settled, ...changes] }, before);
        if (release) this.emit('run', { delivery: release, resume: release.resume! } satisfies RunTask);
        return settled;
      }
      // A retry keeps the gate of a timeline and of a target that answers later; otherwise a
      // newer change waiting behind makes this one moot.
      const { released: release, changes } = d.timeline || d.answersLater ? { released: undefined, changes: [] as DeliveryRecord[] } : await this.release(d.target, d.key, d.id, now, before);
      const { owner: _owner, ...rest } = failed;
      const next: DeliveryRecord = release
        ? { ...this.superseded(failed, release.id, now), lastError }
        : waiting
          ? { ...rest, status: 'failed', lastError, attempts: Math.max(0, d.attempts - 1), nextAttemptAt: waitTill, updatedAt: now, version: d.version + 1 }
          : { ...rest, status: 'failed', lastError, nextAttemptAt: now + retryDelayMs(d.retry, d.attempts), updatedAt: now, version: d.version + 1 };
      await this.commit({ deliveries: [next, ...changes] }, before);
      if (release) this.emit('run', { delivery: release, resume: release.resume! } satisfies RunTask);
      return next;
    });
  }

  /**
   * A message failed before it reached any delivery (mapping, validation, routing): it
   * becomes a delivery to the pseudo-target "hub", retried and replayed like any other,
   * from the node that failed. It is delivered once that node has run through.
   */
  async failBeforeDelivery(messageId: string, error: unknown, where: { nodeId?: string; nodeType?: string; nodeName?: string }, resume: ResumePoint): Promise<DeliveryRecord | undefined> {
    const message = await this.store.getMessage(messageId);
    if (!message) return undefined;
    const id = deliveryIdOf(messageId, HUB_STAGE, messageId);
    const existing = await this.store.getDelivery(id);
    if (existing) return this.fail(id, error, where, resume);
    const now = this.now();
    const d: DeliveryRecord = {
      id,
      messageId,
      target: HUB_STAGE,
      key: messageId,
      order: message.receivedAt,
      seq: await this.store.nextSeq(),
      status: 'in-flight',
      idempotencyKey: id,
      attempts: 1,
      retry: this.hubRetry,
      owner: this.instance,
      createdAt: now,
      updatedAt: now,
      firstAttemptAt: now,
      version: 1,
    };
    try {
      await this.commit({ deliveries: [d], messages: await this.routed(messageId) }, new Map());
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
    return this.fail(id, error, where, resume);
  }

  /** The node a "hub" stage delivery failed at has now run through: it is delivered. */
  async hubStagePassed(deliveryId: string, nodeId: string): Promise<void> {
    const d = await this.store.getDelivery(deliveryId);
    if (d?.target === HUB_STAGE && d.status === 'in-flight' && d.lastError?.nodeId === nodeId) await this.settle(deliveryId, 'delivered');
  }

  // ---- retries and recovery ------------------------------------------------------------

  /** Takes the retries that are due (up to `limit`), marks them in flight and asks for them to run. */
  async claimDue(limit = 50): Promise<DeliveryRecord[]> {
    const now = this.now();
    const claimed: DeliveryRecord[] = [];
    for (const due of await this.store.dueDeliveries(now, limit)) {
      if (due.status === 'awaiting-answer') {
        await this.answerOverdue(due, now);
        continue;
      }
      try {
        const started = await this.store.withKeyLock(this.lockName(due.target, due.key), async () => {
          const d = await this.store.getDelivery(due.id);
          if (!d || d.status !== 'failed' || (d.nextAttemptAt ?? 0) > now) return undefined;
          const next = this.inFlight(d, now);
          next.resume = d.resume && { ...d.resume, msg: { ...d.resume.msg, delivery: deliveryTag(next) } };
          await this.commit({ deliveries: [next] }, new Map([[d.id, d]]));
          return next;
        });
        if (started) {
          claimed.push(started);
          this.emit('run', { delivery: started, resume: started.resume! } satisfies RunTask);
        }
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err; // another instance took it first
      }
    }
    return claimed;
  }

  /**
   * The change is with the target, which answers later (Revenues' and Finance's ack files):
   * the delivery is awaiting-answer until that answer comes (answer()), or needs attention
   * once the target's time limit passes. A restart does not send it again. The order gate
   * stays closed meanwhile: a newer change for the key waits for the answer.
   */
  async awaitAnswer(deliveryId: string): Promise<boolean> {
    const found = await this.store.getDelivery(deliveryId);
    if (!found) throw new NotFoundError(`journal: no delivery ${deliveryId}`);
    return this.store.withKeyLock(this.lockName(found.target, found.key), async () => {
      const d = await this.store.getDelivery(deliveryId);
      if (!d || d.status !== 'in-flight' || this.fenced(d, 'hand over to await an answer')) return false;
      const now = this.now();
      const { owner: _owner, ...rest } = d;
      const waiting: DeliveryRecord = {
        ...rest,
        status: 'awaiting-answer',
        sentAt: now,
        nextAttemptAt: now + (d.retry.answerWithinMs ?? this.answerTimeoutMs),
        updatedAt: now,
        version: d.version + 1,
      };
      await this.commit({ deliveries: [waiting] }, new Map([[d.id, d]]));
      return true;
    });
  }

  /**
   * The target's own answer to a change it was handed (an ack file's row): accepted
   * (delivered), no relationship (skipped), or rejected (dead at once: the same row would be
   * rejected again; a person fixes and replays it). The answer is the truth also for a
   * delivery that is waiting for a retry (after a restart its row was sent again and that
   * attempt failed, but the first file had reached the target), still marked in flight, or
   * needing attention because the answer was overdue. Answers for deliveries in any other
   * status (settled, superseded or discarded meanwhile) change nothing.
   */
  async answer(
    deliveryId: string,
    answer: { outcome: 'delivered' } | { outcome: 'skipped'; reason: string } | { outcome: 'rejected'; error: unknown; where?: { nodeId?: string; nodeType?: string; nodeName?: string } },
  ): Promise<{ changed: boolean; delivery?: DeliveryRecord; erased?: string }> {
    const found = await this.store.getDelivery(deliveryId);
    if (!found) {
      // A late answer for an erased person changes nothing and brings nothing back.
      const erasure = await this.erased(deliveryId, `answer ${answer.outcome}`);
      return erasure ? { changed: false, erased: erasedReason(deliveryId, erasure) } : { changed: false };
    }
    return this.store.withKeyLock(this.lockName(found.target, found.key), async () => {
      const d = await this.store.getDelivery(deliveryId);
      if (!d) return { changed: false };
      // A change that timed out waiting is with a person; its answer arriving after all settles it.
      const overdue = d.status === 'needs-attention' && d.sentAt !== undefined;
      // A change superseded once its answer was overdue (a newer one went meanwhile) but which
      // the target took all the same: the target has it, so the journal says so, and a newer
      // change judged without it is tried again (skippedToTryAgain).
      const tookAfterAll = d.status === 'superseded' && answer.outcome === 'delivered';
      if (!answerable.includes(d.status) && !overdue && !tookAfterAll) return { changed: false, delivery: d };
      const now = this.now();
      const before = new Map<string, DeliveryRecord | undefined>([[d.id, d]]);
      const detail =
        answer.outcome === 'rejected'
          ? { lastError: describeError(answer.error, 'permanent', answer.where ?? {}, now) }
          : answer.outcome === 'skipped'
            ? { reason: answer.reason }
            : {};
      const { supersededBy: _by, ...unsuperseded } = d;
      const { release, changes, settled } = tookAfterAll
        ? { release: undefined, changes: [] as DeliveryRecord[], settled: { ...unsuperseded, status: 'delivered' as const, reason: `${d.target} took it after all (its answer came after delivery ${d.supersededBy} superseded it)`, updatedAt: now, settledAt: now, version: d.version + 1 } }
        : await this.settleChanges(d, answer.outcome === 'rejected' ? 'dead' : answer.outcome, detail, now, before);
      const again = answer.outcome === 'delivered' && !release && !d.timeline ? await this.skippedToTryAgain(d, now, before) : undefined;
      await this.commitWithAgain(settled, changes, again, before);
      if (release) this.emit('run', { delivery: release, resume: release.resume! } satisfies RunTask);
      const afterOlder = answer.outcome === 'skipped' && !release && !d.timeline ? await this.skippedAfterOlder(settled) : undefined;
      if (afterOlder) await this.tryAgain(afterOlder);
      return { changed: true, delivery: settled };
    });
  }

  /** Deliveries whose target did not answer in time: a person must find out what happened. */
  private async answerOverdue(due: DeliveryRecord, now: number): Promise<void> {
    const waitedMs = now - (due.sentAt ?? due.updatedAt);
    const hours = Math.round((waitedMs / 3600000) * 10) / 10;
    await this.settle(due.id, 'needs-attention', { reason: `no answer from ${due.target} within ${hours} h of handing the change over (awaiting-answer time limit)` }, ['awaiting-answer']);
  }

  /**
   * After a restart: deliveries this instance had in flight are retried now (the attempt
   * was interrupted, not refused), and messages whose journey had not run to its end run again from
   * the start of their journey. Targets are idempotent on the delivery's idempotency key,
   * and the delivery node skips deliveries already done, so nothing reaches a target twice.
   * Deliveries awaiting a target's answer are left to wait for it.
   *
   * With `from`, the same for another instance whose lease lapsed (takeover): its in-flight
   * deliveries become retries any instance may claim, and its unfinished messages become
   * this instance's (so that, should this one die too, a third takes them) and run here.
   */
  async recover(from: string = this.instance): Promise<{ deliveries: number; messages: number }> {
    const now = this.now();
    const takeover = from !== this.instance;
    const interrupted = await this.store.inFlightDeliveries(from);
    let deliveries = 0;
    // Several at a time: a key lock the dead instance held makes its delivery wait until the lock expires.
    await eachAtMost(16, interrupted, (d) =>
      this.store.withKeyLock(this.lockName(d.target, d.key), async () => {
        const current = await this.store.getDelivery(d.id);
        if (current?.status !== 'in-flight' || current.owner !== from) return;
        const { owner: _owner, ...rest } = current;
        const lastError: DeliveryError = {
          message: takeover ? `hub instance ${from} stopped renewing its lease while this delivery was in flight; ${this.instance} took it over` : 'the hub stopped while this delivery was in flight',
          classification: 'transient',
          at: now,
        };
        // A second later: a message run again from its start (below) meets it as waiting, not in flight.
        await this.commit({ deliveries: [{ ...rest, status: 'failed', lastError, nextAttemptAt: now + RECOVERY_HEAD_START_MS, updatedAt: now, version: current.version + 1 }] }, new Map([[d.id, current]]));
        deliveries++;
      }),
    );
    const messages: MessageRecord[] = [];
    for (const message of await this.store.receivedMessages(from)) {
      if (!takeover) {
        messages.push(message);
        continue;
      }
      const mine: MessageRecord = { ...message, instance: this.instance, version: message.version + 1 };
      try {
        await this.store.commit({ messages: [mine] });
        messages.push(mine);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err; // routed meanwhile, or taken by another instance
      }
    }
    for (let i = 0; i < messages.length; i++) {
      this.emit('run', { message: messages[i], resume: messages[i].entry } satisfies RunTask);
      // Hundreds of journeys at once must not starve the timers (the lease's renewal among them).
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { deliveries: takeover ? deliveries : interrupted.length, messages: messages.length };
  }

  /**
   * Fencing: an in-flight delivery belongs to the instance that sent it. Once another
   * instance took it over (this one was paused past its lease), what this one still does
   * with it is refused, so that it cannot overwrite the new owner's work.
   */
  private fenced(d: DeliveryRecord, what: string): boolean {
    if (d.status !== 'in-flight' || !d.owner || d.owner === this.instance) return false;
    this.emit('fenced', { deliveryId: d.id, owner: d.owner, what });
    return true;
  }

  // ---- people: replay and discard --------------------------------------------------------

  private audit(action: AuditRecord['action'], actor: string, reason: string, d: DeliveryRecord, detail?: Record<string, unknown>): AuditRecord {
    return { id: randomUUID(), at: this.now(), actor, action, reason, deliveryId: d.id, messageId: d.messageId, ...(detail ? { detail } : {}) };
  }

  /**
   * Runs a delivery again, from the node that failed (with the message as it entered that
   * node) or from the start of the message's journey. With `payload`, an edited copy runs
   * instead: a new message (and delivery) id, and the original is marked resolved by it.
   * Who, when and why are audited.
   */
  async replay(deliveryId: string, request: ReplayRequest): Promise<ReplayResult> {
    if (!request.reason?.trim()) throw new RefusedError('a replay needs a reason');
    if (!request.actor) throw new RefusedError('a replay needs the name of the person doing it');
    if (request.from !== 'failed-node' && request.from !== 'start') throw new RefusedError('from must be "failed-node" or "start"');
    const found = await this.store.getDelivery(deliveryId);
    if (!found) {
      const erasure = await this.erased(deliveryId, 'replay');
      if (erasure) throw new RefusedError(erasedReason(deliveryId, erasure));
      throw new NotFoundError(`no delivery ${deliveryId}`);
    }
    return this.store.withKeyLock(this.lockName(found.target, found.key), async () => {
      const d = await this.store.getDelivery(deliveryId);
      if (!d) throw new RefusedError(`delivery ${deliveryId} was erased meanwhile`);
      if (!replayable.includes(d.status)) {
        throw new RefusedError(
          d.status === 'superseded'
            ? `delivery ${d.id} was superseded by ${d.supersededBy}: a newer change for ${d.target} ${d.key} replaced it`
            : `delivery ${d.id} is ${d.status}: only failed, dead, needs-attention, delivered, skipped or discarded deliveries can be replayed`,
        );
      }
      const latest = await this.store.latestDelivery(d.target, d.key);
      if (d.target !== HUB_STAGE && !d.timeline && latest && latest.id !== d.id && isNewer(latest, d)) {
        throw new RefusedError(`a newer change for ${d.target} ${d.key} (delivery ${latest.id}, ${latest.status}) exists: replaying ${d.id} would overwrite it`);
      }
      // In a timeline, entries pending behind this one wait for it: they do not stop its replay.
      const blocking = (await this.store.openDeliveries(d.target, d.key)).find((o) => o.id !== d.id && (o.status === 'in-flight' || (o.status === 'pending' && !(d.timeline && isNewer(o, d)))));
      if (blocking) throw new RefusedError(`delivery ${blocking.id} for ${d.target} ${d.key} is ${blocking.status}; replay once it is settled`);
      const message = await this.store.getMessage(d.messageId);
      if (!message) {
        const erasure = await this.erased(d.messageId, 'replay');
        if (erasure) throw new RefusedError(erasedReason(d.messageId, erasure));
        throw new NotFoundError(`the message ${d.messageId} of delivery ${d.id} is no longer in the journal`);
      }
      return request.payload === undefined ? this.replayStored(d, message, request) : this.replayEdited(d, message, request);
    });
  }

  private async replayStored(d: DeliveryRecord, message: MessageRecord, request: ReplayRequest): Promise<ReplayResult> {
    const now = this.now();
    const fromStart = request.from === 'start' || !d.resume;
    const next: DeliveryRecord = { ...this.inFlight(d, now), ...(fromStart && d.target !== HUB_STAGE ? { runFromStart: true } : {}) };
    const base = fromStart ? message.entry : d.resume!;
    // From the start, a "hub" stage delivery carries its tag so that it settles once the
    // failed node runs through; a target's delivery is found again by its delivery node.
    const keepTag = !fromStart || d.target === HUB_STAGE;
    const resume: ResumePoint = { ...base, msg: keepTag ? { ...base.msg, delivery: deliveryTag(next) } : base.msg };
    if (!fromStart) next.resume = resume;
    const audit = this.audit('replay', request.actor, request.reason, d, { from: request.from, previousStatus: d.status, attempt: next.attempts });
    await this.commit({ deliveries: [next], audit: [audit] }, new Map([[d.id, d]]));
    this.emit('run', { delivery: next, resume } satisfies RunTask);
    return { deliveryId: d.id, runs: d.id, messageId: d.messageId };
  }

  private async replayEdited(d: DeliveryRecord, original: MessageRecord, request: ReplayRequest): Promise<ReplayResult> {
    const now = this.now();
    const fromStart = request.from === 'start' || !d.resume;
    const copy: MessageRecord = {
      ...original,
      id: randomUUID(),
      payload: request.payload,
      receivedAt: now,
      status: 'received',
      instance: this.instance,
      editedFrom: original.id,
      version: 1,
    };
    delete copy.sourceMessageId;
    delete copy.resolvedBy;
    const base = fromStart ? original.entry : d.resume!;
    const msg: StoredMessage = { ...base.msg, payload: request.payload, journal: messageTag(copy) };
    copy.entry = fromStart ? { ...original.entry, msg } : { nodeId: base.nodeId, how: base.how, msg };
    const { inserted } = await this.store.insertMessage(copy);
    if (!inserted) throw new ConflictError(`edited copy ${copy.id} clashed with a stored message`);
    const resolvedBy = { messageId: copy.id, actor: request.actor, at: now, reason: request.reason };
    const audit = this.audit('replay-edited', request.actor, request.reason, d, { from: request.from, editedMessageId: copy.id, previousStatus: d.status });
    const messages: MessageRecord[] = [{ ...original, resolvedBy, version: original.version + 1 }];
    if (fromStart) {
      // The copy runs the whole journey: its deliveries are made as it reaches them.
      const old = d.status === 'delivered' || d.status === 'skipped' ? [] : [this.superseded(d, `message:${copy.id}`, now)];
      await this.commit({ deliveries: old, messages, audit: [audit] }, new Map([[d.id, d]]));
      this.emit('run', { message: copy, resume: copy.entry } satisfies RunTask);
      return { deliveryId: d.id, messageId: copy.id };
    }
    const key = d.target === HUB_STAGE ? copy.id : d.key;
    const id = deliveryIdOf(copy.id, d.target, key);
    const { nextAttemptAt: _n, lastError: _e, reason: _r, candidates: _c, settledAt: _s, supersededBy: _b, atDelivery: _a, ...carried } = d;
    const fresh = this.inFlight(
      { ...carried, id, messageId: copy.id, key, idempotencyKey: id, seq: await this.store.nextSeq(), attempts: 0, createdAt: now, firstAttemptAt: undefined, version: 0 },
      now,
    );
    fresh.resume = { nodeId: base.nodeId, how: base.how, msg: { ...msg, delivery: deliveryTag(fresh) } };
    if (d.target === HUB_STAGE) fresh.lastError = d.lastError;
    const old = d.status === 'delivered' || d.status === 'skipped' ? [] : [this.superseded(d, id, now)];
    messages.push({ ...copy, status: 'routed', version: 2 });
    await this.commit({ deliveries: [...old, fresh], messages, audit: [audit] }, new Map([[d.id, d]]));
    this.emit('run', { delivery: fresh, resume: fresh.resume } satisfies RunTask);
    return { deliveryId: d.id, runs: id, messageId: copy.id };
  }

  /** A person gives up on a delivery, with a reason; it is audited and kept (never pruned). */
  async discard(deliveryId: string, request: { actor: string; reason: string }): Promise<DeliveryRecord> {
    if (!request.reason?.trim()) throw new RefusedError('a discard needs a reason');
    if (!request.actor) throw new RefusedError('a discard needs the name of the person doing it');
    const found = await this.store.getDelivery(deliveryId);
    if (!found) throw new NotFoundError(`no delivery ${deliveryId}`);
    return this.store.withKeyLock(this.lockName(found.target, found.key), async () => {
      const d = (await this.store.getDelivery(deliveryId))!;
      if (!discardable.includes(d.status)) throw new RefusedError(`delivery ${d.id} is ${d.status}: only pending, failed, dead or needs-attention deliveries can be discarded`);
      const now = this.now();
      const { owner: _o, nextAttemptAt: _n, ...rest } = d;
      const discarded: DeliveryRecord = { ...rest, status: 'discarded', reason: request.reason, settledAt: now, updatedAt: now, version: d.version + 1 };
      const audit = this.audit('discard', request.actor, request.reason, d, { previousStatus: d.status });
      // A dead entry that kept its timeline waiting lets the next one go once a person gave it up.
      const before = new Map<string, DeliveryRecord | undefined>([[d.id, d]]);
      const { changes, released } = holdsGate(d, !!d.timeline, !!d.answersLater) ? await this.release(d.target, d.key, d.id, now, before) : { changes: [] as DeliveryRecord[], released: undefined };
      await this.commit({ deliveries: [discarded, ...changes], audit: [audit] }, before);
      if (released) this.emit('run', { delivery: released, resume: released.resume! } satisfies RunTask);
      return discarded;
    });
  }

  /** Replays every delivery that matches; each one's refusal is reported, not thrown. */
  async replayMatching(
    filter: DeliveryFilter,
    request: ReplayRequest & { errorMessage?: string; progress?: (done: number, total: number) => void },
  ): Promise<{ replayed: ReplayResult[]; refused: Array<{ deliveryId: string; reason: string }> }> {
    const status = filter.status?.length ? filter.status : (['failed', 'dead', 'needs-attention'] as DeliveryStatus[]);
    // Every match first, then replay: replaying moves deliveries out of the filter as the pages are read.
    const items = await everyItem((page) => this.store.listDeliveries({ ...filter, status, ...page }));
    const chosen = items.filter((d) => request.errorMessage === undefined || errorGroupOf(d) === request.errorMessage);
    const replayed: ReplayResult[] = [];
    const refused: Array<{ deliveryId: string; reason: string }> = [];
    for (const [done, d] of chosen.entries()) {
      // The console shows how far a big group has gone (at most about a hundred reports).
      if (request.progress && done % Math.max(1, Math.floor(chosen.length / 100)) === 0) request.progress(done, chosen.length);
      try {
        replayed.push(await this.replay(d.id, { from: request.from, actor: request.actor, reason: request.reason }));
      } catch (err) {
        if (err instanceof RefusedError || err instanceof NotFoundError || err instanceof ConflictError) refused.push({ deliveryId: d.id, reason: err.message });
        else throw err;
      }
    }
    request.progress?.(chosen.length, chosen.length);
    return { replayed, refused };
  }

  /** Failed and dead deliveries grouped by target and error: what a support officer fixes once and replays together. */
  async failureGroups(): Promise<Array<{ target: string; error: string; count: number; statuses: Partial<Record<DeliveryStatus, number>>; newest: number }>> {
    const items = await everyItem((page) => this.store.listDeliveries({ status: ['failed', 'dead'], ...page }));
    const groups = new Map<string, { target: string; error: string; count: number; statuses: Partial<Record<DeliveryStatus, number>>; newest: number }>();
    for (const d of items) {
      const error = errorGroupOf(d);
      const name = `${d.target}\n${error}`;
      const group = groups.get(name) ?? { target: d.target, error, count: 0, statuses: {}, newest: 0 };
      group.count += 1;
      group.statuses[d.status] = (group.statuses[d.status] ?? 0) + 1;
      group.newest = Math.max(group.newest, d.updatedAt);
      groups.set(name, group);
    }
    return [...groups.values()].sort((a, b) => b.count - a.count);
  }

  /** The newest delivered delivery of a target and key (by order, then the hub's sequence), if any. */
  async newestDelivered(target: string, key: string): Promise<DeliveryRecord | undefined> {
    const delivered = await everyItem((page) => this.store.listDeliveries({ target, key, status: ['delivered'], ...page }));
    let newest: DeliveryRecord | undefined;
    for (const d of delivered) if (!newest || isNewer(d, newest)) newest = d;
    return newest;
  }

  /** Deletes what retention allows (delivered, skipped, superseded older than the age). */
  async prune(maxAgeMs: number): Promise<number> {
    return this.store.prune(this.now() - maxAgeMs);
  }

  /**
   * A retention run: each kind of record goes once its period is over (never an open
   * delivery), and audit records past theirs are pseudonymised. Says what it removed.
   */
  async purge(periods: RetentionPeriods): Promise<PurgeReport & { cutoffs: RetentionCutoffs; tookMs: number }> {
    const started = Date.now();
    const now = this.now();
    const cutoffs: RetentionCutoffs = {
      settled: now - periods.settledMs,
      discarded: now - periods.discardedMs,
      refused: now - periods.refusedMs,
      audit: now - periods.auditMs,
    };
    const report = await this.store.purge(cutoffs, (a) => this.codec.pseudonymiseAudit(a, now, 'audit retention period over'));
    return { ...report, cutoffs, tookMs: Date.now() - started };
  }
}

/** Why a replay or a late answer is refused: the record's person was erased. */
export function erasedReason(id: string, erasure: ErasureRecord): string {
  return `${id} belonged to a person whose data was erased on ${new Date(erasure.at).toISOString()} (erasure ${erasure.id}): it is no longer held, so it cannot be run again or settled`;
}

/** The error a failure group is known by: its code when it has one, else its message. */
export function errorGroupOf(d: DeliveryRecord): string {
  return d.lastError?.code ?? d.lastError?.message ?? '(no error recorded)';
}
