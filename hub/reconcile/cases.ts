import { MappingLibrary } from '../../adapters/mapping';
import { createSoapClient, SoapClient } from '../../adapters/soap';
import type { DeliveryRecord, DeliveryStatus, JournalStore, MessageRecord } from '../journal/types';
import { everyItem, HUB_STAGE } from '../journal/types';
import { ReconcileConfigError } from './sources';
import { mapLimited } from '../../adapters/concurrency';

/**
 * The case-update reconciliation: for every case the journal holds case updates for (planning
 * application events, housing repair statuses), whether the CRM's case holds each of them
 * once, and whether the case's status is that of its newest event.
 *
 * The journal's side: every message of source `planning` (payload: a GetApplicationEvents
 * event) or `housing` (payload: a NotifyRepairStatus request), read page by page with no cap,
 * mapped with the hub's own mappings (planning-event-to-case, repair-to-case) to the
 * canonical case.updated: its sourceSystem and sourceRef name the CRM case (external system
 * and ref), its sourceEventId is the CRM's idempotency key, occurredAt and status say which
 * event is newest. A message replaced by an edited copy (resolvedBy) is left out: the copy
 * stands for it. An edited copy's payload may already be canonical (replayed after the
 * mapping) or the AddCaseUpdate arguments (replayed at the CRM call); both are read too.
 *
 * The CRM's side, over its SOAP contract (CRM_WSDL): FindCaseByExternalRef(system, ref),
 * then GetCase(caseRef) with the case's updates, status and contactId.
 */

/** Does an update's summary say it came late and left the case at `status` (nodes/crm-case)? */
function lateKeeps(summary: unknown, status: string): boolean {
  return typeof summary === 'string' && summary.includes(`received after a later update; the case stays ${status})`);
}

export type CaseSystem = 'planning' | 'housing';
export const caseSystems: readonly CaseSystem[] = ['planning', 'housing'];

export interface ExternalRef {
  system: CaseSystem;
  ref: string;
}

/** A case update as the journal knows it: one source event (one sourceEventId). */
export interface JournalEventView {
  sourceEventId: string;
  status: string;
  occurredAt: string;
  /** planning's sequence (breaks ties of occurredAt) */
  sequence?: number;
  /** the journal's messages holding this event (usually one) */
  messageIds: string[];
  /** the journal's deliveries of those messages (superseded ones left out), newest change first */
  deliveries: Array<{ id: string; target: string; status: DeliveryStatus; reason?: string; error?: string }>;
  /**
   * What the journal says of it, in one word: delivered, in-progress (pending, in flight,
   * retrying, awaiting an answer), dead, needs-attention, skipped, discarded (a person gave
   * up on it: not expected on the case), or none (no delivery was ever started).
   */
  journal: 'delivered' | 'in-progress' | 'dead' | 'needs-attention' | 'skipped' | 'discarded' | 'none';
  /** the CRM case holds an update with this sourceEventId */
  onCase: boolean;
}

/** An update as the CRM case holds it. */
export interface CaseUpdateView {
  updateId: string;
  sourceEventId: string;
  status: string;
  occurredAt: string;
  summary?: string;
  receivedAt?: string;
  /** the CRM case it is on (differs from the row's caseRef only when the case was created twice) */
  caseRef: string;
}

/**
 * An update that is on the case more than once. The CRM is idempotent on sourceEventId
 * (AddCaseUpdate with a known one adds nothing), so through the hub an event can only be
 * added twice under another sourceEventId: `unknown-to-journal` is an update whose
 * sourceEventId none of the journal's events for this case has (`looksLike` names the
 * journal's event with the same status and occurredAt, when there is one: the same event
 * under another id, e.g. from an older mapping). `same-source-event-id` is the same
 * sourceEventId on the case more than once, which a CRM that keeps its promise never shows.
 */
export interface DuplicatedUpdate {
  kind: 'same-source-event-id' | 'unknown-to-journal';
  sourceEventId: string;
  /** the extra update(s): for same-source-event-id every copy after the first */
  updates: CaseUpdateView[];
  looksLike?: string;
}

/** An update with the journal's sourceEventId whose status or time is not the event's. */
export interface MismatchedUpdate {
  sourceEventId: string;
  journal: { status: string; occurredAt: string };
  onCase: { status: string; occurredAt: string; updateId: string };
}

export type CaseVerdict = 'agrees' | 'differs' | 'in-progress' | 'unreadable';
export const caseVerdicts: readonly CaseVerdict[] = ['agrees', 'differs', 'in-progress', 'unreadable'];

