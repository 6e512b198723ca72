import { HubError } from '../errors';
import type { CrossReferenceStore } from './cross-references';

/**
 * Finding a person in a back-office system before sending it a change. The rules
 * (CONTRACTS.md "Who may receive an address change"): a system gets a change only for a
 * person it already knows, found by its own lookup; more than one candidate is never
 * guessed; whom the hub found is remembered, because the system's lookup only knows the
 * address it holds and a second move may come before the first one reached it.
 */
export type LookupSystem = 'planning' | 'housing';

export interface PersonToFind {
  /** The CRM contact: the key of the cross-reference. */
  contactId: string;
  surname: string;
  /** When given, a candidate with another forename is not this person (a relative at the same address). */
  forename?: string;
  dateOfBirth?: string;
  /** The date of birth the hub knows but may not send this system (its sharing rules): only
   * compared with the one the system holds, never sent. */
  knownDateOfBirth?: string;
  /** The UPRN of the address the system should still hold for the person. */
  previousUprn: string;
}

export type LookupResult =
  | { outcome: 'found'; ids: Record<string, string>; via: 'cross-reference' | 'lookup' }
  | { outcome: 'none'; reason: string }
  | { outcome: 'several'; reason: string; candidates: Array<Record<string, unknown>> };

/** Calls one SOAP operation of the system (the hub's SoapClient.call). */
export type SoapCall = (operation: string, args: object) => Promise<any>;

interface SystemLookup {
  operation: string;
  /** The list element of the response, e.g. FindPartyResponse.party. */
  listElement: string;
  args(person: PersonToFind): object;
  ids(candidate: Record<string, unknown>): Record<string, string>;
  describe(person: PersonToFind): string;
  /** The candidate's date of birth where the system records one and its lookup does not match on it. */
  dateOfBirth?(candidate: Record<string, unknown>, call: SoapCall): Promise<string | undefined>;
}

const lookups: Record<LookupSystem, SystemLookup> = {
  planning: {
    operation: 'FindParty',
    listElement: 'party',
    args: (p) => ({ surname: p.surname, uprn: p.previousUprn }),
    ids: (c) => ({ partyId: String(c.partyId) }),
    describe: (p) => `party "${p.surname}" at UPRN ${p.previousUprn}`,
    // FindParty does not say; GetParty does, when planning has one (FindTenant takes it as a filter).
    dateOfBirth: async (c, call) => {
      const dob = (await call('GetParty', { partyId: String(c.partyId) }))?.party?.dateOfBirth;
      return typeof dob === 'string' && dob ? dob : undefined;
    },
  },
  housing: {
    operation: 'FindTenant',
    listElement: 'tenant',
    args: (p) => ({ surname: p.surname, uprn: p.previousUprn, ...(p.dateOfBirth ? { dateOfBirth: p.dateOfBirth } : {}) }),
    ids: (c) => ({ tenancyRef: String(c.tenancyRef), personRef: String(c.personRef) }),
    describe: (p) => `tenant "${p.surname}"${p.dateOfBirth ? ` born ${p.dateOfBirth}` : ''} at UPRN ${p.previousUprn}`,
  },
};

export type LookupInputCode = 'LOOKUP_UNKNOWN_SYSTEM' | 'LOOKUP_NO_CONTACT_ID' | 'LOOKUP_INCOMPLETE_PERSON';

/**
 * The person cannot be looked up as given (no contact id, no surname or previous UPRN, a
 * system without a lookup): permanent, the same message fails the same way every time.
 */
export class LookupInputError extends HubError {
  declare readonly code: LookupInputCode;

  constructor(code: LookupInputCode, message: string) {
    super(code, message, { transient: false });
    this.name = 'LookupInputError';
  }
}

function asList(value: unknown): Array<Record<string, unknown>> {
  if (value === undefined || value === null || value === '') return [];
  return (Array.isArray(value) ? value : [value]) as Array<Record<string, unknown>>;
}

