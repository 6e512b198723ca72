/**
 * The journal's records. Every message that enters the hub is a MessageRecord, stored
 * before its sender is acknowledged; every delivery of it to a target system is a
 * DeliveryRecord; every step through the flow's nodes is a Hop; every replay and discard
 * by a person is an AuditRecord. The stores keep these as JSON documents, so what is here
 * is also what the console API returns.
 */

export const deliveryStatuses = [
  'pending',
  'in-flight',
  'awaiting-answer',
  'delivered',
  'failed',
  'dead',
  'superseded',
  'skipped',
  'needs-attention',
  'discarded',
] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** Statuses that still hold the (target, key) order gate or wait for a person. */
export const openStatuses: readonly DeliveryStatus[] = ['pending', 'in-flight', 'awaiting-answer', 'failed', 'dead', 'needs-attention'];
/** Statuses a retention run may prune once old enough: nobody needs to look at them again. */
export const prunableStatuses: readonly DeliveryStatus[] = ['delivered', 'skipped', 'superseded'];

/** The pseudo-target of failures before a message reached any delivery (mapping, validation, routing). */
export const HUB_STAGE = 'hub';

/** A JSON copy of a Node-RED message (no req/res, no functions), as stored for replay. */
export type StoredMessage = Record<string, unknown>;

export interface MessageRecord {
  id: string;
  /** Where it came from, e.g. "crm", "housing", "payments". */
  source: string;
  /** The sender's own id (a CRM eventId, a file name and line): duplicates are ignored. */
  sourceMessageId?: string;
  /** The correlation key: a person, a case (e.g. a CRM contactId). */
  key?: string;
  payload: unknown;
  receivedAt: number;
  /** received: stored, not yet routed to any delivery; routed: has deliveries. */
  status: 'received' | 'routed';
  /** Where its journey starts: the journal node that stored it, with the whole message as
   * that node sent it on. Replay "from the start" and recovery run it from there. */
  entry: ResumePoint;
  /** The hub instance that took it (recovery after a restart picks up its own). */
  instance: string;
  /** An edited copy names the message it was made from. */
  editedFrom?: string;
  /** Set when a person replaced this message with an edited copy. */
  resolvedBy?: { messageId: string; actor: string; at: number; reason: string };
  version: number;
}

export type ErrorClass = import('../../adapters/errors').ErrorClass;

export interface DeliveryError {
  message: string;
  code?: string;
  classification: ErrorClass;
  /** The node that failed, and its type (e.g. "function", "http request"). */
  nodeId?: string;
  nodeType?: string;
  nodeName?: string;
  at: number;
}

/**
 * How a target's deliveries of one key relate. By default (addresses) the latest wins: a
 * newer change supersedes older ones not yet delivered. A timeline (case updates, payments)
 * delivers every entry in order and supersedes none. A target that answers later keeps the
 * gate closed while a change is retried, since it may hold that change already.
 */
export interface DeliveryMode {
  timeline?: boolean;
  answersLater?: boolean;
}

export interface RetryPolicy {
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** How to treat an error that carries no `transient` flag. */
  unclassified: ErrorClass;
  /** A target that answers later (an ack file) must answer within this, else the delivery
   * needs attention. Unset: the hub's default (HUB_ANSWER_TIMEOUT_HOURS). */
  answerWithinMs?: number;
}

/** Where to run a delivery again: `send` sends the message on from the node (as the
 * delivery node does), `receive` gives it to the node as its input (re-runs the node). */
export interface ResumePoint {
  nodeId: string;
  how: 'send' | 'receive';
  msg: StoredMessage;
}

