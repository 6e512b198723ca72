import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';
import { performance } from 'perf_hooks';
import { Gazetteer } from '../adapters/gazetteer';
import { dtfLines, dtfRecord, dtfTrailer } from '../adapters/gazetteer/dtf-write';
import type { DtfVolume } from '../adapters/gazetteer/dtf';
import type { Measurement } from './harness';

const run = promisify(execFile);

/**
 * Scenario 7: a county's gazetteer (1,000,000 properties) as the council exports it (NLPG DTF
 * 7.3, a full file), loaded the way the hub loads it, in a process of its own so that its
 * resident memory is the gazetteer's and nothing else's: the load time, the peak RSS
 * (VmHWM), and UPRN checks per second once loaded.
 */
export interface GazetteerLoad {
  properties: number;
  seconds: number;
  peakRssMiB: number;
  uprnChecksPerSecond: number;
}

const FIRST_UPRN = 100_000_000_000;
const PER_STREET = 200;
const TOWNS = ['ASHBURY', 'NORTHGATE', 'MILLBROOK', 'EASTON', 'WESTLEY'];

/** A synthetic county: streets of 200 properties, every tenth of them a flat in a block. */
function writeCounty(file: string, properties: number): void {
  const volume: DtfVolume = { custodianName: 'BENCH COUNTY COUNCIL', custodianCode: '9999', processDate: '2026-12-01', volumeNumber: 1, fileType: 'F' };
  const fd = fs.openSync(file, 'w');
  let order = 0;
  let records = 1;
  const write = (lines: Array<Array<string | number>>) => {
    fs.writeSync(fd, dtfLines(lines));
    records += lines.length;
  };
  write([dtfRecord.header(volume)]);
  records -= 1; // the header was counted when records started at 1
  const streets = Math.ceil(properties / PER_STREET);
  for (let s = 0; s < streets; s++) {
    const street = { usrn: String(20_000_000 + s), descriptor: `${['HIGH', 'MILL', 'CHURCH', 'STATION', 'PARK'][s % 5]} ${['STREET', 'LANE', 'ROAD', 'CLOSE', 'AVENUE'][Math.floor(s / 5) % 5]} ${s}`, town: TOWNS[s % TOWNS.length] };
    const batch: Array<Array<string | number>> = [dtfRecord.street('I', ++order, street), dtfRecord.descriptor('I', ++order, street)];
    for (let p = 0; p < PER_STREET && s * PER_STREET + p < properties; p++) {
      const i = s * PER_STREET + p;
      const uprn = String(FIRST_UPRN + i);
      const postcode = `BX${(s % 90) + 1} ${(p % 9) + 1}${String.fromCharCode(65 + (s % 26))}${String.fromCharCode(65 + (p % 26))}`;
      batch.push(dtfRecord.blpu('I', ++order, { uprn, logicalStatus: 1 }));
      batch.push(
        dtfRecord.lpi('I', ++order, {
          uprn,
          lpiKey: `9999L${String(i).padStart(9, '0')}`,
          logicalStatus: 1,
          ...(p % 10 === 0 ? { sao: { text: `FLAT ${(p % 7) + 1}` } } : {}),
          pao: { startNumber: p + 1 },
          usrn: street.usrn,
          postcode,
          postTown: street.town,
        }),
      );
    }
    write(batch);
  }
  fs.writeSync(fd, dtfLines([dtfTrailer(volume, records + 1)]));
  fs.closeSync(fd);
}

/** In the child: load, then check UPRNs for a second, and print the figures as JSON. */
async function child(file: string, properties: number): Promise<void> {
  const started = performance.now();
  const gazetteer = new Gazetteer(file);
  const report = await gazetteer.load();
  const seconds = (performance.now() - started) / 1000;
  let checks = 0;
  let valid = 0;
  const until = performance.now() + 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) if (gazetteer.validateUprn(String(FIRST_UPRN + ((checks++ * 7919) % properties))).valid) valid++;
  }
  if (valid !== checks) throw new Error(`bench: ${checks - valid} of ${checks} UPRNs of the county were not valid`);
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  process.stdout.write(JSON.stringify({ properties: (report as { records?: number }).records ?? 0, seconds, peakRssMiB: Math.round(peakKb / 1024), uprnChecksPerSecond: checks }));
}

/** The extract is written once per bench run and loaded in each round. */
export function gazetteerLoadBench(quick: boolean) {
  const properties = quick ? 100_000 : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-bench-gazetteer-'));
  const file = path.join(dir, 'county-llpg.csv');
  return {
    properties,
    open() {
      writeCounty(file, properties);
    },
    async round(): Promise<Measurement> {
      const { stdout } = await run(process.execPath, [__filename, '--child', file, String(properties)], { maxBuffer: 1 << 20, timeout: 10 * 60 * 1000 });
      const figures = JSON.parse(stdout) as GazetteerLoad;
      return { value: figures.seconds, extra: { peakRssMiB: figures.peakRssMiB, uprnChecksPerSecond: figures.uprnChecksPerSecond, properties: figures.properties } };
    },
    close() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (require.main === module && process.argv[2] === '--child') {
  child(process.argv[3], Number(process.argv[4])).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
