import fs from 'fs';
import { once } from 'events';
import { generatedPostcode } from './extract-fixture';
import { dtfFile, dtfLines, dtfRecord, dtfTrailer, type ChangeType, type DtfLpi, type DtfStreet } from '../../adapters/gazetteer/dtf-write';
import type { DtfVolume } from '../../adapters/gazetteer';

/** A small LLPG in DTF 7.3 for tests: named streets and properties, and volumes to change it. */

export const CUSTODIAN = { custodianName: 'TEST COUNCIL', custodianCode: '4405' };

export function volume(volumeNumber: number, fileType: 'F' | 'C' = 'C', processDate = '2026-11-01'): DtfVolume {
  return { ...CUSTODIAN, processDate, volumeNumber, fileType };
}

export const HIGH_STREET: DtfStreet = { usrn: '20000001', descriptor: 'HIGH STREET', town: 'CARDIFF', adminArea: 'CARDIFF' };
export const STRYD_FAWR: DtfStreet = { ...HIGH_STREET, descriptor: 'STRYD FAWR', town: 'CAERDYDD', adminArea: 'CAERDYDD', language: 'CYM' };
export const MILL_LANE: DtfStreet = { usrn: '20000002', descriptor: 'MILL LANE', locality: 'LLANDAFF', town: 'CARDIFF', adminArea: 'CARDIFF' };

type Fields = Array<string | number>;

export function street(change: ChangeType, s: DtfStreet): Fields[] {
  return [dtfRecord.street(change, 0, s), dtfRecord.descriptor(change, 0, s)];
}

export function blpu(change: ChangeType, uprn: string, logicalStatus = 1): Fields {
  return dtfRecord.blpu(change, 0, { uprn, logicalStatus, x: 318000, y: 176000 });
}

/** An LPI on a street, CF10 1EP unless said otherwise. */
export function lpi(change: ChangeType, l: Partial<DtfLpi> & Pick<DtfLpi, 'uprn' | 'pao'>): Fields {
  return dtfRecord.lpi(change, 0, { lpiKey: `4405L${l.uprn}`, logicalStatus: 1, usrn: HIGH_STREET.usrn, postcode: 'CF10 1EP', postTown: 'CARDIFF', ...l });
}

/** The properties the tests talk about. */
export function sampleRecords(): Fields[] {
  return [
    ...street('I', HIGH_STREET),
    dtfRecord.descriptor('I', 0, STRYD_FAWR),
    ...street('I', MILL_LANE),
    // 4 High Street, and its Welsh-language LPI
    blpu('I', '100023336956'),
    lpi('I', { uprn: '100023336956', pao: { startNumber: 4 } }),
    lpi('I', { uprn: '100023336956', lpiKey: '4405L100023336956CY', language: 'CYM', pao: { startNumber: 4 } }),
    // two flats at 12
    blpu('I', '100023336957'),
    lpi('I', { uprn: '100023336957', sao: { text: 'FLAT 1' }, pao: { startNumber: 12 } }),
    blpu('I', '100023336958'),
    lpi('I', { uprn: '100023336958', sao: { text: 'FLAT 2' }, pao: { startNumber: 12 } }),
    // numbers with a range and a suffix
    blpu('I', '100023336962'),
    lpi('I', { uprn: '100023336962', pao: { startNumber: 16, endNumber: 18 } }),
    blpu('I', '100023336963'),
    lpi('I', { uprn: '100023336963', sao: { startNumber: 1, startSuffix: 'B' }, pao: { startNumber: 20, startSuffix: 'A' } }),
    // Rose Cottage, also known as The Old Mill House (an alternative LPI)
    blpu('I', '100023340001'),
    lpi('I', { uprn: '100023340001', pao: { text: 'ROSE COTTAGE' }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' }),
    lpi('I', { uprn: '100023340001', lpiKey: '4405L100023340001A', logicalStatus: 3, pao: { text: 'THE OLD MILL HOUSE' }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' }),
    // 7 Mill Lane, once The Old Forge (a historic LPI)
    blpu('I', '100023340003'),
    lpi('I', { uprn: '100023340003', pao: { startNumber: 7 }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' }),
    lpi('I', { uprn: '100023340003', lpiKey: '4405L100023340003H', logicalStatus: 8, pao: { text: 'THE OLD FORGE' }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' }),
    // a plot not yet built: provisional
    blpu('I', '100023340004', 6),
    lpi('I', { uprn: '100023340004', logicalStatus: 6, pao: { text: 'PLOT 3' }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' }),
    // 9 Mill Lane, to be named Mill View (a provisional LPI)
    blpu('I', '100023340005'),
    lpi('I', { uprn: '100023340005', pao: { startNumber: 9 }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' }),
    lpi('I', { uprn: '100023340005', lpiKey: '4405L100023340005P', logicalStatus: 6, pao: { text: 'MILL VIEW' }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' }),
    // demolished: historic BLPU and LPI
    blpu('I', '100023340006', 8),
    lpi('I', { uprn: '100023340006', logicalStatus: 8, pao: { startNumber: 11 }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' }),
    // a record type the hub does not need (32, classification): skipped, but counted
    [32, 'I', 0, 100023336956, '4405C1', 'RD04', 'AddressBase', '2026-01-01', '', '2026-01-01', '2026-01-01'],
  ];
}

/** Writes a DTF file; `lines` may break it (a wrong trailer, a record of the wrong width). */
export function writeDtf(file: string, v: DtfVolume, records: Fields[], lines?: (lines: string[]) => string[]): string {
  let text = dtfFile(v, records);
  if (lines) text = lines(text.trimEnd().split('\r\n')).join('\r\n') + '\r\n';
  fs.writeFileSync(file, text, 'utf8');
  return file;
}

/** A file whose trailer counts `count` records, whatever it holds. */
export function writeDtfWithCount(file: string, v: DtfVolume, records: Fields[], count: number): string {
  fs.writeFileSync(file, dtfLines([dtfRecord.header(v), ...records, dtfTrailer(v, count)]), 'utf8');
  return file;
}

/** Streams a full file of `count` generated approved properties, 25 to a street and postcode, UPRNs from 200000000000. */
export async function writeGeneratedDtf(file: string, count: number, v = volume(1, 'F')): Promise<string> {
  const out = fs.createWriteStream(file, 'utf8');
  const write = async (records: Fields[]) => {
    if (!out.write(dtfLines(records))) await once(out, 'drain');
  };
  let records = 1;
  await write([dtfRecord.header(v)]);
  for (let s = 0; s < Math.ceil(count / 25); s++) {
    await write(street('I', { usrn: String(30000000 + s), descriptor: `GENERATED STREET ${s}`, town: 'CARDIFF' }));
    records += 2;
  }
  for (let i = 0; i < count; i++) {
    const uprn = String(200000000000 + i);
    await write([blpu('I', uprn), lpi('I', { uprn, pao: { startNumber: 1 + (i % 25) }, usrn: String(30000000 + Math.floor(i / 25)), postcode: generatedPostcode(Math.floor(i / 25)) })]);
    records += 2;
  }
  out.end(dtfLines([dtfTrailer(v, records + 1)]));
  await once(out, 'finish');
  return file;
}
