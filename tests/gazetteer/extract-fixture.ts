import assert from 'assert';
import type { AddressResolution } from '../../adapters/gazetteer';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { once } from 'events';

/** Builds LLPG extracts for tests: a few named rows, and any number of generated ones. */

export const EXTRACT_HEADER = 'uprn,usrn,saon,paon,street_description,locality,town_name,post_town,postcode,x,y,logical_status';

export interface ExtractRow {
  uprn: string;
  usrn?: string;
  saon?: string;
  paon: string;
  street: string;
  locality?: string;
  town?: string;
  postTown?: string;
  postcode: string;
  status?: 1 | 6 | 8;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function extractLine(row: ExtractRow): string {
  return [
    row.uprn, row.usrn ?? '20000001', row.saon ?? '', row.paon, row.street, row.locality ?? '',
    row.town ?? 'CARDIFF', row.postTown ?? 'CARDIFF', row.postcode, '318000.00', '176000.00', String(row.status ?? 1),
  ].map(csvField).join(',');
}

/** The addresses the tests talk about. */
export const SAMPLE_ROWS: ExtractRow[] = [
  { uprn: '100023336956', paon: '4', street: 'CHURCH ROAD', postcode: 'CF14 2DX' },
  { uprn: '100023336957', saon: 'FLAT 1', paon: '12', street: 'HIGH STREET', postcode: 'CF10 1EP' },
  { uprn: '100023336958', saon: 'FLAT 2', paon: '12', street: 'HIGH STREET', postcode: 'CF10 1EP' },
  { uprn: '100023336959', paon: '14', street: 'HIGH STREET', postcode: 'CF10 1EP' },
  { uprn: '100023336960', paon: '16', street: 'HIGH STREET', postcode: 'CF10 1EP', status: 8 },
  { uprn: '100023336961', paon: '18', street: 'HIGH STREET', postcode: 'CF10 1EP', status: 6 },
  { uprn: '100023340001', paon: 'ROSE COTTAGE', street: 'MILL LANE', locality: 'LLANDAFF', postcode: 'CF5 2YN' },
  { uprn: '100023340002', paon: 'TŶ GWYN', street: 'HEOL Y FRÂN', locality: 'RHIWBINA', town: 'CAERDYDD', postcode: 'CF14 6AA' },
  // one postcode, two streets, the same house number
  { uprn: '100023350001', paon: '1', street: 'STATION ROAD', postcode: 'CF64 1AA' },
  { uprn: '100023350002', paon: '1', street: 'STATION TERRACE', postcode: 'CF64 1AA' },
  // a record that is in the gazetteer but is not a postal address
  { uprn: '100023360001', paon: 'BUS SHELTER', street: 'MILL LANE', postcode: '', town: '', postTown: '' },
];

export function tempFolder(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `council-hub-${prefix}-`));
}

export function writeExtract(file: string, rows: ExtractRow[], extraLines: string[] = []): string {
  fs.writeFileSync(file, [EXTRACT_HEADER, ...rows.map(extractLine), ...extraLines].join('\r\n') + '\r\n', 'utf8');
  return file;
}

/** Postcode number n (0 to 608,399) of a made-up but well-formed set: "CF1 0AA", "CF2 0AA"... */
export function generatedPostcode(n: number): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const district = 1 + (n % 90);
  const sector = Math.floor(n / 90) % 10;
  const unit = Math.floor(n / 900);
  return `CF${district} ${sector}${letters[Math.floor(unit / 26) % 26]}${letters[unit % 26]}`;
}

/** Streams `count` generated approved addresses, 25 to a postcode, UPRNs from 200000000000. */
export async function writeGeneratedExtract(file: string, count: number): Promise<string> {
  const out = fs.createWriteStream(file, 'utf8');
  out.write(EXTRACT_HEADER + '\n');
  for (let i = 0; i < count; i++) {
    const line = extractLine({
      uprn: String(200000000000 + i),
      paon: String(1 + (i % 25)),
      street: `GENERATED STREET ${Math.floor(i / 25)}`,
      postcode: generatedPostcode(Math.floor(i / 25)),
    });
    if (!out.write(line + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return file;
}

/** The address a resolution enriched to; fails the test otherwise. */
export function enriched(result: AddressResolution) {
  assert.strictEqual(result.status, 'enriched', `expected enriched, got ${JSON.stringify(result)}`);
  return result.address;
}

/** A resolution that needs a person; fails the test otherwise. */
export function attention(result: AddressResolution) {
  assert.strictEqual(result.status, 'attention', `expected attention, got ${JSON.stringify(result)}`);
  return result;
}