export interface DeliveryRecord {
  id: string;
  messageId: string;
  target: string;
  key: string;
  /** Newer changes win: compared on (order, seq). Defaults to the message's receive time. */
  order: number;
  seq: number;
  /** When the hub received the message (ms): breaks ties of order before seq does. */
  received?: number;
  status: DeliveryStatus;
  /** Passed to the target (e.g. as requestId); the same for every attempt and replay. */
  idempotencyKey: string;
  attempts: number;
  retry: RetryPolicy;
  lastError?: DeliveryError;
  /** When the hub acts on it next: the retry of a failed delivery, the answer deadline of an
   * awaiting-answer one. */
  nextAttemptAt?: number;
  resume?: ResumePoint;
  /** The message as it was at the delivery node, kept once a failure further on moved
   * `resume` to another node (see messageAtDelivery). */
  atDelivery?: StoredMessage;
  /** The node the delivery started at (the delivery node). */
  startNodeId?: string;
  /** Replayed from the start: its message's run sends it when it reaches the delivery node.
   * Any other run that finds it in flight (a restart's run from the start meeting a retry
   * under way) stops there, so that one attempt does not become two. */
  runFromStart?: boolean;
  /** The older change this one was run again after, once (journal.skippedAfterOlder). */
  triedAgainAfter?: string;
  /** A timeline (case updates, payments): every entry is delivered, in order, none superseded. */
  timeline?: boolean;
  /** The target answers later (an ack file): a change being retried still holds the gate. */
  answersLater?: boolean;
  reason?: string;
  candidates?: unknown;
  supersededBy?: string;
  owner?: string;
  createdAt: number;
  updatedAt: number;
  firstAttemptAt?: number;
  /** Handed to the target, which answers later (a file settled by its ack): status
   * awaiting-answer; a restart waits for that answer instead of sending the change again. */
  sentAt?: number;
  settledAt?: number;
  version: number;
}

export interface Hop {
  messageId: string;
  deliveryId?: string;
  msgid: string;
  nodeId: string;
  nodeType?: string;
  nodeName?: string;
  flowId?: string;
  startedAt: number;
  finishedAt?: number;
  durationMs?: number;
  error?: string;
}

export type AuditAction = 'replay' | 'replay-edited' | 'discard' | 'erase';

export interface AuditRecord {
  id: string;
  at: number;
  actor: string;
  action: AuditAction;
  reason: string;
  deliveryId?: string;
  messageId?: string;
  detail?: Record<string, unknown>;
  /** Set once its personal data (who, why) was pseudonymised: after the audit retention
   * period, or when the person it was about was erased. */
  pseudonymisedAt?: number;
}

/** Where each kind of record's retention period ends: records settled or closed before these times go. */
export interface RetentionCutoffs {
  /** Delivered, skipped and superseded deliveries (settled before this), and their messages. */
  settled: number;
  /** Dead letters closed by a person (discarded) at a target. */
  discarded: number;
  /** What the hub refused or failed before any delivery (target "hub"), once closed. */
  refused: number;
  /** Audit records older than this have their personal data pseudonymised (they are kept). */
  audit: number;
}

/** What a retention run removed. */
export interface PurgeReport {
  settled: number;
  discarded: number;
  refused: number;
  messages: number;
  auditPseudonymised: number;
}

/**
 * The tombstone an erasure leaves: which records were erased, when, by whom and why, and a
 * pseudonym of the person (no name, no contact id). A replay or a late answer for one of
 * these records finds it and is refused instead of re-creating the person's data.
 */
export interface ErasureRecord {
  id: string;
  at: number;
  actor: string;
  reason: string;
  /** A keyed pseudonym of the person's contact id or other identifier. */
  subject: string;
  messageIds: string[];
  deliveryIds: string[];
  crossReferences: number;
  /** Open work erased with force: delivery ids and their status then. */
  forced?: Array<{ deliveryId: string; status: DeliveryStatus }>;
}

export interface DeliveryFilter {
  status?: DeliveryStatus[];
  target?: string;
  key?: string;
  messageId?: string;
  /** On updatedAt (ms since epoch), inclusive. */
  from?: number;
  to?: number;
  /** Case-insensitive text in the key, target, error, idempotency key or payload. */
  text?: string;
  limit?: number;
  offset?: number;
}

