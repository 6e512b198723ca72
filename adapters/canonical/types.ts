/**
 * TypeScript shapes of the hub's canonical events and of each mapping's target. The JSON
 * Schemas beside this file (schemas/*.schema.json) are the rule; these types follow them
 * field for field so that code handling a validated value is type-checked too.
 */

/** BS7666 structured address, as the gazetteer (LLPG), planning and the canonical model hold it. */
export interface Bs7666Address {
  /** 1-12 digits. */
  uprn: string;
  /** Secondary addressable object, e.g. "Flat 2". */
  saon?: string;
  /** Primary addressable object, e.g. "12" or "Rose Cottage". */
  paon: string;
  streetDescription: string;
  locality?: string;
  townName: string;
  postTown: string;
  /** Royal Mail form, e.g. "CF10 1EP". */
  postcode: string;
}

/**
 * An address as a person typed it (the CRM's free text), waiting for the gazetteer to turn it
 * into a Bs7666Address: the UPRN when the contact centre picked it from the gazetteer.
 */
export interface FreeTextAddress {
  uprn?: string;
  /** The non-blank address lines, in order (CRM line1..line3). */
  lines: string[];
  town?: string;
  postcode?: string;
}

export interface Person {
  title?: string;
  forename: string;
  surname: string;
  /** YYYY-MM-DD. */
  dateOfBirth?: string;
  /** Each system's own id for the person, e.g. { crmContactId: "C0012345" }. */
  ids: { crmContactId?: string; [system: string]: string | undefined };
}

export interface EventSource {
  /** The system the event came from, e.g. "crm". */
  system: string;
  /** How it reached that system, e.g. "ContactCentre". */
  channel?: string;
}

/** A person told the council they moved. A = Bs7666Address once the gazetteer has resolved both addresses. */
export interface PersonAddressChanged<A = Bs7666Address> {
  eventType: 'person.address.changed';
  eventId: string;
  /** ISO 8601 date-time with offset. */
  occurredAt: string;
  source: EventSource;
  person: Person;
  previousAddress: A;
  newAddress: A;
  /** YYYY-MM-DD: the day the person moved. */
  effectiveDate: string;
}

/** The same event straight from the CRM, before the gazetteer (schema person.address.changed.unresolved). */
export type UnresolvedPersonAddressChanged = PersonAddressChanged<FreeTextAddress>;

export interface CaseParties {
  crmContactId?: string;
  planningPartyId?: string;
  housingTenancyRef?: string;
  housingPersonRef?: string;
}

/** Something happened on a case in a back-office system (a planning decision, a repair status). */
export interface CaseUpdated {
  eventType: 'case.updated';
  /** "planning" or "housing". */
  sourceSystem: string;
  /** The case's reference in that system: an application ref, a repair job ref. */
  sourceRef: string;
  caseType: string;
  /** A one-line title for a case the CRM does not have yet. */
  title: string;
  status: string;
  summary: string;
  decision?: string;
  /** YYYY-MM-DD as the source system dated it. */
  eventDate: string;
  /** ISO 8601 date-time; a date-only source event is taken at 00:00 UTC of that date. */
  occurredAt: string;
  officer?: string;
  /** Unique per source event: the CRM's idempotency key for AddCaseUpdate. */
  sourceEventId: string;
  parties?: CaseParties;
}

export type Fund = 'CTX' | 'NDR' | 'HRA' | 'SUN';
/** T telephone, W web, C counter, K kiosk. */
export type PaymentChannel = 'T' | 'W' | 'C' | 'K';

/** One payment taken by the cash receipting system (one detail record of a payments file). */
export interface PaymentReceived {
  eventType: 'payment.received';
  transactionRef: string;
  /** ISO 8601 date-time. */
  receivedAt: string;
  fund: Fund;
  accountRef: string;
  /** Integer pence, > 0. */
  amountPence: number;
  channel: PaymentChannel;
  authCode: string;
  file: { name: string; line: number };
}

// ---- mapping targets ----

/** Arguments of planning's UpdatePartyAddress. */
export interface PlanningUpdatePartyAddress {
  partyId: string;
  address: Bs7666Address;
  effectiveDate: string;
  requestId: string;
}

/** Housing's address: up to five lines of at most 35 characters, the postcode and the UPRN. */
export interface HousingAddress {
  addressLine1: string;
  addressLine2?: string;
  addressLine3?: string;
  addressLine4?: string;
  addressLine5?: string;
  postcode: string;
  uprn: string;
}

/** Arguments of housing's UpdateCorrespondenceAddress. */
export interface HousingUpdateCorrespondenceAddress {
  tenancyRef: string;
  personRef: string;
  address: HousingAddress;
  effectiveDate: string;
  requestId: string;
}

/** One row of a revenues ADDR_*.csv change-of-address file: exactly its columns, all text. */
export interface RevenuesAddressChangeRow {
  request_id: string;
  forename: string;
  surname: string;
  date_of_birth: string;
  previous_uprn: string;
  uprn: string;
  address_line_1: string;
  address_line_2: string;
  address_line_3: string;
  address_line_4: string;
  postcode: string;
  effective_date: string;
}

/** The column order of the revenues file, for the CSV writer. */
export const REVENUES_COLUMNS: ReadonlyArray<keyof RevenuesAddressChangeRow> = [
  'request_id', 'forename', 'surname', 'date_of_birth', 'previous_uprn', 'uprn',
  'address_line_1', 'address_line_2', 'address_line_3', 'address_line_4', 'postcode', 'effective_date',
];

/** Arguments of the CRM's AddCaseUpdate. */
export interface CrmAddCaseUpdate {
  caseRef: string;
  status: string;
  summary: string;
  occurredAt: string;
  sourceEventId: string;
}

/** One line of a finance GL_*.csv file: exactly its columns. */
export interface LedgerJournalLine {
  journal_ref: string;
  transaction_date: string;
  cost_centre: string;
  account_code: string;
  debit_pence: number;
  credit_pence: number;
  description: string;
  source_ref: string;
}

/** The column order of the finance file, for the CSV writer. */
export const LEDGER_COLUMNS: ReadonlyArray<keyof LedgerJournalLine> = [
  'journal_ref', 'transaction_date', 'cost_centre', 'account_code', 'debit_pence', 'credit_pence', 'description', 'source_ref',
];

/** A ledger journal: its lines balance (total debit = total credit > 0). */
export interface LedgerJournal {
  journalRef: string;
  lines: LedgerJournalLine[];
}

/** A fund's ledger codes (mappings/config/funds.json). */
export interface FundLedgerCodes {
  name: string;
  costCentre: string;
  incomeAccount: string;
  bankAccount: string;
}
