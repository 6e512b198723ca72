import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';
import { performance } from 'perf_hooks';
import { Gazetteer } from '../adapters/gazetteer';
import { generatePopulation, writeGazetteer } from '../simulators';
import type { Measurement } from './harness';

const run = promisify(execFile);

/**
 * Scenario 7: a county's gazetteer (1,000,000 properties) loaded the way the hub loads it, in
 * a process of its own so that its resident memory is the gazetteer's and nothing else's:
 * the load time, the peak RSS (VmHWM), and UPRN checks per second once loaded.
 */
export interface GazetteerLoad {
  properties: number;
  seconds: number;
  peakRssMiB: number;
  uprnChecksPerSecond: number;
}

/** In the child: load, then check UPRNs for a second, and print the figures as JSON. */
async function child(file: string): Promise<void> {
  const started = performance.now();
  const gazetteer = new Gazetteer(file);
  const report = await gazetteer.load();
  const seconds = (performance.now() - started) / 1000;
  const uprns = fs
    .readFileSync(file, 'utf8')
    .slice(0, 2_000_000)
    .split('\n')
    .slice(1, -1)
    .map((line) => line.split(',')[0]);
  let checks = 0;
  const until = performance.now() + 1000;
  while (performance.now() < until) for (let i = 0; i < 1000; i++) gazetteer.validateUprn(uprns[checks++ % uprns.length]);
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  process.stdout.write(JSON.stringify({ properties: (report as { records?: number }).records ?? 0, seconds, peakRssMiB: Math.round(peakKb / 1024), uprnChecksPerSecond: checks }));
}

/** The extract is written once per bench run (it takes a while) and loaded in each round. */
export function gazetteerLoadBench(quick: boolean) {
  const properties = quick ? 100_000 : 1_000_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-bench-gazetteer-'));
  const file = path.join(dir, 'llpg.csv');
  return {
    properties,
    open() {
      writeGazetteer(file, generatePopulation({ properties, seed: 'bench-county' }).gazetteer);
    },
    async round(): Promise<Measurement> {
      const { stdout } = await run(process.execPath, [__filename, '--child', file], { maxBuffer: 1 << 20, timeout: 10 * 60 * 1000 });
      const figures = JSON.parse(stdout) as GazetteerLoad;
      return { value: figures.seconds, extra: { peakRssMiB: figures.peakRssMiB, uprnChecksPerSecond: figures.uprnChecksPerSecond, properties: figures.properties } };
    },
    close() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (require.main === module && process.argv[2] === '--child') {
  child(process.argv[3]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
