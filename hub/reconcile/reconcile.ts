import type { DeliveryRecord } from '../journal/types';
import type { CrossReference } from '../xref';
import { AddressView, compareAddresses, describeAddress, fromBs7666, fromCrm, fromLines } from './address';
import { mapLimited } from '../../adapters/concurrency';

/**
 * The reconciliation report: for each person (a CRM contact), whether each system the hub
 * has found them in holds the CRM's address. Planning and housing are read back through
 * their own APIs (GetParty, GetTenant) with the ids the hub remembered (hub/xref).
 * Revenues has no read API in the contract, so its column comes from the journal: the
 * outcome of the latest change the hub sent it (accepted, rejected, no match).
 */
export type SystemName = 'planning' | 'housing' | 'revenues';
export const systems: readonly SystemName[] = ['planning', 'housing', 'revenues'];

/**
 * agrees: holds the CRM's address. differs: holds another, or the change to it was
 * rejected, died or needs a person. not-known: the hub has no relationship on record for
 * this person there (nothing to compare). in-progress: a change is still on its way
 * (pending, in flight, retrying). unreadable: the system or the CRM could not be read.
 */
export type Verdict = 'agrees' | 'differs' | 'not-known' | 'in-progress' | 'unreadable';
export const verdicts: readonly Verdict[] = ['agrees', 'differs', 'not-known', 'in-progress', 'unreadable'];

export interface SystemFinding {
  system: SystemName;
  verdict: Verdict;
  /** the system's own ids for the person (from the cross-reference) */
  ids?: Record<string, string>;
  /** the address the system holds (revenues: the address of the last change it accepted) */
  address?: string;
  /** how the addresses were compared */
  comparedBy?: 'uprn' | 'text';
  /** in words: why this verdict */
  detail: string;
  /** the journal's latest delivery of a change to this system for the person */
  delivery?: { id: string; status: string; reason?: string; error?: string };
}

export interface PersonReconciliation {
  contactId: string;
  name?: string;
  /** the CRM's address, the reference */
  crmAddress?: string;
  /** set when the CRM could not be read: nothing else was compared */
  error?: string;
  systems: SystemFinding[];
}

export interface ReconciliationSummary {
  people: number;
  /** people with at least one system that differs, is in progress, or could not be read */
  peopleNotAgreeing: number;
  bySystem: Record<SystemName, Record<Verdict, number>>;
  /** true when no system differs, is in progress or could not be read */
  allAgree: boolean;
}

export interface ReconciliationReport {
  generatedAt: string;
  people: PersonReconciliation[];
  summary: ReconciliationSummary;
  notes: string[];
}

/** Reads the CRM. getContact resolves with GetContact's `contact` (with `address`). */
export interface CrmReader {
  getContact(contactId: string): Promise<any>;
}
/** Reads planning: GetParty's `party` (with its BS7666 `address`). */
export interface PlanningReader {
  getParty(partyId: string): Promise<any>;
}
/** Reads housing: GetTenant's `tenant` (with `correspondenceAddress`). */
export interface HousingReader {
  getTenant(tenancyRef: string, personRef: string): Promise<any>;
}

/** What the reconciliation needs from the journal. */
export interface JournalReader {
  /** every CRM contact the journal holds a change of address for */
  contactIds(): Promise<string[]>;
  /** the newest delivery to target for the contact that is not superseded, with its message's payload */
  latestDelivery(target: SystemName, contactId: string): Promise<{ delivery: DeliveryRecord; payload: unknown } | undefined>;
}

export interface ReconcileSources {
  crm: CrmReader;
  /** absent: planning's endpoint is not configured (people found there are unreadable) */
  planning?: PlanningReader;
  housing?: HousingReader;
  crossReferences: { all(contactId: string): Promise<CrossReference[]> };
  /** absent: revenues cannot be reported and nothing is known of changes under way */
  journal?: JournalReader;
}

export interface ReconcileOptions {
  /** the people to reconcile; default every contact the journal has a change for */
  contactIds?: string[];
  /** calls in parallel (default 8) */
  concurrency?: number;
}

