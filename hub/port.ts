import type Redis from 'ioredis';
import type { MappingLibrary } from '../adapters/mapping';
import type { CrossReferenceStore } from '../adapters/people/cross-references';
import type { LedgerBatches, PaymentRegister } from '../adapters/payments/register';
import type { CursorStore } from './cursors';
import type { HeldAddress } from './held-address';
import type { DeliveryTag, MessageTag, StartResult } from './journal/journal';
import type { DeliveryMode, DeliveryRecord, RetryPolicy } from './journal/types';
import type { Settlement } from './runtime/settlement';

/**
 * The one way nodes reach the running hub: a small typed port, handed to Node-RED in its
 * settings (`councilHub`) by the composition root (hub/composition.ts), never a global.
 * Outside council-hub (a node test, another Node-RED) nodes get a standalone port
 * (hub/standalone-port.ts) with the same paths, mappings and settlement but no journal or
 * stores: the nodes that need those say so in their error.
 */
export interface HubPort {
  /** The repository's folders: nodes resolve relative file names (WSDLs, rules) against them. */
  readonly paths: { readonly root: string; readonly mappings: string };
  /** The one mapping library (each mapping compiled once, reloaded when its file changes). */
  readonly mappings: MappingLibrary;
  /** Acknowledging inbound messages once they are stored or the flow has finished with them. */
  readonly settlement: Settlement;
  /** The journal: messages, deliveries, retries. */
  readonly journal?: JournalPort;
  /** Whom the hub found in each system, per CRM contact. */
  readonly crossReferences?: CrossReferenceStore;
  /** Pollers' cursors. */
  readonly cursors?: CursorStore;
  /** Payment files accepted and the transaction refs in them. */
  readonly payments?: PaymentRegister;
  /** Ledger files written to Finance, until Finance answers. */
  readonly ledgerBatches?: LedgerBatches;
  /** The shared Redis client when instances share the work: locks (one poller per folder). */
  readonly sharedRedis?: Redis;
  /** Prefix of every key the hub keeps in Redis. */
  readonly redisPrefix: string;
  /** Where gazetteer nodes say which version they answer from (for /healthz and the other instances). */
  readonly gazetteerVersions?: GazetteerVersionsPort;
  /** Work a node starts with the flows that must finish before /healthz says ready (a SOAP service reading its WSDL). */
  readonly startup?: { track(work: Promise<unknown>): void };
}

/** One gazetteer in use: its file or folder and version (a DTF volume, or a CSV checksum). */
export interface GazetteerInUse {
  file: string;
  version: string;
  addresses: number;
  loadedAt: string;
}

export interface GazetteerVersionsPort {
  record(entry: GazetteerInUse): Promise<void>;
}

/** What the journal, delivery and outcome nodes may ask of the journal. */
export interface JournalPort {
  /** Is this message already in the journal (a replay from the start, a recovered message)? */
  isStored(messageId: string): Promise<boolean>;
  /** Stores an inbound message; `msg` is the message as the journal node sends it on. */
  record(input: { source: string; sourceMessageId?: string; key?: string; msg: object; nodeId: string }): Promise<{ duplicate: boolean; tag: MessageTag }>;
  /** record() for many messages in one commit (a payment file's payments). */
  recordMany(inputs: Array<{ source: string; sourceMessageId?: string; key?: string; msg: object; nodeId: string }>): Promise<Array<{ duplicate: boolean; /** it has deliveries already (its journey began) */ routed: boolean; tag: MessageTag }>>;
  /** Keeps something refused whole (a payment file that failed its checks) as a dead letter
   * with the reason, for the console; the same thing refused again adds nothing. */
  refuse(input: { source: string; sourceMessageId?: string; key?: string; msg: object; nodeId: string; error: unknown; where: { nodeId?: string; nodeType?: string; nodeName?: string } }): Promise<{ duplicate: boolean; messageId: string }>;
  /** Every delivery of (target, key), in any status; messageAtDelivery(d) is the message as it was at the delivery node. */
  deliveriesOfKey(target: string, key: string): Promise<DeliveryRecord[]>;
  /** Starts a delivery; when it may go now, `tag` is what msg.delivery must carry. */
  startDelivery(input: { messageId: string; target: string; key: string; order?: number; retry?: RetryPolicy; mode?: DeliveryMode; nodeId: string; msg: object }): Promise<StartResult & { tag?: DeliveryTag }>;
  settle(deliveryId: string, outcome: 'delivered' | 'skipped' | 'needs-attention', detail?: { reason?: string; candidates?: unknown }): Promise<{ changed: boolean; delivery: DeliveryRecord }>;
  /** The change is with a target that answers later: awaiting-answer until it does, or its time limit passes. */
  awaitAnswer(deliveryId: string): Promise<boolean>;
  /** The target's answer to such a change (an ack file's row). */
  answer(
    deliveryId: string,
    answer: { outcome: 'delivered' } | { outcome: 'skipped'; reason: string } | { outcome: 'rejected'; error: unknown; where?: { nodeId?: string; nodeType?: string; nodeName?: string } },
  ): Promise<{ changed: boolean; delivery?: DeliveryRecord }>;
  delivery(deliveryId: string): Promise<DeliveryRecord | undefined>;
  /** The newest change a target took for a key, with the payload it had at the delivery node,
   * and whether it is newer than `than` (by order, then arrival): in a timeline, is this one late? */
  newestDelivered(target: string, key: string, than: { order: number; seq: number; received?: number }): Promise<{ payload: unknown; newer: boolean } | undefined>;
  /** The address a target still holds for a key (it may have missed a change). */
  heldAddress(target: string, key: string): Promise<HeldAddress | undefined>;
  /** A delivery node's retry policy from its settings; bad values get a clear error. */
  retryPolicy(input: Partial<Record<keyof RetryPolicy, unknown>>): RetryPolicy;
}

export type { RetryPolicy, DeliveryMode, MessageTag };
export { messageAtDelivery } from './journal/types';

/** The name under which the port sits in Node-RED's settings. */
export const PORT_SETTING = 'councilHub';
