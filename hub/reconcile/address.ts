import { isPostcode, normalisePostcode } from '../../adapters/address/postcode';

/**
 * Whether two systems hold the same address for a person, though each writes it its own
 * way (CONTRACTS.md "Addresses"): the CRM's free lines, planning's BS7666 parts, housing's
 * five lines. By UPRN where both have one; otherwise by postcode and the words of the
 * address lines.
 */
export interface AddressView {
  uprn?: string;
  /** the address lines, in order (house, street, locality...) */
  lines: string[];
  /** the post town where a system keeps it apart from the lines (shown, not compared) */
  town?: string;
  postcode?: string;
}

const text = (value: unknown): string | undefined => (value === undefined || value === null || String(value).trim() === '' ? undefined : String(value).trim());
const present = (values: unknown[]): string[] => values.map(text).filter((v): v is string => v !== undefined);

/** The CRM's address (line1..line3, town, postcode, uprn?). */
export function fromCrm(address: any): AddressView {
  return { uprn: text(address?.uprn), lines: present([address?.line1, address?.line2, address?.line3]), town: text(address?.town), postcode: text(address?.postcode) };
}

/** Planning's BS7666 address (saon, paon, streetDescription, locality, townName, postTown, postcode, uprn). */
export function fromBs7666(address: any): AddressView {
  return {
    uprn: text(address?.uprn),
    lines: present([address?.saon, address?.paon, address?.streetDescription, address?.locality, address?.townName]),
    town: text(address?.postTown),
    postcode: text(address?.postcode),
  };
}

/** Housing's lines (addressLine1..5, postcode, uprn?); also a revenues request row's. */
export function fromLines(address: any): AddressView {
  return {
    uprn: text(address?.uprn),
    lines: present([address?.addressLine1, address?.addressLine2, address?.addressLine3, address?.addressLine4, address?.addressLine5]),
    postcode: text(address?.postcode),
  };
}

function postcodeOf(view: AddressView): string | undefined {
  return view.postcode && isPostcode(view.postcode) ? normalisePostcode(view.postcode) : view.postcode?.toUpperCase().replace(/\s+/g, '');
}

function words(lines: string[]): string[] {
  return lines.join(' ').toUpperCase().replace(/[^A-Z0-9 ]+/g, ' ').split(/\s+/).filter(Boolean);
}

export interface Comparison {
  same: boolean;
  /** 'uprn' when both had one, else 'text' */
  by: 'uprn' | 'text';
}

/**
 * Compares the CRM's address with a system's. Without two UPRNs: the postcodes must be
 * equal, every word of the CRM's lines (not its town: systems write towns differently)
 * must be in the system's lines, and both must carry the same numbers (house and flat
 * numbers), so "12 Alder Road" never matches "14 Alder Road".
 */
export function compareAddresses(crm: AddressView, other: AddressView): Comparison {
  if (crm.uprn && other.uprn) return { same: crm.uprn === other.uprn, by: 'uprn' };
  if (postcodeOf(crm) !== postcodeOf(other)) return { same: false, by: 'text' };
  const theirs = new Set(words(other.lines));
  const ours = words(crm.lines);
  const numbers = (list: string[]) => [...new Set(list.filter((w) => /\d/.test(w)))].sort().join(' ');
  const same = numbers(ours) === numbers([...theirs]) && ours.every((w) => theirs.has(w));
  return { same, by: 'text' };
}

/** One line for a person to read: "Flat 2, 12 Alder Road, ASHBURY XM1 1AB (UPRN 10009000012)". */
export function describeAddress(view: AddressView | undefined): string {
  if (!view) return '';
  const main = [[...view.lines, ...(view.town && !view.lines.includes(view.town) ? [view.town] : [])].join(', '), view.postcode].filter(Boolean).join(' ');
  return view.uprn ? `${main} (UPRN ${view.uprn})` : main;
}