export const REVENUES_NOTE = 'revenues has no read API in the contract: its column is the outcome of the latest change the hub sent it (from the journal), not its own record';

const inProgress = new Set(['pending', 'in-flight', 'awaiting-answer', 'failed']);
const stuck = new Set(['dead', 'needs-attention', 'discarded']);

function deliveryView(delivery: DeliveryRecord): SystemFinding['delivery'] {
  return { id: delivery.id, status: delivery.status, ...(delivery.reason ? { reason: delivery.reason } : {}), ...(delivery.lastError ? { error: delivery.lastError.message } : {}) };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The new address of a journalled change: the CRM event's (inbound), a canonical one (an
 * edited copy replayed from a node after the gazetteer: BS7666, or still free text), or a
 * revenues request row (an edited copy replayed from the revenues nodes). */
function changedTo(payload: any): AddressView | undefined {
  if (payload && typeof payload === 'object' && 'address_line_1' in payload) {
    return { uprn: payload.uprn || undefined, lines: [payload.address_line_1, payload.address_line_2, payload.address_line_3, payload.address_line_4].filter(Boolean), postcode: payload.postcode };
  }
  const address = payload?.newAddress;
  if (!address || typeof address !== 'object') return undefined;
  if (Array.isArray(address.lines)) return { uprn: address.uprn, lines: address.lines.filter(Boolean), town: address.town, postcode: address.postcode };
  if (address.paon || address.streetDescription) return fromBs7666(address);
  return fromCrm(address);
}

/** Planning or housing: read the record the hub found, compare, and say why. */
async function readBack(
  system: 'planning' | 'housing',
  contactId: string,
  crm: AddressView,
  xref: CrossReference | undefined,
  sources: ReconcileSources,
): Promise<SystemFinding> {
  const latest = await sources.journal?.latestDelivery(system, contactId).catch(() => undefined);
  const delivery = latest && deliveryView(latest.delivery);
  if (!xref) {
    const open = latest && (inProgress.has(latest.delivery.status) || stuck.has(latest.delivery.status));
    if (open) return { system, verdict: inProgress.has(latest.delivery.status) ? 'in-progress' : 'differs', detail: `not found yet; the latest change is ${latest.delivery.status}${latest.delivery.reason ? `: ${latest.delivery.reason}` : ''}`, delivery };
    return { system, verdict: 'not-known', detail: `the hub has not found this person in ${system}` };
  }
  let held: AddressView;
  try {
    if (system === 'planning') {
      if (!sources.planning) throw new Error('planning is not configured (PLANNING_WSDL)');
      held = fromBs7666((await sources.planning.getParty(xref.ids.partyId))?.address);
    } else {
      if (!sources.housing) throw new Error('housing is not configured (HOUSING_WSDL)');
      held = fromLines((await sources.housing.getTenant(xref.ids.tenancyRef, xref.ids.personRef))?.correspondenceAddress);
    }
  } catch (err) {
    return { system, verdict: 'unreadable', ids: xref.ids, detail: `cannot read ${system}: ${errorText(err)}`, delivery };
  }
  const { same, by } = compareAddresses(crm, held);
  const base = { system, ids: xref.ids, address: describeAddress(held), comparedBy: by, delivery };
  if (same) return { ...base, verdict: 'agrees', detail: `holds the CRM's address (compared by ${by === 'uprn' ? 'UPRN' : 'postcode and lines'})` };
  if (latest && inProgress.has(latest.delivery.status)) return { ...base, verdict: 'in-progress', detail: `holds another address; a change is ${latest.delivery.status}` };
  const why = latest && stuck.has(latest.delivery.status) ? `; the latest change is ${latest.delivery.status}: ${latest.delivery.reason ?? latest.delivery.lastError?.message ?? ''}` : '';
  return { ...base, verdict: 'differs', detail: `holds another address${why}` };
}