export async function findPerson(system: LookupSystem, person: PersonToFind, deps: { call: SoapCall; xref: CrossReferenceStore }): Promise<LookupResult> {
  const lookup = lookups[system];
  if (!lookup) throw new LookupInputError('LOOKUP_UNKNOWN_SYSTEM', `no lookup for system "${system}"`);
  if (!person.contactId) throw new LookupInputError('LOOKUP_NO_CONTACT_ID', 'the person has no CRM contact id to remember them by');
  const known = await deps.xref.find(person.contactId, system);
  if (known) return { outcome: 'found', ids: known.ids, via: 'cross-reference' };
  if (!person.surname || !person.previousUprn) {
    throw new LookupInputError('LOOKUP_INCOMPLETE_PERSON', `cannot look up in ${system} without a surname and the previous address's UPRN`);
  }
  const response = await deps.call(lookup.operation, lookup.args(person));
  const found = asList(response?.[lookup.listElement]);
  // The lookups match on surname and address only: a relative living there is not this person.
  const name = (value: unknown) => String(value ?? '').trim().toUpperCase();
  let candidates = person.forename ? found.filter((c) => name(c.forename) === name(person.forename)) : found;
  if (candidates.length === 0 && found.length > 0) {
    return { outcome: 'none', reason: `${system} has ${found.length} ${lookup.describe(person)}, none named ${person.forename}: no relationship, nothing sent` };
  }
  if (candidates.length === 0) {
    // Nobody here now. If the one this system held here by that name was taken, with its
    // record, by another contact's change (two CRM contacts of one name at one address: one
    // person recorded twice, or namesakes), nobody can tell which is which but a person.
    const taken = (await deps.xref.foundAt(system, person.previousUprn)).filter(
      (x) => x.contactId !== person.contactId && name(x.where?.surname) === name(person.surname) && (!person.forename || !x.where?.forename || name(x.where.forename) === name(person.forename)),
    );
    if (taken.length) {
      return {
        outcome: 'several',
        reason: `${system} has no ${lookup.describe(person)} now, but the one it held there went with contact ${taken.map((x) => x.contactId).join(', ')} (same name, same address): one person with two CRM contacts, or namesakes? not guessed`,
        candidates: taken.map((x) => ({ ...x.ids, contactId: x.contactId })),
      };
    }
    return { outcome: 'none', reason: `${system} has no ${lookup.describe(person)}: no relationship, nothing sent` };
  }
  // A namesake at the same address (a parent and a child of one name): where the system
  // records a date of birth and it is not the person's, the record is not theirs.
  const born = person.dateOfBirth ?? person.knownDateOfBirth;
  if (lookup.dateOfBirth && born) {
    const births = await Promise.all(candidates.map((c) => lookup.dateOfBirth!(c, deps.call)));
    const others = candidates.filter((_c, i) => births[i] !== undefined && births[i] !== born);
    candidates = candidates.filter((_c, i) => births[i] === undefined || births[i] === born);
    if (candidates.length === 0) {
      return { outcome: 'none', reason: `${system} has ${others.length} ${lookup.describe(person)}, born on another day: no relationship, nothing sent` };
    }
  }
  if (candidates.length > 1) {
    return { outcome: 'several', reason: `${system} has ${candidates.length} candidates for ${lookup.describe(person)}: not guessed`, candidates };
  }
  // One record is one person: a record the hub already found for another contact is not
  // taken for this one as well.
  const owner = await deps.xref.owner(system, lookup.ids(candidates[0]));
  if (owner && owner !== person.contactId) {
    return {
      outcome: 'several',
      reason: `${system}'s ${lookup.describe(person)} is already known as CRM contact ${owner}'s record: one person with two CRM contacts, or namesakes? not guessed`,
      candidates: [{ ...candidates[0], contactId: owner }],
    };
  }
  const ids = lookup.ids(candidates[0]);
  await deps.xref.remember(person.contactId, system, ids, { uprn: person.previousUprn, surname: person.surname, ...(person.forename ? { forename: person.forename } : {}) });
  return { outcome: 'found', ids, via: 'lookup' };
}
