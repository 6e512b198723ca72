import type { GazetteerRecord } from './extract';

/**
 * What the gazetteer answers from, whatever format it was loaded from: each property's
 * address by UPRN, the properties at a postcode, and the names by which a property at a
 * postcode may be typed (its address, and from a DTF extract its alternative, provisional
 * and Welsh-language LPIs).
 */
export interface AddressName {
  uprn: string;
  saon?: string;
  paon: string;
  streetDescription: string;
}

export interface AddressBook {
  /** Properties with an address. */
  readonly size: number;
  readonly postcodes: number;
  address(uprn: string): GazetteerRecord | undefined;
  /** Every property whose address is at the postcode (any status), in file order. */
  atPostcode(postcode: string): GazetteerRecord[];
  /** The names of the approved properties at the postcode, in file order; a property may have several. */
  namesAt(postcode: string): AddressName[];
}

/** The simple CSV extract: one row, one property, one name. */
export class CsvAddressBook implements AddressBook {
  private readonly byUprn = new Map<string, GazetteerRecord>();
  private readonly byPostcode = new Map<string, GazetteerRecord[]>();

  constructor(records: GazetteerRecord[]) {
    for (const record of records) {
      this.byUprn.set(record.uprn, record);
      if (!record.postcode) continue;
      const list = this.byPostcode.get(record.postcode);
      if (list) list.push(record);
      else this.byPostcode.set(record.postcode, [record]);
    }
  }

  get size(): number {
    return this.byUprn.size;
  }

  get postcodes(): number {
    return this.byPostcode.size;
  }

  address(uprn: string): GazetteerRecord | undefined {
    return this.byUprn.get(uprn);
  }

  atPostcode(postcode: string): GazetteerRecord[] {
    return this.byPostcode.get(postcode) ?? [];
  }

  namesAt(postcode: string): AddressName[] {
    return this.atPostcode(postcode).filter((r) => r.logicalStatus === 1);
  }
}

export const EMPTY_BOOK: AddressBook = new CsvAddressBook([]);
