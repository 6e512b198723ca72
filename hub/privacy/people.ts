import { randomUUID } from 'crypto';
import type { CrossReference, CrossReferenceStore } from '../../adapters/people/cross-references';
import { Journal, NotFoundError, RefusedError } from '../journal/journal';
import { AuditRecord, DeliveryRecord, DeliveryStatus, ErasureRecord, MessageRecord, everyItem, openStatuses } from '../journal/types';

/**
 * Subject access and erasure for the council's data protection officer: everything the hub
 * holds about one person (journal messages and their deliveries, dead letters, refused
 * content, cross-references, audit), found by CRM contact id, by name and date of birth, or
 * by any system's id; exported as JSON; erased, leaving a pseudonymised tombstone.
 */
export interface PersonQuery {
  /** The CRM contact id: the key of the person's deliveries and cross-references. */
  contactId?: string;
  surname?: string;
  forename?: string;
  /** YYYY-MM-DD, as the CRM sends it. */
  dateOfBirth?: string;
  /** Any system's id: a planning party, a housing tenancy or person ref, an account ref, a payment id. */
  id?: string;
}

export interface PersonRecords {
  query: PersonQuery;
  /** The contact ids the person is known by here. */
  contacts: string[];
  messages: MessageRecord[];
  deliveries: DeliveryRecord[];
  crossReferences: CrossReference[];
  audit: AuditRecord[];
  /** Deliveries still in progress or waiting for a person: they block an erasure unless forced. */
  open: Array<{ id: string; target: string; status: DeliveryStatus }>;
}

export class BadPersonQuery extends Error {}

