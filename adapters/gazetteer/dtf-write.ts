import { stringify } from 'csv-stringify/sync';
import type { DtfVolume } from './dtf';

/**
 * Writes NLPG DTF 7.3 records (CONTRACTS.md), for the simulators' gazetteer and for test
 * fixtures: each builder gives one record's fields in the contract's order; dtfFile() adds
 * the trailer with the count. Strings are quoted, numbers are not, as gazetteer systems do.
 */
export type ChangeType = 'I' | 'U' | 'D';
type Field = string | number;

/** An addressable object (SAO or PAO) in its parts. */
export interface AddressableObject {
  startNumber?: number;
  startSuffix?: string;
  endNumber?: number;
  endSuffix?: string;
  text?: string;
}

export interface DtfStreet {
  usrn: string;
  descriptor: string;
  locality?: string;
  town?: string;
  adminArea?: string;
  language?: string;
}

export interface DtfBlpu {
  uprn: string;
  logicalStatus: number;
  x?: number;
  y?: number;
}

export interface DtfLpi {
  uprn: string;
  lpiKey: string;
  language?: string;
  logicalStatus: number;
  sao?: AddressableObject;
  pao: AddressableObject;
  usrn: string;
  postcode: string;
  postTown: string;
}

const DAY = '2026-01-01';
const number = (n: number | undefined): Field => (n === undefined ? '' : n);

/** "12" -> {startNumber 12}, "12A" -> {12, "A"}, "12-14" -> {12, endNumber 14}, anything else is text. */
export function splitAddressableObject(text: string): AddressableObject {
  const m = /^(\d+)([A-Z]?)(?:-(\d+)([A-Z]?))?$/i.exec(text.trim());
  if (!m) return text ? { text } : {};
  return { startNumber: Number(m[1]), startSuffix: m[2], ...(m[3] ? { endNumber: Number(m[3]), endSuffix: m[4] } : {}) };
}

export const dtfRecord = {
  header(volume: DtfVolume): Field[] {
    return [10, 'I', 0, volume.custodianName, Number(volume.custodianCode), volume.processDate, volume.volumeNumber, volume.processDate, '00:00:00', '7.3', volume.fileType];
  },
  street(change: ChangeType, order: number, s: DtfStreet): Field[] {
    // RECORD_TYPE 1 (designated street name), STATE 2 (open), classification 8 (open to all vehicles)
    return [11, change, order, Number(s.usrn), 1, 0, 2, DAY, 1, 8, 0, DAY, DAY, DAY, '', '', '', '', '', 10];
  },
  descriptor(change: ChangeType, order: number, s: DtfStreet): Field[] {
    return [15, change, order, Number(s.usrn), s.descriptor, s.locality ?? '', s.town ?? '', s.adminArea ?? '', s.language ?? 'ENG'];
  },
  blpu(change: ChangeType, order: number, b: DtfBlpu): Field[] {
    return [21, change, order, Number(b.uprn), b.logicalStatus, '', '', 'RD04', '', number(b.x), number(b.y), 1, '', DAY, '', DAY, DAY, '', '', '', '', '', ''];
  },
  lpi(change: ChangeType, order: number, l: DtfLpi): Field[] {
    const sao = l.sao ?? {};
    const pao = l.pao;
    return [
      24, change, order, Number(l.uprn), l.lpiKey, l.language ?? 'ENG', l.logicalStatus, DAY, '', DAY, DAY,
      number(sao.startNumber), sao.startSuffix ?? '', number(sao.endNumber), sao.endSuffix ?? '', sao.text ?? '',
      number(pao.startNumber), pao.startSuffix ?? '', number(pao.endNumber), pao.endSuffix ?? '', pao.text ?? '',
      Number(l.usrn), '', 'Y', l.postcode, l.postTown, 'Y', '', '', '',
    ];
  },
};

/** The trailer: the next volume's number and every record counted, header and trailer included. */
export function dtfTrailer(volume: DtfVolume, records: number): Field[] {
  return [99, volume.volumeNumber + 1, records, volume.processDate, '00:00:00'];
}

/** Records as DTF lines (CRLF). */
export function dtfLines(records: Field[][]): string {
  return stringify(records, { quoted_string: true, record_delimiter: 'windows' });
}

/** A whole file: header, the records, trailer. */
export function dtfFile(volume: DtfVolume, records: Field[][]): string {
  return dtfLines([dtfRecord.header(volume), ...records, dtfTrailer(volume, records.length + 2)]);
}