export interface CaseReconciliation {
  system: CaseSystem;
  ref: string;
  /** the CRM case (FindCaseByExternalRef), absent when the CRM has none */
  caseRef?: string;
  caseExists: boolean;
  /** the CRM found more than one case for this external ref (otherCaseRefs: the others) */
  createdTwice: boolean;
  otherCaseRefs?: string[];
  /** the CRM case's contact; absent: the hub did not know who the applicant or tenant is (not an error) */
  contactId?: string;
  withoutContact: boolean;
  /** the journal's events for this case, oldest first */
  expected: JournalEventView[];
  /** the updates on the CRM case(s), as the CRM lists them */
  updates: CaseUpdateView[];
  /** sourceEventIds of the journal's events that are not on the case (discarded ones left out) */
  missing: string[];
  duplicated: DuplicatedUpdate[];
  mismatched: MismatchedUpdate[];
  status: {
    /** the CRM case's status */
    onCase?: string;
    /** the status of the newest of the journal's events (by occurredAt, then sequence...) */
    expected?: string;
    newestEvent?: string;
    /** absent when there is nothing to judge (no case, or no event) */
    right?: boolean;
  };
  verdict: CaseVerdict;
  /** in words, what is off (empty when it agrees) */
  problems: string[];
  /** the journal's messages of this case whose payload the mapping refused (see the report's `unmapped`) */
  unmapped: string[];
  /** the CRM could not be read (or the case asked for by caseRef does not exist) */
  error?: string;
}

export interface UnmappedMessage {
  messageId: string;
  source: string;
  /** the case, when the payload names it (its mapping failed) */
  system?: CaseSystem;
  ref?: string;
  receivedAt: number;
  error: string;
  /** statuses of its deliveries; a message whose every delivery was discarded does not count as off */
  deliveries: DeliveryStatus[];
}

export interface CaseReconciliationSummary {
  cases: number;
  /** the journal's events (distinct sourceEventIds) of these cases */
  events: number;
  /** of those, discarded by a person (not expected on the case) */
  discarded: number;
  /** updates on the CRM cases */
  updatesOnCases: number;
  missing: number;
  /** updates on a case more than once (extra copies, and updates the journal does not know) */
  duplicated: number;
  mismatched: number;
  /** existing cases whose status is not their newest event's */
  wrongStatus: number;
  /** cases the CRM does not have although the journal has an event for them */
  notCreated: number;
  createdTwice: number;
  /** CRM cases with no contactId: counted and listed, not an error */
  withoutContact: { count: number; cases: Array<{ system: CaseSystem; ref: string; caseRef?: string }> };
  unreadable: number;
  /** the journal's deliveries of these messages that wait for a person; target the CRM, and
   * `beforeDelivery` those that failed before reaching a delivery (the pseudo-target hub) */
  deliveries: { dead: number; needsAttention: number; beforeDelivery: { dead: number; needsAttention: number } };
  /** case-update messages whose payload could not be mapped (not counting ones every delivery of which was discarded) */
  unmappedMessages: number;
  byVerdict: Record<CaseVerdict, number>;
  casesNotAgreeing: number;
  /** true when every case agrees and every case-update message could be mapped */
  allAgree: boolean;
}

export interface CaseReconciliationReport {
  generatedAt: string;
  cases: CaseReconciliation[];
  unmapped: UnmappedMessage[];
  summary: CaseReconciliationSummary;
  notes: string[];
}

/** The CRM's cases, read over its contract. */
export interface CrmCaseReader {
  /** FindCaseByExternalRef: the case refs it names ([] for CaseNotFound) */
  findCases(system: CaseSystem, ref: string): Promise<string[]>;
  /** GetCase's `case` (with `update`, one or many); undefined for CaseNotFound */
  getCase(caseRef: string): Promise<any | undefined>;
}

export interface CaseReconcileSources {
  crm: CrmCaseReader;
  journal: JournalStore;
  mappings: MappingLibrary;
}

/** Which cases: undefined for every case the journal holds an update for; caseRefs and externalRefs add up. */
export interface CaseSelection {
  caseRefs?: string[];
  externalRefs?: ExternalRef[];
}

export interface CaseReconcileOptions {
  /** calls in parallel (default 8) */
  concurrency?: number;
}