export interface MessageFilter {
  source?: string;
  key?: string;
  from?: number;
  to?: number;
  text?: string;
  limit?: number;
  offset?: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/**
 * Every item of a listing, page by page (no silent cap). Items that change while the pages
 * are read may move between pages: each is given once, by id.
 */
export async function everyItem<T extends { id: string }>(list: (page: { limit: number; offset: number }) => Promise<Page<T>>, pageSize = 500): Promise<T[]> {
  const seen = new Map<string, T>();
  for (let offset = 0; ; offset += pageSize) {
    const { items } = await list({ limit: pageSize, offset });
    for (const item of items) if (!seen.has(item.id)) seen.set(item.id, item);
    if (items.length < pageSize) return [...seen.values()];
  }
}

export interface Counts {
  byStatus: Partial<Record<DeliveryStatus, number>>;
  byTarget: Record<string, Partial<Record<DeliveryStatus, number>>>;
}

/** One atomic change: every record is written (with its version checked) or none is. */
export interface Change {
  messages?: MessageRecord[];
  deliveries?: DeliveryRecord[];
  audit?: AuditRecord[];
}

export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/**
 * The one interface both stores implement (SQLite embedded, Redis shared). A contract test
 * suite runs against both. Writes of records go through `commit`, which checks versions:
 * a record written with version n+1 must still be at version n in the store (a new record
 * has version 1), otherwise nothing is written and ConflictError is thrown.
 */
export interface JournalStore {
  readonly kind: 'sqlite' | 'redis';
  /** Stores a new message unless (source, sourceMessageId) is known: then returns the first. */
  insertMessage(message: MessageRecord): Promise<{ inserted: boolean; message: MessageRecord }>;
  /** insertMessage for many at once (a payment file's payments): one commit, so one disk
   * sync on SQLite and one round trip per chunk on Redis. Results in the input's order. */
  insertMessages(messages: MessageRecord[]): Promise<Array<{ inserted: boolean; message: MessageRecord }>>;
  getMessage(id: string): Promise<MessageRecord | undefined>;
  listMessages(filter: MessageFilter): Promise<Page<MessageRecord>>;
  /** Messages still `received` (not routed) taken by this instance. */
  receivedMessages(instance: string): Promise<MessageRecord[]>;

  commit(change: Change): Promise<void>;
  /** A number that only grows, across instances: breaks ties between equally new changes. */
  nextSeq(): Promise<number>;
  getDelivery(id: string): Promise<DeliveryRecord | undefined>;
  listDeliveries(filter: DeliveryFilter): Promise<Page<DeliveryRecord>>;
  /** Every delivery of (target, key), in any status. */
  deliveriesOfKey(target: string, key: string): Promise<DeliveryRecord[]>;
  /** Deliveries of (target, key) in an open status. */
  openDeliveries(target: string, key: string): Promise<DeliveryRecord[]>;
  /** The newest delivery of (target, key) that was delivered, or is open. */
  latestDelivery(target: string, key: string): Promise<DeliveryRecord | undefined>;
  /** `failed` deliveries whose next attempt is due, and `awaiting-answer` ones past their deadline. */
  dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]>;
  /** `in-flight` deliveries owned by this instance. */
  inFlightDeliveries(owner: string): Promise<DeliveryRecord[]>;
  counts(): Promise<Counts>;

  appendHops(hops: Hop[]): Promise<void>;
  hops(messageId: string): Promise<Hop[]>;
  listAudit(filter: { deliveryId?: string; messageId?: string; limit?: number }): Promise<AuditRecord[]>;

  /** Removes delivered/skipped/superseded deliveries settled before `before`, then
   * messages older than that with no delivery left, and their hops. Never dead letters
   * or audit records. Returns how many deliveries went. */
  prune(before: number): Promise<number>;

  /** A retention run: removes what each kind's period allows, never an open delivery, and
   * pseudonymises audit records past theirs. Messages go once no delivery of theirs is left. */
  purge(cutoffs: RetentionCutoffs, pseudonymise: (a: AuditRecord) => AuditRecord): Promise<PurgeReport>;
  /**
   * Erases a person: deletes the messages and deliveries named (with their hops and index
   * entries), rewrites the given audit records (pseudonymised) and adds `audit`, and keeps
   * the tombstone, all in one step.
   */
  erase(erasure: ErasureRecord, audit: AuditRecord[]): Promise<void>;
  /** The erasure that removed a message or a delivery, if one did. */
  erasureOf(recordId: string): Promise<ErasureRecord | undefined>;
  listErasures(limit?: number): Promise<ErasureRecord[]>;

  /** Runs `work` while holding the (target, key) order gate's lock across instances. */
  withKeyLock<T>(lockName: string, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The message as it was at the delivery node (what the delivery is about), wherever a retry would resume it. */
export function messageAtDelivery(d: Pick<DeliveryRecord, 'atDelivery' | 'resume'>): StoredMessage | undefined {
  return d.atDelivery ?? d.resume?.msg;
}
