/**
 * Whom the hub found where: a cross-reference from a CRM contact to each system's own ids
 * (planning party, housing tenancy and person). A system's lookup only knows the address
 * it holds, so a second move made before the first one reached it must be matched through
 * here, not by looking up again. The reverse (which contact a record was found for) keeps
 * one record from being taken for two contacts, and answers "whose case is this?" for
 * events that name a system's record (a planning applicant, a housing tenant).
 */
export type System = 'planning' | 'housing' | 'revenues';

/** Where and as whom the record was found by the system's own lookup. */
export interface FoundWhere {
  uprn: string;
  surname: string;
  forename?: string;
}

export interface CrossReference {
  contactId: string;
  system: System;
  ids: Record<string, string>;
  /** When it was found (ISO 8601). */
  foundAt: string;
  where?: FoundWhere;
}

export interface CrossReferenceStore {
  find(contactId: string, system: System): Promise<CrossReference | undefined>;
  remember(contactId: string, system: System, ids: Record<string, string>, where?: FoundWhere): Promise<void>;
  all(contactId: string): Promise<CrossReference[]>;
  /** The contact a system's record was found for (e.g. planning {partyId}), if any. */
  owner(system: System, ids: Record<string, string>): Promise<string | undefined>;
  /** The records found at an address of a system, with their contacts. */
  foundAt(system: System, uprn: string): Promise<CrossReference[]>;
  /** Erasure: forgets every record found for the contact, and the reverse entries to it. Returns how many went. */
  forget(contactId: string): Promise<number>;
}

/** One text for a record's ids, whatever order they come in: the reverse index's key. */
export function recordKey(ids: Record<string, string>): string {
  return Object.keys(ids)
    .sort()
    .map((k) => `${k}=${ids[k]}`)
    .join(';');
}
