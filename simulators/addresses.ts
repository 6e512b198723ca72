/**
 * The address shapes of CONTRACTS.md ("Addresses") and the one way each system writes a
 * gazetteer record in its own shape.
 */
import type { Bs7666Address } from '../adapters/canonical/types';

export type { Bs7666Address };

export interface CrmAddress {
  line1: string;
  line2?: string;
  line3?: string;
  town?: string;
  postcode: string;
  uprn?: string;
}

export interface HousingAddress {
  addressLine1: string;
  addressLine2?: string;
  addressLine3?: string;
  addressLine4?: string;
  addressLine5?: string;
  postcode: string;
  uprn?: string;
}

/** One LLPG record (the gazetteer CSV's columns). logicalStatus 1 approved, 6 provisional, 8 historic. */
export interface GazetteerRecord {
  uprn: string;
  usrn: string;
  saon: string;
  paon: string;
  streetDescription: string;
  locality: string;
  townName: string;
  postTown: string;
  postcode: string;
  x: number;
  y: number;
  logicalStatus: 1 | 6 | 8;
}

export function toBs7666(record: GazetteerRecord): Bs7666Address {
  return compact({
    uprn: record.uprn,
    saon: record.saon || undefined,
    paon: record.paon,
    streetDescription: record.streetDescription,
    locality: record.locality || undefined,
    townName: record.townName,
    postTown: record.postTown,
    postcode: record.postcode,
  });
}

/** "12 Alder Road" for a number, "Rose Cottage" and "Alder Road" on their own lines for a name. */
function streetLines(record: GazetteerRecord): string[] {
  const numbered = /^\d+[A-Z]?$/.test(record.paon);
  const lines = numbered ? [`${record.paon} ${record.streetDescription}`] : [record.paon, record.streetDescription];
  return record.saon ? [record.saon, ...lines] : lines;
}

/** The address lines as people write them: saon, paon + street, locality, town. */
export function addressLines(record: GazetteerRecord): string[] {
  return [...streetLines(record), ...(record.locality ? [record.locality] : []), record.townName];
}

export function toCrmAddress(record: GazetteerRecord, withUprn: boolean): CrmAddress {
  const lines = [...streetLines(record), ...(record.locality ? [record.locality] : [])];
  // The CRM has three free lines; anything beyond joins the third.
  const [line1, line2, ...rest] = lines;
  return compact({
    line1,
    line2,
    line3: rest.length ? rest.join(', ') : undefined,
    town: record.postTown,
    postcode: record.postcode,
    uprn: withUprn ? record.uprn : undefined,
  });
}

export function toHousingAddress(record: GazetteerRecord): HousingAddress {
  const lines = addressLines(record);
  return compact({
    addressLine1: lines[0],
    addressLine2: lines[1],
    addressLine3: lines[2],
    addressLine4: lines[3],
    addressLine5: lines[4],
    postcode: record.postcode,
    uprn: record.uprn,
  });
}

/** The same object without its undefined and empty-string fields. */
export function compact<T extends object>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined && field !== '') out[key] = field;
  return out as T;
}

/** Field-by-field equality of two flat address objects, ignoring case and spacing. */
export function sameAddress(a: object, b: object): boolean {
  const norm = (v: unknown) => (v === undefined || v === null ? '' : String(v).trim().replace(/\s+/g, ' ').toUpperCase());
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (norm((a as any)[key]) !== norm((b as any)[key])) return false;
  return true;
}