/** Checks a query: one of contact id, surname with date of birth, or an id; nothing shorter than 3 characters. */
export function personQuery(input: Record<string, unknown>): PersonQuery {
  const text = (name: string): string | undefined => {
    const v = input[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new BadPersonQuery(`${name} must be text`);
    const t = v.trim();
    if (t.length < 3 && name !== 'forename') throw new BadPersonQuery(`${name} "${t}" is too short to find one person by`);
    return t;
  };
  const q: PersonQuery = { contactId: text('contactId'), surname: text('surname'), forename: text('forename'), dateOfBirth: text('dateOfBirth'), id: text('id') };
  if (q.dateOfBirth && !/^\d{4}-\d{2}-\d{2}$/.test(q.dateOfBirth)) throw new BadPersonQuery(`dateOfBirth must be YYYY-MM-DD, got "${q.dateOfBirth}"`);
  if (!q.contactId && !q.id && !(q.surname && q.dateOfBirth)) {
    throw new BadPersonQuery('name a person by contactId, by surname and dateOfBirth, or by id (any system\'s id)');
  }
  for (const k of Object.keys(q) as Array<keyof PersonQuery>) if (q[k] === undefined) delete q[k];
  return q;
}

/** A short description of whom a query names, for the access log and the tombstone's pseudonym. */
export function subjectOf(q: PersonQuery): string {
  return q.contactId ?? q.id ?? `${q.surname}|${q.forename ?? ''}|${q.dateOfBirth}`;
}

export class PersonalData {
  constructor(
    private readonly journal: Journal,
    private readonly crossReferences?: CrossReferenceStore,
  ) {}

  /** Messages whose content (opened) holds the text. A scan of the whole journal: fine for a DPO's request, not for a hot path. */
  private async messagesWith(text: string): Promise<MessageRecord[]> {
    return everyItem((page) => this.journal.store.listMessages({ text, ...page }));
  }

  async find(q: PersonQuery): Promise<PersonRecords> {
    const store = this.journal.store;
    const contacts = new Set<string>(q.contactId ? [q.contactId] : []);
    const messages = new Map<string, MessageRecord>();
    const add = (m: MessageRecord) => messages.set(m.id, m);
    if (q.id) {
      for (const system of ['planning', 'housing', 'revenues'] as const) {
        for (const name of ['partyId', 'tenancyRef', 'personRef', 'accountRef']) {
          const owner = await this.crossReferences?.owner(system, { [name]: q.id });
          if (owner) contacts.add(owner);
        }
      }
      for (const m of await this.messagesWith(q.id)) add(m);
    }
    if (q.surname && q.dateOfBirth) {
      const surname = q.surname.toLowerCase();
      const forename = q.forename?.toLowerCase();
      for (const m of await this.messagesWith(q.dateOfBirth)) {
        const text = JSON.stringify(m.payload).toLowerCase();
        if (text.includes(surname) && (!forename || text.includes(forename))) {
          add(m);
          if (m.key) contacts.add(m.key);
        }
      }
    }
    const deliveries = new Map<string, DeliveryRecord>();
    for (const contact of contacts) {
      for (const m of await everyItem((page) => store.listMessages({ key: contact, ...page }))) add(m);
      for (const m of await this.messagesWith(contact)) add(m);
      for (const d of await everyItem((page) => store.listDeliveries({ key: contact, ...page }))) deliveries.set(d.id, d);
    }
    for (const d of deliveries.values()) {
      if (!messages.has(d.messageId)) {
        const m = await store.getMessage(d.messageId);
        if (m) add(m);
      }
    }
    for (const m of messages.values()) {
      for (const d of await everyItem((page) => store.listDeliveries({ messageId: m.id, ...page }))) deliveries.set(d.id, d);
    }
    const audit = new Map<string, AuditRecord>();
    for (const d of deliveries.values()) for (const a of await store.listAudit({ deliveryId: d.id, limit: 1000 })) audit.set(a.id, a);
    for (const m of messages.values()) for (const a of await store.listAudit({ messageId: m.id, limit: 1000 })) audit.set(a.id, a);
    const crossReferences: CrossReference[] = [];
    for (const contact of contacts) crossReferences.push(...((await this.crossReferences?.all(contact)) ?? []));
    const ds = [...deliveries.values()].sort((a, b) => a.createdAt - b.createdAt);
    return {
      query: q,
      contacts: [...contacts].sort(),
      messages: [...messages.values()].sort((a, b) => a.receivedAt - b.receivedAt),
      deliveries: ds,
      crossReferences,
      audit: [...audit.values()].sort((a, b) => a.at - b.at),
      open: ds.filter((d) => openStatuses.includes(d.status)).map((d) => ({ id: d.id, target: d.target, status: d.status })),
    };
  }

  /** Everything held about the person, as a subject access request's answer. */
  async export(q: PersonQuery): Promise<PersonRecords & { exportedAt: string; about: string }> {
    const found = await this.find(q);
    return {
      exportedAt: new Date().toISOString(),
      about: 'Everything council-hub holds about this person: messages received about them (with their content), each delivery to a council system, the cross-references to their records in those systems, and the audit of what staff did with them.',
      ...found,
    };
  }

  /**
   * Erases the person: their messages (payloads, refused content), deliveries and
   * cross-references go; the audit records about them are pseudonymised; a tombstone and an
   * audit record of the erasure stay. Open work refuses it, with the reason, unless forced.
   */
  async erase(q: PersonQuery, request: { actor: string; reason: string; force?: boolean }): Promise<ErasureRecord> {
    if (!request.reason?.trim()) throw new RefusedError('an erasure needs a reason (e.g. the request\'s reference)');
    if (!request.actor) throw new RefusedError('an erasure needs the name of the person doing it');
    const found = await this.find(q);
    if (!found.messages.length && !found.deliveries.length && !found.crossReferences.length) {
      throw new NotFoundError(`the hub holds nothing about ${describe(q)}`);
    }
    if (found.open.length && !request.force) {
      throw new RefusedError(
        `${found.open.length} delivery(ies) for this person are still open (${found.open.map((o) => `${o.target} ${o.status} ${o.id}`).join('; ')}): ` +
          'wait for them to settle, or discard them, or erase with force (their systems may then never get the change)',
      );
    }
    const now = Date.now();
    const erasure: ErasureRecord = {
      id: randomUUID(),
      at: now,
      actor: request.actor,
      reason: request.reason.trim(),
      subject: this.journal.codec.pseudonym(subjectOf(q)),
      messageIds: found.messages.map((m) => m.id),
      deliveryIds: found.deliveries.map((d) => d.id),
      crossReferences: found.crossReferences.length,
      ...(found.open.length ? { forced: found.open.map((o) => ({ deliveryId: o.id, status: o.status })) } : {}),
    };
    const audit: AuditRecord[] = found.audit.map((a) => this.journal.codec.pseudonymiseAudit(a, now, `its person was erased (erasure ${erasure.id})`));
    audit.push({
      id: randomUUID(),
      at: now,
      actor: request.actor,
      action: 'erase',
      reason: erasure.reason,
      detail: { erasureId: erasure.id, messages: erasure.messageIds.length, deliveries: erasure.deliveryIds.length, crossReferences: erasure.crossReferences, forced: !!erasure.forced },
    });
    await this.journal.store.erase(erasure, audit);
    for (const contact of found.contacts) await this.crossReferences?.forget(contact);
    return erasure;
  }
}

function describe(q: PersonQuery): string {
  if (q.contactId) return `contact ${q.contactId}`;
  if (q.id) return `id ${q.id}`;
  return `${q.forename ? `${q.forename} ` : ''}${q.surname} born ${q.dateOfBirth}`;
}