/** Revenues, from the journal only (no read API): the outcome of the latest change sent. */
async function fromJournal(crm: AddressView, contactId: string, sources: ReconcileSources): Promise<SystemFinding> {
  const system = 'revenues';
  if (!sources.journal) return { system, verdict: 'unreadable', detail: 'the journal is not available: revenues cannot be reported' };
  let latest: Awaited<ReturnType<JournalReader['latestDelivery']>>;
  try {
    latest = await sources.journal.latestDelivery(system, contactId);
  } catch (err) {
    return { system, verdict: 'unreadable', detail: `cannot read the journal: ${errorText(err)}` };
  }
  if (!latest) return { system, verdict: 'not-known', detail: 'no change of address was sent to revenues' };
  const { delivery: d, payload } = latest;
  const delivery = deliveryView(d);
  switch (d.status) {
    case 'delivered': {
      const sent = changedTo(payload);
      const { same, by } = sent ? compareAddresses(crm, sent) : { same: false, by: undefined };
      return same
        ? { system, verdict: 'agrees', address: describeAddress(sent), comparedBy: by, detail: "accepted the CRM's address", delivery }
        : { system, verdict: 'differs', address: describeAddress(sent), comparedBy: by, detail: 'accepted an address that is no longer the CRM\'s, and no newer change was sent', delivery };
    }
    case 'skipped':
      return { system, verdict: 'not-known', detail: `no relationship: ${d.reason ?? 'skipped'}`, delivery };
    case 'pending':
    case 'in-flight':
    case 'awaiting-answer':
    case 'failed':
      return { system, verdict: 'in-progress', detail: `the latest change is ${d.status}${d.lastError ? `: ${d.lastError.message}` : ''}`, delivery };
    default:
      return { system, verdict: 'differs', detail: `the latest change is ${d.status}: ${d.reason ?? d.lastError?.message ?? ''}`, delivery };
  }
}

async function reconcilePerson(contactId: string, sources: ReconcileSources): Promise<PersonReconciliation> {
  let contact: any;
  try {
    contact = await sources.crm.getContact(contactId);
  } catch (err) {
    return { contactId, error: `cannot read the CRM contact: ${errorText(err)}`, systems: [] };
  }
  const crm = fromCrm(contact?.address);
  const xrefs = new Map((await sources.crossReferences.all(contactId)).map((x) => [x.system, x]));
  const findings = await Promise.all([
    readBack('planning', contactId, crm, xrefs.get('planning'), sources),
    readBack('housing', contactId, crm, xrefs.get('housing'), sources),
    fromJournal(crm, contactId, sources),
  ]);
  return {
    contactId,
    name: [contact?.firstName, contact?.lastName].filter(Boolean).join(' ') || undefined,
    crmAddress: describeAddress(crm),
    systems: findings,
  };
}

export function summarise(people: PersonReconciliation[]): ReconciliationSummary {
  const bySystem = Object.fromEntries(systems.map((s) => [s, Object.fromEntries(verdicts.map((v) => [v, 0]))])) as ReconciliationSummary['bySystem'];
  let peopleNotAgreeing = 0;
  for (const person of people) {
    let agrees = !person.error;
    for (const finding of person.systems) {
      bySystem[finding.system][finding.verdict]++;
      if (finding.verdict !== 'agrees' && finding.verdict !== 'not-known') agrees = false;
    }
    if (!agrees) peopleNotAgreeing++;
  }
  return { people: people.length, peopleNotAgreeing, bySystem, allAgree: peopleNotAgreeing === 0 };
}

export async function reconcile(sources: ReconcileSources, options: ReconcileOptions = {}): Promise<ReconciliationReport> {
  const contactIds = options.contactIds ?? (sources.journal ? await sources.journal.contactIds() : []);
  const people = await mapLimited([...new Set(contactIds)].sort(), options.concurrency ?? 8, (id) => reconcilePerson(id, sources));
  const notes = [REVENUES_NOTE];
  if (!options.contactIds) notes.push('people: every CRM contact the journal holds a change of address for');
  return { generatedAt: new Date().toISOString(), people, summary: summarise(people), notes };
}
