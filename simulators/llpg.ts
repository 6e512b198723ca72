import fs from 'fs';
import path from 'path';
import { dtfFile, dtfRecord, splitAddressableObject, type ChangeType } from '../adapters/gazetteer/dtf-write';
import type { DtfVolume } from '../adapters/gazetteer/dtf';
import type { GazetteerRecord } from './addresses';

/**
 * The borough's gazetteer system: it exports the LLPG as NLPG DTF 7.3, a full extract at
 * start and a change-only volume whenever properties are added or retired during a run, as
 * a council's gazetteer system does for its integrations. Each volume is kept in the folder
 * under its own name, and also written to `current/llpg.csv`, the file the demo hub reads.
 */
export const DEMO_CUSTODIAN = { custodianName: 'COUNCIL-HUB DEMO BOROUGH', custodianCode: '4405' };

const lpiKey = (uprn: string) => `${DEMO_CUSTODIAN.custodianCode}L${uprn.padStart(12, '0')}`;

function street(change: ChangeType, record: GazetteerRecord) {
  const s = { usrn: record.usrn, descriptor: record.streetDescription, locality: record.locality, town: record.townName, adminArea: 'DEMO BOROUGH' };
  return [dtfRecord.street(change, 0, s), dtfRecord.descriptor(change, 0, s)];
}

function property(change: ChangeType, record: GazetteerRecord) {
  return [
    dtfRecord.blpu(change, 0, { uprn: record.uprn, logicalStatus: record.logicalStatus, x: record.x, y: record.y }),
    dtfRecord.lpi(change, 0, {
      uprn: record.uprn,
      lpiKey: lpiKey(record.uprn),
      logicalStatus: record.logicalStatus,
      sao: record.saon ? splitAddressableObject(record.saon) : undefined,
      pao: splitAddressableObject(record.paon),
      usrn: record.usrn,
      postcode: record.postcode,
      postTown: record.postTown,
    }),
  ];
}

/** The whole gazetteer as one DTF 7.3 full file: streets, then BLPUs and LPIs. */
export function gazetteerDtf(records: readonly GazetteerRecord[], volume: DtfVolume): string {
  const streets = new Map<string, GazetteerRecord>();
  for (const r of records) if (!streets.has(r.usrn)) streets.set(r.usrn, r);
  const body = [...[...streets.values()].flatMap((r) => street('I', r)), ...records.flatMap((r) => property('I', r))];
  body.forEach((fields, i) => {
    fields[2] = i + 1; // PRO_ORDER: the order the records are processed in
  });
  return dtfFile(volume, body);
}

export class SimulatedLlpg {
  private volumeNumber = 0;
  private readonly streets = new Set<string>();

  /** `records` is the population's gazetteer: properties added or retired change it too. */
  constructor(readonly folder: string, private readonly records: GazetteerRecord[], private readonly processDate = new Date().toISOString().slice(0, 10)) {}

  /** Empties the folder (a run's volumes are its own) and writes volume 1, the full extract. */
  writeFull(): string {
    fs.rmSync(this.folder, { recursive: true, force: true });
    fs.mkdirSync(this.folder, { recursive: true });
    for (const r of this.records) this.streets.add(r.usrn);
    return this.write('F', (volume) => gazetteerDtf(this.records, volume));
  }

  /** New properties (e.g. flats), on known streets or new ones: a change-only volume. */
  addProperties(added: GazetteerRecord[]): string {
    const body = added.flatMap((r) => {
      const newStreet = !this.streets.has(r.usrn);
      this.streets.add(r.usrn);
      this.records.push(r);
      return [...(newStreet ? street('I', r) : []), ...property('I', r)];
    });
    return this.write('C', (volume) => dtfFile(volume, body));
  }

  /** Properties demolished or merged: their BLPU and LPI become historic (8) in a change-only volume. */
  retireProperties(uprns: string[]): string {
    const body = uprns.flatMap((uprn) => {
      const record = this.records.find((r) => r.uprn === uprn);
      if (!record) throw new Error(`UPRN ${uprn} is not in the simulated gazetteer`);
      record.logicalStatus = 8;
      return property('U', record);
    });
    return this.write('C', (volume) => dtfFile(volume, body));
  }

  /** The latest volume, replaced by each new one: what the demo hub's GAZETTEER_FILE names. */
  get current(): string {
    return path.join(this.folder, 'current', 'llpg.csv');
  }

  /** Written under a temporary name and renamed, so that a reader never sees half a file. */
  private write(fileType: 'F' | 'C', content: (volume: DtfVolume) => string): string {
    const volume: DtfVolume = { ...DEMO_CUSTODIAN, processDate: this.processDate, volumeNumber: ++this.volumeNumber, fileType };
    const file = path.join(this.folder, `${DEMO_CUSTODIAN.custodianCode}_${this.processDate.replace(/-/g, '')}_${String(volume.volumeNumber).padStart(6, '0')}_${fileType}.csv`);
    const text = content(volume);
    for (const target of [file, this.current]) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(`${target}.part`, text);
      fs.renameSync(`${target}.part`, target);
    }
    return file;
  }
}