export const CREATED_TWICE_NOTE =
  "a case created twice is seen only where the CRM says so: FindCaseByExternalRef names one case per external ref (a second one is reported if it names several, or if a case asked for by caseRef is not the one it names); the CRM simulator's CreateCase is idempotent on (externalSystem, externalRef), so it never makes one";
export const ORDER_NOTE =
  'newest event: latest occurredAt, then the higher planning sequence, then (housing, same day) Raised < Scheduled < Completed or Cancelled, then the one the journal received last';

const TIMEOUT_MS = 15000;

function faultName(err: unknown): string | undefined {
  return (err as { faultName?: string })?.faultName;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The CRM reader at CRM_WSDL (the flows' endpoint). */
export function crmCaseReaderFromEnv(env: Readonly<Record<string, string | undefined>>): CrmCaseReader & { close(): Promise<void> } {
  if (!env.CRM_WSDL) throw new ReconcileConfigError('CRM_WSDL is not set: the case reconciliation reads every case from the CRM (FindCaseByExternalRef, GetCase)');
  const soap: SoapClient = createSoapClient({ wsdl: env.CRM_WSDL, timeoutMs: TIMEOUT_MS });
  return {
    async findCases(system, ref) {
      try {
        const answer = await soap.call('FindCaseByExternalRef', { externalSystem: system, externalRef: ref });
        return list(answer?.caseRef).map(String);
      } catch (err) {
        if (faultName(err) === 'CaseNotFound') return [];
        throw err;
      }
    },
    async getCase(caseRef) {
      try {
        return (await soap.call('GetCase', { caseRef }))?.case;
      } catch (err) {
        if (faultName(err) === 'CaseNotFound') return undefined;
        throw err;
      }
    },
    close: () => soap.close().catch(() => undefined),
  };
}

function list<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

// ---- the journal's side -------------------------------------------------------------------

const MAPPING: Record<CaseSystem, string> = { planning: 'planning-event-to-case', housing: 'repair-to-case' };
const isSystem = (value: unknown): value is CaseSystem => value === 'planning' || value === 'housing';
const caseKey = (system: string, ref: string) => `${system}\n${ref}`;
const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Which case a payload is about, read from the fields the mappings take it from
 * (planning-event-to-case: sourceRef = applicationRef; repair-to-case: sourceRef = jobRef),
 * without running the mapping: enough to leave out the messages of cases nobody asked for.
 * `form` says how to read the event: through the mapping (raw), as it is (canonical), or
 * as the AddCaseUpdate arguments (crm: the case is the original message's).
 */
export function caseOfPayload(source: string, payload: any): { system: CaseSystem; ref: string; form: 'raw' | 'canonical' } | { form: 'crm' } | undefined {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  if (payload.eventType === 'case.updated' && isSystem(payload.sourceSystem) && nonEmpty(payload.sourceRef)) return { system: payload.sourceSystem, ref: payload.sourceRef, form: 'canonical' };
  if (source === 'planning' && (nonEmpty(payload.applicationRef) || typeof payload.applicationRef === 'number')) return { system: 'planning', ref: String(payload.applicationRef), form: 'raw' };
  if (source === 'housing' && nonEmpty(payload.jobRef)) return { system: 'housing', ref: payload.jobRef, form: 'raw' };
  if (nonEmpty(payload.sourceEventId) && nonEmpty(payload.caseRef) && nonEmpty(payload.status) && nonEmpty(payload.occurredAt)) return { form: 'crm' };
  return undefined;
}

interface MappedEvent {
  system: CaseSystem;
  ref: string;
  sourceEventId: string;
  status: string;
  occurredAt: string;
  sequence?: number;
}

function sequenceOf(payload: any, sourceEventId: string): number | undefined {
  const raw = payload?.sequence;
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return Number(raw);
  const tail = /^planning:.*:(\d+)$/.exec(sourceEventId);
  return tail ? Number(tail[1]) : undefined;
}

interface JournalCase {
  system: CaseSystem;
  ref: string;
  events: Map<string, { view: JournalEventView; firstReceivedAt: number; lastReceivedAt: number }>;
  messages: MessageRecord[];
}

const PAGE = { sqlite: 1000, redis: 10000 } as const;

/**
 * Every message of the given sources, newest first, with no cap. It pages by receive time
 * (`to` = the oldest time seen, skipping those already seen at that very millisecond), not
 * only by offset: the Redis store's listMessages looks at the newest 10,000 messages of any
 * source at or before `to` and filters them, so a source filter there would stop at 10,000
 * messages of other sources. In Redis mode the sources are therefore filtered here.
 */
export async function everyMessageOf(store: JournalStore, sources: readonly string[]): Promise<MessageRecord[]> {
  const filterHere = store.kind === 'redis';
  const out: MessageRecord[] = [];
  const seen = new Set<string>();
  for (const source of filterHere ? [undefined] : sources) {
    let to: number | undefined;
    let skip = 0;
    const limit = PAGE[store.kind] ?? 1000;
    for (;;) {
      const page = await store.listMessages({ ...(source ? { source } : {}), ...(to !== undefined ? { to } : {}), limit, offset: skip });
      if (!page.items.length) break;
      for (const m of page.items) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        if (!filterHere || sources.includes(m.source)) out.push(m);
      }
      const oldest = page.items[page.items.length - 1].receivedAt;
      if (oldest === to) skip += page.items.length;
      else {
        to = oldest;
        skip = page.items.filter((m) => m.receivedAt === oldest).length;
      }
    }
  }
  return out;
}

const IN_PROGRESS: readonly DeliveryStatus[] = ['pending', 'in-flight', 'failed', 'awaiting-answer'];

function journalWord(deliveries: JournalEventView['deliveries']): JournalEventView['journal'] {
  const has = (...statuses: DeliveryStatus[]) => deliveries.some((d) => statuses.includes(d.status));
  // The CRM's deliveries first: a hub-stage delivery that ran through says nothing of the CRM.
  const crm = deliveries.filter((d) => d.target !== HUB_STAGE);
  if (crm.some((d) => d.status === 'delivered')) return 'delivered';
  if (has(...IN_PROGRESS)) return 'in-progress';
  if (has('needs-attention')) return 'needs-attention';
  if (has('dead')) return 'dead';
  if (has('discarded')) return 'discarded';
  if (has('skipped')) return 'skipped';
  return 'none';
}

/** The journal's case-update events, by case, and the messages that could not be mapped. */
async function readJournal(
  sources: CaseReconcileSources,
  wanted: Set<string> | undefined,
  concurrency: number,
): Promise<{ cases: Map<string, JournalCase>; unmapped: UnmappedMessage[]; deliveries: Map<string, DeliveryRecord[]> }> {
  const { journal, mappings } = sources;
  const messages = await everyMessageOf(journal, caseSystems);
  const byId = new Map(messages.map((m) => [m.id, m]));
  const cases = new Map<string, JournalCase>();
  const unmapped: Array<Omit<UnmappedMessage, 'deliveries'>> = [];
  const refuse = (message: MessageRecord, error: string, target?: { system: CaseSystem; ref: string }) => {
    // With a selection, only the refused messages of the cases asked for.
    if (wanted && !(target && wanted.has(caseKey(target.system, target.ref)))) return;
    unmapped.push({ messageId: message.id, source: message.source, ...(target ? { system: target.system, ref: target.ref } : {}), receivedAt: message.receivedAt, error });
  };

  /** The case an AddCaseUpdate-arguments copy is about: its original's (editedFrom, followed back). */
  const originalCase = async (message: MessageRecord): Promise<{ system: CaseSystem; ref: string } | undefined> => {
    let at: MessageRecord | undefined = message;
    for (let hops = 0; at?.editedFrom && hops < 100; hops++) {
      at = byId.get(at.editedFrom) ?? (await journal.getMessage(at.editedFrom));
      const found = at && caseOfPayload(at.source, at.payload);
      if (found && found.form !== 'crm') return { system: found.system, ref: found.ref };
    }
    return undefined;
  };

  const map = async (message: MessageRecord): Promise<MappedEvent | undefined> => {
    const found = caseOfPayload(message.source, message.payload);
    const payload = message.payload as any;
    if (!found) {
      refuse(message, `the payload is not a ${message.source === 'planning' ? 'planning application event' : 'repair status notification'}, a canonical case.updated or AddCaseUpdate arguments`);
      return undefined;
    }
    let target: { system: CaseSystem; ref: string } | undefined = found.form === 'crm' ? await originalCase(message) : found;
    if (!target) {
      refuse(message, 'AddCaseUpdate arguments whose case cannot be told: no original message it was edited from names a case');
      return undefined;
    }
    if (wanted && !wanted.has(caseKey(target.system, target.ref))) return undefined;
    let event: { sourceSystem?: string; sourceRef?: string; sourceEventId: string; status: string; occurredAt: string };
    try {
      if (found.form === 'raw') event = await mappings.run(MAPPING[target.system], payload);
      else event = payload;
    } catch (err) {
      refuse(message, errorText(err), target);
      return undefined;
    }
    if (found.form !== 'crm' && isSystem(event.sourceSystem) && nonEmpty(event.sourceRef)) target = { system: event.sourceSystem, ref: event.sourceRef };
    return { ...target, sourceEventId: event.sourceEventId, status: event.status, occurredAt: event.occurredAt, sequence: sequenceOf(payload, event.sourceEventId) };
  };

  for (const message of messages) {
    if (message.resolvedBy) continue; // an edited copy replaced it: the copy stands for it
    const event = await map(message);
    if (!event) continue;
    const key = caseKey(event.system, event.ref);
    let entry = cases.get(key);
    if (!entry) cases.set(key, (entry = { system: event.system, ref: event.ref, events: new Map(), messages: [] }));
    entry.messages.push(message);
    const known = entry.events.get(event.sourceEventId);
    if (!known) {
      entry.events.set(event.sourceEventId, {
        view: { sourceEventId: event.sourceEventId, status: event.status, occurredAt: event.occurredAt, ...(event.sequence !== undefined ? { sequence: event.sequence } : {}), messageIds: [message.id], deliveries: [], journal: 'none', onCase: false },
        firstReceivedAt: message.receivedAt,
        lastReceivedAt: message.receivedAt,
      });
    } else {
      known.view.messageIds.push(message.id);
      // The same event received again: the latest received message says what it is.
      if (message.receivedAt >= known.lastReceivedAt) {
        known.view.status = event.status;
        known.view.occurredAt = event.occurredAt;
        known.lastReceivedAt = message.receivedAt;
      }
      known.firstReceivedAt = Math.min(known.firstReceivedAt, message.receivedAt);
    }
  }

  // The deliveries of every message in scope (and of the unmapped ones), each read by message id.
  const inScope = [...[...cases.values()].flatMap((c) => c.messages.map((m) => m.id)), ...unmapped.map((u) => u.messageId)];
  const deliveries = new Map<string, DeliveryRecord[]>();
  await mapLimited(inScope, concurrency, async (messageId) => {
    deliveries.set(messageId, await everyItem((page) => journal.listDeliveries({ messageId, ...page })));
  });
  for (const entry of cases.values()) {
    for (const { view } of entry.events.values()) {
      view.deliveries = view.messageIds
        .flatMap((id) => deliveries.get(id) ?? [])
        .filter((d) => d.status !== 'superseded')
        .sort((a, b) => b.updatedAt - a.updatedAt)
        .map((d) => ({ id: d.id, target: d.target, status: d.status, ...(d.reason ? { reason: d.reason } : {}), ...(d.lastError ? { error: d.lastError.message } : {}) }));
      view.journal = journalWord(view.deliveries);
    }
  }
  return {
    cases,
    unmapped: unmapped.map((u) => ({ ...u, deliveries: (deliveries.get(u.messageId) ?? []).map((d) => d.status) })),
    deliveries,
  };
}

// ---- comparing ---------------------------------------------------------------------------

const HOUSING_RANK: Record<string, number> = { Raised: 0, Scheduled: 1, Completed: 2, Cancelled: 2 };
const instant = (value: string | undefined): number => (value ? Date.parse(value) : NaN);

/** Positive when a is newer than b (ORDER_NOTE). */
export function newerEvent(
  system: CaseSystem,
  a: { occurredAt: string; sequence?: number; status: string; receivedAt?: number },
  b: { occurredAt: string; sequence?: number; status: string; receivedAt?: number },
): number {
  const ta = instant(a.occurredAt);
  const tb = instant(b.occurredAt);
  if (ta !== tb && Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  if (a.sequence !== undefined && b.sequence !== undefined && a.sequence !== b.sequence) return a.sequence - b.sequence;
  if (system === 'housing') {
    const rank = (HOUSING_RANK[a.status] ?? -1) - (HOUSING_RANK[b.status] ?? -1);
    if (rank) return rank;
  }
  return (a.receivedAt ?? 0) - (b.receivedAt ?? 0);
}

function updateView(update: any, caseRef: string): CaseUpdateView {
  const text = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  return {
    updateId: text(update?.updateId),
    sourceEventId: text(update?.sourceEventId),
    status: text(update?.status),
    occurredAt: text(update?.occurredAt),
    ...(update?.summary !== undefined ? { summary: text(update.summary) } : {}),
    ...(update?.receivedAt !== undefined ? { receivedAt: text(update.receivedAt) } : {}),
    caseRef,
  };
}

async function reconcileCase(
  target: ExternalRef,
  journalCase: JournalCase | undefined,
  askedCaseRef: string | undefined,
  refused: UnmappedMessage[],
  crm: CrmCaseReader,
): Promise<CaseReconciliation> {
  const events = journalCase ? [...journalCase.events.values()] : [];
  events.sort((a, b) => newerEvent(target.system, { ...a.view, receivedAt: a.firstReceivedAt }, { ...b.view, receivedAt: b.firstReceivedAt }));
  const expected = events.map((e) => e.view);
  const unmapped = refused.map((u) => u.messageId);
  const base = { system: target.system, ref: target.ref, expected, updates: [] as CaseUpdateView[], missing: [] as string[], duplicated: [] as DuplicatedUpdate[], mismatched: [] as MismatchedUpdate[], unmapped };

  let caseRefs: string[];
  const cases: any[] = [];
  try {
    caseRefs = await crm.findCases(target.system, target.ref);
    // A case asked for by its ref that the CRM's lookup does not name: a second case with this external ref.
    if (askedCaseRef && !caseRefs.includes(askedCaseRef)) caseRefs = [askedCaseRef, ...caseRefs];
    for (const caseRef of caseRefs) {
      const found = await crm.getCase(caseRef);
      if (found) cases.push(found);
    }
  } catch (err) {
    return { ...base, caseExists: false, createdTwice: false, withoutContact: false, status: {}, verdict: 'unreadable', problems: ['the CRM could not be read'], error: `cannot read the CRM: ${errorText(err)}` };
  }

  const primary = cases[0];
  const caseRef = primary ? String(primary.caseRef ?? caseRefs[0]) : undefined;
  const updates = cases.flatMap((c) => list(c.update).map((u: any) => updateView(u, String(c.caseRef))));
  const createdTwice = cases.length > 1;
  const contactId = primary?.contactId !== undefined && primary?.contactId !== null && String(primary.contactId).trim() !== '' ? String(primary.contactId) : undefined;

  // By sourceEventId: which of the journal's events are on the case, and what else is.
  const bySourceEventId = new Map<string, CaseUpdateView[]>();
  for (const u of updates) bySourceEventId.set(u.sourceEventId, [...(bySourceEventId.get(u.sourceEventId) ?? []), u]);
  const known = new Map(expected.map((e) => [e.sourceEventId, e]));
  const duplicated: DuplicatedUpdate[] = [];
  const mismatched: MismatchedUpdate[] = [];
  for (const [sourceEventId, copies] of bySourceEventId) {
    if (copies.length > 1) duplicated.push({ kind: 'same-source-event-id', sourceEventId, updates: copies.slice(1) });
    const event = known.get(sourceEventId);
    if (!event) {
      const like = expected.find((e) => e.status === copies[0].status && instant(e.occurredAt) === instant(copies[0].occurredAt));
      duplicated.push({ kind: 'unknown-to-journal', sourceEventId, updates: copies, ...(like ? { looksLike: like.sourceEventId } : {}) });
      continue;
    }
    event.onCase = true;
    const first = copies[0];
    // An update added after a newer one of its case carries the newer one's status on purpose
    // (crm-case: the case keeps its newest event's status) and says so in its summary.
    const keptNewer = first.status !== event.status && lateKeeps(first.summary, first.status) && expected.some((e) => e.status === first.status && e.sourceEventId !== sourceEventId);
    if ((first.status !== event.status && !keptNewer) || instant(first.occurredAt) !== instant(event.occurredAt)) {
      mismatched.push({ sourceEventId, journal: { status: event.status, occurredAt: event.occurredAt }, onCase: { status: first.status, occurredAt: first.occurredAt, updateId: first.updateId } });
    }
  }
  const missingEvents = expected.filter((e) => !e.onCase && e.journal !== 'discarded');
  const missing = missingEvents.map((e) => e.sourceEventId);

  // The status: the newest of the events that count (not the discarded ones the case does not hold).
  const counted = events.filter((e) => e.view.onCase || e.view.journal !== 'discarded');
  const newest = counted[counted.length - 1]?.view;
  const onCaseStatus = primary?.status !== undefined && primary?.status !== null && primary?.status !== '' ? String(primary.status) : undefined;
  const status: CaseReconciliation['status'] = {
    ...(onCaseStatus !== undefined ? { onCase: onCaseStatus } : {}),
    ...(newest ? { expected: newest.status, newestEvent: newest.sourceEventId } : {}),
    ...(primary && newest ? { right: onCaseStatus === newest.status } : {}),
  };

  const problems: string[] = [];
  const caseExists = cases.length > 0;
  const extra = duplicated.reduce((n, d) => n + d.updates.length, 0);
  if (!caseExists && missing.length) problems.push(`the CRM has no case for ${target.system} ${target.ref}`);
  if (askedCaseRef && !caseExists) problems.push(`the CRM has no case ${askedCaseRef}`);
  if (createdTwice) problems.push(`created twice: ${cases.map((c) => c.caseRef).join(', ')}`);
  if (missing.length) problems.push(`${missing.length} missing: ${missingEvents.map((e) => `${e.sourceEventId} (journal: ${e.journal})`).join(', ')}`);
  if (extra) problems.push(`${extra} added more than once: ${duplicated.map((d) => (d.kind === 'same-source-event-id' ? `${d.sourceEventId} ${d.updates.length + 1} times` : `${d.sourceEventId} unknown to the journal${d.looksLike ? ` (same as ${d.looksLike})` : ''}`)).join(', ')}`);
  if (mismatched.length) problems.push(`${mismatched.length} with another status or time than the journal's: ${mismatched.map((m) => m.sourceEventId).join(', ')}`);
  const refusedOff = refused.filter(unmappedCounts);
  if (refusedOff.length) problems.push(`${refusedOff.length} of the journal's messages could not be mapped: ${refusedOff.map((u) => u.messageId).join(', ')}`);
  if (status.right === false) problems.push(`status "${onCaseStatus ?? ''}" is not the newest event's "${newest!.status}" (${newest!.sourceEventId})`);

  // Still on its way: every missing event is being delivered, and nothing else is off but what they explain.
  const onItsWay = missingEvents.length > 0 && missingEvents.every((e) => e.journal === 'in-progress');
  const explained = !createdTwice && !extra && !mismatched.length && !refusedOff.length && (status.right !== false || missingEvents.some((e) => e.sourceEventId === newest?.sourceEventId));
  const verdict: CaseVerdict = !problems.length ? 'agrees' : onItsWay && explained && !(askedCaseRef && !caseExists) ? 'in-progress' : 'differs';
  return {
    ...base,
    ...(caseRef ? { caseRef } : {}),
    caseExists,
    createdTwice,
    ...(createdTwice ? { otherCaseRefs: cases.slice(1).map((c) => String(c.caseRef)) } : {}),
    ...(contactId ? { contactId } : {}),
    withoutContact: caseExists && !contactId,
    updates,
    missing,
    duplicated,
    mismatched,
    status,
    verdict,
    problems,
  };
}

/** A message the mapping refused is off until a person has discarded every delivery of it. */
export const unmappedCounts = (u: UnmappedMessage): boolean => !(u.deliveries.length > 0 && u.deliveries.every((s) => s === 'discarded'));

export function summariseCases(cases: CaseReconciliation[], unmapped: UnmappedMessage[], deliveries: Map<string, DeliveryRecord[]>): CaseReconciliationSummary {
  const byVerdict = Object.fromEntries(caseVerdicts.map((v) => [v, 0])) as Record<CaseVerdict, number>;
  for (const c of cases) byVerdict[c.verdict]++;
  const withoutContact = cases.filter((c) => c.withoutContact).map((c) => ({ system: c.system, ref: c.ref, ...(c.caseRef ? { caseRef: c.caseRef } : {}) }));
  const counts = { dead: 0, needsAttention: 0, beforeDelivery: { dead: 0, needsAttention: 0 } };
  const seen = new Set<string>();
  for (const list of deliveries.values()) {
    for (const d of list) {
      if (seen.has(d.id)) continue;
      seen.add(d.id);
      const into = d.target === HUB_STAGE ? counts.beforeDelivery : counts;
      if (d.status === 'dead') into.dead++;
      if (d.status === 'needs-attention') into.needsAttention++;
    }
  }
  const unmappedOff = unmapped.filter(unmappedCounts).length;
  const casesNotAgreeing = cases.length - byVerdict.agrees;
  return {
    cases: cases.length,
    events: cases.reduce((n, c) => n + c.expected.length, 0),
    discarded: cases.reduce((n, c) => n + c.expected.filter((e) => e.journal === 'discarded' && !e.onCase).length, 0),
    updatesOnCases: cases.reduce((n, c) => n + c.updates.length, 0),
    missing: cases.reduce((n, c) => n + c.missing.length, 0),
    duplicated: cases.reduce((n, c) => n + c.duplicated.reduce((k, d) => k + d.updates.length, 0), 0),
    mismatched: cases.reduce((n, c) => n + c.mismatched.length, 0),
    wrongStatus: cases.filter((c) => c.status.right === false).length,
    notCreated: cases.filter((c) => !c.caseExists && !c.error && c.missing.length > 0).length,
    createdTwice: cases.filter((c) => c.createdTwice).length,
    withoutContact: { count: withoutContact.length, cases: withoutContact },
    unreadable: byVerdict.unreadable,
    deliveries: counts,
    unmappedMessages: unmappedOff,
    byVerdict,
    casesNotAgreeing,
    allAgree: casesNotAgreeing === 0 && unmappedOff === 0,
  };
}

/**
 * The report. Without a selection: every case the journal holds an update for. With one:
 * those cases (external refs as given; case refs read from the CRM first, GetCase, to learn
 * their external ref), whether or not the journal knows them.
 */
export async function reconcileCases(sources: CaseReconcileSources, selection?: CaseSelection, options: CaseReconcileOptions = {}): Promise<CaseReconciliationReport> {
  const concurrency = options.concurrency ?? 8;
  const targets = new Map<string, { target: ExternalRef; askedCaseRef?: string }>();
  const unknownCaseRefs: CaseReconciliation[] = [];
  if (selection) {
    for (const target of selection.externalRefs ?? []) targets.set(caseKey(target.system, target.ref), { target });
    const asked = [...new Set(selection.caseRefs ?? [])];
    const found = await mapLimited(asked, concurrency, async (caseRef) => {
      try {
        return { caseRef, found: await sources.crm.getCase(caseRef) };
      } catch (err) {
        return { caseRef, error: errorText(err) };
      }
    });
    for (const { caseRef, found: crmCase, error } of found) {
      const system = crmCase?.externalSystem;
      if (crmCase && isSystem(system) && nonEmpty(crmCase.externalRef)) {
        const key = caseKey(system, String(crmCase.externalRef));
        targets.set(key, { target: { system, ref: String(crmCase.externalRef) }, askedCaseRef: caseRef });
        continue;
      }
      const why = error ? `cannot read the CRM: ${error}` : crmCase ? `the CRM case ${caseRef} is not a planning or housing case (external system "${system ?? ''}")` : `the CRM has no case ${caseRef}`;
      unknownCaseRefs.push({
        system: isSystem(system) ? system : 'planning',
        ref: crmCase?.externalRef !== undefined ? String(crmCase.externalRef) : '',
        caseRef,
        caseExists: !!crmCase,
        createdTwice: false,
        withoutContact: false,
        expected: [],
        updates: [],
        missing: [],
        duplicated: [],
        mismatched: [],
        unmapped: [],
        status: {},
        verdict: 'unreadable',
        problems: [why],
        error: why,
      });
    }
  }
  const wanted = selection ? new Set(targets.keys()) : undefined;
  const { cases: journalCases, unmapped, deliveries } = await readJournal(sources, wanted, concurrency);
  const refusedByCase = new Map<string, UnmappedMessage[]>();
  for (const u of unmapped) {
    if (!u.system || u.ref === undefined) continue;
    const key = caseKey(u.system, u.ref);
    refusedByCase.set(key, [...(refusedByCase.get(key) ?? []), u]);
    if (!selection && !targets.has(key)) targets.set(key, { target: { system: u.system, ref: u.ref } });
  }
  if (!selection) for (const [key, c] of journalCases) targets.set(key, { target: { system: c.system, ref: c.ref } });
  const ordered = [...targets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const rows = await mapLimited(ordered, concurrency, ([key, { target, askedCaseRef }]) => reconcileCase(target, journalCases.get(key), askedCaseRef, refusedByCase.get(key) ?? [], sources.crm));
  const cases = [...rows, ...unknownCaseRefs];
  const notes = [ORDER_NOTE, CREATED_TWICE_NOTE];
  if (!selection) notes.push('cases: every case (planning application, repair job) the journal holds an update for');
  return { generatedAt: new Date().toISOString(), cases, unmapped, summary: summariseCases(cases, unmapped, deliveries), notes };
}
