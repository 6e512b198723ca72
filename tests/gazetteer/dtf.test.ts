import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { once } from 'events';
import { Gazetteer, GazetteerLoadError, openSharedGazetteer, readDtf } from '../../adapters/gazetteer';
import { SimulatedLlpg } from '../../simulators/llpg';
import { generatePopulation } from '../../simulators/population';
import { toBs7666 } from '../../simulators/addresses';
import { SAMPLE_ROWS, attention, enriched, generatedPostcode, tempFolder, writeExtract } from './extract-fixture';
import { MILL_LANE, blpu, lpi, sampleRecords, street, volume, writeDtf, writeDtfWithCount, writeGeneratedDtf } from './dtf-fixture';


/** Rejects with GazetteerLoadError; gives its message. */
async function refused(promise: Promise<unknown>): Promise<GazetteerLoadError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GazetteerLoadError, `expected GazetteerLoadError, got ${err}`);
    return err;
  }
  assert.fail('the file was not refused');
}

describe('gazetteer: LLPG extracts in DTF 7.3', () => {
  let dir: string;
  let full: string;
  let gazetteer: Gazetteer;

  before(async () => {
    dir = tempFolder('gazetteer-dtf');
    full = writeDtf(path.join(dir, 'full.csv'), volume(1, 'F'), sampleRecords());
    gazetteer = new Gazetteer(full);
    await gazetteer.load();
  });
  after(() => {
    gazetteer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A gazetteer loaded from the sample full file, with one file after it (refused or not). */
  async function afterVolume(records: Parameters<typeof writeDtf>[2], v = volume(2), lines?: Parameters<typeof writeDtf>[3]) {
    const file = path.join(dir, `g-${Math.random().toString(36).slice(2)}.csv`);
    const g = new Gazetteer(writeDtf(file, volume(1, 'F'), sampleRecords()));
    await g.load();
    writeDtf(file, v, records, lines);
    return { g, file };
  }

  describe('reading a full file', () => {
    it('tells DTF from the simple CSV by its content, and reports the volume as the version', () => {
      const report = gazetteer.lastLoad!;
      assert.strictEqual(report.format, 'dtf');
      assert.strictEqual(report.version, '4405/2026-11-01/1');
      assert.strictEqual(report.records, 10);
    });

    it('builds the address from the LPI, its street descriptor and its BLPU', () => {
      assert.deepStrictEqual(gazetteer.lookupUprn('100023340001'), {
        uprn: '100023340001', usrn: '20000002', paon: 'ROSE COTTAGE', streetDescription: 'MILL LANE', locality: 'LLANDAFF',
        townName: 'CARDIFF', postTown: 'CARDIFF', postcode: 'CF5 2YN', logicalStatus: 1, x: 318000, y: 176000,
      });
    });

    it('writes SAO and PAO from their parts: numbers, ranges, suffixes and text', () => {
      assert.strictEqual(gazetteer.lookupUprn('100023336962')?.paon, '16-18');
      const flat = gazetteer.lookupUprn('100023336963')!;
      assert.deepStrictEqual([flat.saon, flat.paon], ['1B', '20A']);
      assert.strictEqual(gazetteer.lookupUprn('100023336958')?.saon, 'FLAT 2');
      assert.strictEqual(enriched(gazetteer.resolve({ lines: ['Flat 2, 12 High Street'], postcode: 'cf10 1ep' })).uprn, '100023336958');
    });

    it('keeps the English address when the property has a Welsh-language LPI, and finds it from the Welsh text', () => {
      const address = enriched(gazetteer.resolve({ uprn: '100023336956' }));
      assert.strictEqual(address.streetDescription, 'HIGH STREET');
      assert.strictEqual(address.townName, 'CARDIFF');
      const fromWelsh = enriched(gazetteer.resolve({ lines: ['4 Stryd Fawr'], postcode: 'CF10 1EP' }));
      assert.deepStrictEqual(fromWelsh, address);
    });

    it('resolves the text of an alternative LPI to its property, with the approved address', () => {
      const address = enriched(gazetteer.resolve({ lines: ['The Old Mill House', 'Mill Lane'], postcode: 'CF5 2YN' }));
      assert.strictEqual(address.uprn, '100023340001');
      assert.strictEqual(address.paon, 'ROSE COTTAGE');
    });

    it('resolves the text of a provisional LPI, but a provisional property is not a valid UPRN', () => {
      assert.strictEqual(enriched(gazetteer.resolve({ lines: ['Mill View'], postcode: 'CF5 2YN' })).paon, '9');
      const plot = gazetteer.validateUprn('100023340004');
      assert.ok(!plot.valid);
      assert.match(plot.reason, /provisional/);
    });

    it('never uses a historic LPI as the address, nor to resolve free text', () => {
      assert.strictEqual(gazetteer.lookupUprn('100023340003')?.paon, '7');
      const forge = attention(gazetteer.resolve({ lines: ['The Old Forge', 'Mill Lane'], postcode: 'CF5 2YN' }));
      assert.match(forge.reason, /no approved gazetteer address at CF5 2YN has PAON "The Old Forge"/);
      assert.ok(forge.candidates.every((c) => c.logicalStatus === 1 && c.paon !== 'THE OLD FORGE'));
      const demolished = gazetteer.validateUprn('100023340006');
      assert.ok(!demolished.valid);
      assert.match(demolished.reason, /historic/);
      attention(gazetteer.resolve({ lines: ['11 Mill Lane'], postcode: 'CF5 2YN' }));
    });
  });

  describe('change-only volumes', () => {
    it('a property retired by a change-only volume stops being a valid UPRN; one deleted leaves the gazetteer', async () => {
      const { g, file } = await afterVolume([blpu('U', '100023336957', 8), lpi('U', { uprn: '100023336957', logicalStatus: 8, sao: { text: 'FLAT 1' }, pao: { startNumber: 12 } })]);
      try {
        assert.ok(g.validateUprn('100023336957').valid);
        await g.load();
        assert.match((g.validateUprn('100023336957') as { reason: string }).reason, /UPRN 100023336957 is historic/);
        assert.strictEqual(g.lastLoad!.version, '4405/2026-11-01/2');
        writeDtf(file, volume(3), [lpi('D', { uprn: '100023336958', pao: {} }), blpu('D', '100023336958')]);
        await g.load();
        assert.strictEqual(g.validateUprn('100023336958').valid, false);
        assert.strictEqual(g.lookupUprn('100023336958'), undefined);
        assert.ok(g.validateUprn('100023336956').valid, 'the rest is as it was');
      } finally {
        g.close();
      }
    });

    it('a flat added by a change-only volume becomes resolvable, on a new street too', async () => {
      const newStreet = { usrn: '20000009', descriptor: 'QUAY STREET', town: 'CARDIFF' };
      const { g } = await afterVolume([
        blpu('I', '100023399001'),
        lpi('I', { uprn: '100023399001', sao: { text: 'FLAT 3' }, pao: { startNumber: 12 } }),
        ...street('I', newStreet),
        blpu('I', '100023399002'),
        lpi('I', { uprn: '100023399002', pao: { startNumber: 1 }, usrn: newStreet.usrn, postcode: 'CF10 1AA' }),
      ]);
      try {
        attention(g.resolve({ lines: ['Flat 3, 12 High Street'], postcode: 'CF10 1EP' }));
        await g.load();
        assert.strictEqual(enriched(g.resolve({ lines: ['Flat 3, 12 High Street'], postcode: 'CF10 1EP' })).uprn, '100023399001');
        assert.strictEqual(enriched(g.resolve({ uprn: '100023399002' })).streetDescription, 'QUAY STREET');
      } finally {
        g.close();
      }
    });

    it('applies a renamed street (U of its descriptor) to every address on it', async () => {
      const { g } = await afterVolume([street('U', { ...MILL_LANE, descriptor: 'MILL ROAD' })[1]]);
      try {
        await g.load();
        assert.strictEqual(g.lookupUprn('100023340001')?.streetDescription, 'MILL ROAD');
        assert.strictEqual(enriched(g.resolve({ lines: ['7 Mill Road'], postcode: 'CF5 2YN' })).uprn, '100023340003');
      } finally {
        g.close();
      }
    });
  });

  describe('refused whole, the gazetteer in use untouched', () => {
    const flat3 = [blpu('I', '100023399001'), lpi('I', { uprn: '100023399001', sao: { text: 'FLAT 3' }, pao: { startNumber: 12 } })];

    /** The volume is refused with `message`, and the gazetteer answers exactly as before it. */
    async function assertRefused(records: Parameters<typeof writeDtf>[2], message: RegExp, v = volume(2), lines?: Parameters<typeof writeDtf>[3]) {
      const { g } = await afterVolume(records, v, lines);
      try {
        const err = await refused(g.load());
        assert.match(err.message, message);
        assert.strictEqual(g.lastLoad!.version, '4405/2026-11-01/1');
        assert.strictEqual(g.size, 10);
        assert.strictEqual(g.lookupUprn('100023399001'), undefined, 'nothing of the refused file was applied');
        assert.ok(g.validateUprn('100023336957').valid);
        return err;
      } finally {
        g.close();
      }
    }

    it('a wrong trailer count', async () => {
      const file = writeDtfWithCount(path.join(dir, 'count.csv'), volume(1, 'F'), sampleRecords(), 7);
      const err = await refused(readDtf(file));
      const records = sampleRecords().length + 2;
      assert.match(err.message, new RegExp(`line ${records}: the trailer counts 7 records, the file has ${records}`));
      await assertRefused(flat3, /line 4: the trailer counts 5 records, the file has 4/, volume(2), (lines) => [...lines.slice(0, 3), '99,3,5,"2026-11-01","00:00:00"']);
    });

    it('a record of the wrong width', async () => {
      const err = await assertRefused([...flat3, blpu('U', '100023336957', 8)], /1 malformed row: line 4: record 21 has 22 fields, expected 23/, volume(2), (lines) => lines.map((l, i) => (i === 3 ? l.replace(/,""$/, '') : l)));
      assert.strictEqual(err.code, 'GAZETTEER_MALFORMED');
      assert.deepStrictEqual(err.problems.map((p) => p.line), [4]);
    });

    it('a D or U for a key that does not exist', async () => {
      await assertRefused([...flat3, blpu('U', '999', 8)], /line 4: U for BLPU UPRN 999, which does not exist/);
      await assertRefused([...flat3, lpi('D', { uprn: '100023336957', lpiKey: 'NO-SUCH-LPI', pao: {} })], /line 4: D for LPI NO-SUCH-LPI, which does not exist/);
      await assertRefused([...flat3, street('U', { usrn: '29999999', descriptor: 'NOWHERE' })[1]], /line 4: U for street descriptor USRN 29999999 ENG, which does not exist/);
    });

    it('an LPI whose street or BLPU is missing, however it came about', async () => {
      await assertRefused([...flat3, lpi('I', { uprn: '100023336957', lpiKey: 'ON-NO-STREET', pao: { startNumber: 12 }, usrn: '29999999' })], /line 4: LPI ON-NO-STREET is on street USRN 29999999, which is not in the gazetteer/);
      await assertRefused([...flat3, lpi('I', { uprn: '100023399999', pao: { startNumber: 5 } })], /line 4: LPI 4405L100023399999 is for UPRN 100023399999, which has no BLPU \(21\)/);
      await assertRefused([...flat3, blpu('D', '100023336956')], /line 4: D for BLPU UPRN 100023336956 leaves its LPI 4405L100023336956, 4405L100023336956CY without a BLPU/);
      await assertRefused([...flat3, ...street('D', MILL_LANE)], /line 5: D for street USRN 20000002 leaves LPI 4405L100023340001 without its street/);
    });

    it('a D then an I of the same key within one volume is a move, not a refusal', async () => {
      const { g } = await afterVolume([blpu('D', '100023336962'), lpi('D', { uprn: '100023336962', pao: {} }), blpu('I', '100023336962'), lpi('I', { uprn: '100023336962', pao: { startNumber: 17 } })]);
      try {
        await g.load();
        assert.strictEqual(g.lookupUprn('100023336962')?.paon, '17');
      } finally {
        g.close();
      }
    });

    it('an older or repeated volume, a change-only volume before any full one, and another custodian', async () => {
      await assertRefused(flat3, /line 1: volume 4405\/2026-11-01\/1 is the one in use \(a repeated volume\)/, volume(1));
      const older = await assertRefused(flat3, /line 1: volume 4405\/2026-10-31\/5 is older than the one in use \(4405\/2026-11-01\/1\)/, volume(5, 'C', '2026-10-31'));
      assert.strictEqual(older.code, 'GAZETTEER_VOLUME_REFUSED');
      await assertRefused(flat3, /is older than the one in use/, volume(1, 'F', '2026-10-01'));
      await assertRefused(flat3, /volume 9999\/2026-11-02\/2 is for custodian 9999/, { ...volume(2, 'C', '2026-11-02'), custodianCode: '9999' });
      const alone = writeDtf(path.join(dir, 'alone.csv'), volume(2), flat3);
      assert.match((await refused(readDtf(alone))).message, /change-only volume 4405\/2026-11-01\/2 has no full DTF extract to apply to/);
    });

    it('a file cut short, a second header, a wrong DTF version, an unknown change type', async () => {
      await assertRefused(flat3, /line 3: there is no trailer \(99\): the file is cut short/, volume(2), (lines) => lines.slice(0, 3));
      await assertRefused(flat3, /line 1: VERSION is "7.2", expected 7.3/, volume(2), (lines) => [lines[0].replace('"7.3"', '"7.2"'), ...lines.slice(1)]);
      await assertRefused(flat3, /line 2: CHANGE_TYPE "X" is not I, U or D/, volume(2), (lines) => [lines[0], lines[1].replace('"I"', '"X"'), ...lines.slice(2)]);
      await assertRefused(flat3, /line 5: record 99 comes after the trailer \(line 4\)/, volume(2), (lines) => [...lines, lines[lines.length - 1]]);
      await assertRefused(flat3, /line 2: a second header record \(10\)/, volume(2), (lines) => [lines[0], ...lines]);
    });
  });

  describe('a folder of volumes', () => {
    it('starts from the newest full extract and the change-only volumes after it, then applies each new volume, refusing an old one', async () => {
      const folder = path.join(dir, 'folder');
      fs.mkdirSync(folder);
      writeDtf(path.join(folder, 'v1.csv'), volume(1, 'F', '2026-10-01'), sampleRecords().slice(0, 9));
      writeDtf(path.join(folder, 'v2.csv'), volume(2, 'F'), sampleRecords());
      writeDtf(path.join(folder, 'v3.csv'), volume(3), [blpu('U', '100023336957', 8)]);
      writeDtf(path.join(folder, 'v1b.csv.part'), volume(4), [blpu('U', '100023336956', 8)]);
      const handle = openSharedGazetteer(folder, { watchIntervalMs: 50 });
      try {
        await handle.ready;
        const g = handle.gazetteer;
        assert.strictEqual(g.lastLoad!.version, '4405/2026-11-01/3');
        assert.strictEqual(g.validateUprn('100023336957').valid, false);
        assert.ok(g.validateUprn('100023336956').valid, 'a file still being written (.part) is not read');

        const applied = once(g, 'loaded');
        writeDtf(path.join(folder, 'v4.csv'), volume(4), [blpu('I', '100023399001'), lpi('I', { uprn: '100023399001', pao: { startNumber: 30 } })]);
        await applied;
        assert.strictEqual(g.lastLoad!.version, '4405/2026-11-01/4');
        assert.ok(g.validateUprn('100023399001').valid);

        const failed = once(g, 'load-failed');
        writeDtf(path.join(folder, 'v3-again.csv'), volume(3), [blpu('U', '100023336956', 8)]);
        const [err] = await failed;
        assert.match((err as Error).message, /v3-again.csv was not loaded: line 1: volume 4405\/2026-11-01\/3 is older than the one in use/);
        assert.ok(g.validateUprn('100023336956').valid);
      } finally {
        handle.release();
      }
    });

    it('holds back the volumes after a broken one until it is replaced by a good one', async () => {
      const folder = path.join(dir, 'held');
      fs.mkdirSync(folder);
      writeDtf(path.join(folder, 'v1.csv'), volume(1, 'F'), sampleRecords());
      const broken = writeDtfWithCount(path.join(folder, 'v2.csv'), volume(2), [blpu('I', '100023399001'), lpi('I', { uprn: '100023399001', pao: { startNumber: 30 } })], 9);
      writeDtf(path.join(folder, 'v3.csv'), volume(3), [blpu('U', '100023399001', 8)]);
      writeDtf(path.join(folder, 'v4.csv'), volume(4), [blpu('U', '100023336957', 8)]);
      const handle = openSharedGazetteer(folder, { watchIntervalMs: 50 });
      try {
        const err = await refused(handle.ready);
        assert.match(err.message, /v2.csv was not loaded: 1 malformed row: line 4: the trailer counts 9 records, the file has 4/);
        const g = handle.gazetteer;
        assert.strictEqual(g.lastLoad!.version, '4405/2026-11-01/1', 'volumes 3 and 4 wait for volume 2');
        assert.ok(g.validateUprn('100023336957').valid);

        const caughtUp = new Promise<void>((resolve) => g.on('loaded', (report) => report.version.endsWith('/4') && resolve()));
        writeDtf(broken, volume(2), [blpu('I', '100023399001'), lpi('I', { uprn: '100023399001', pao: { startNumber: 30 } })]);
        await caughtUp;
        assert.match((g.validateUprn('100023399001') as { reason: string }).reason, /historic/, 'volume 2 added it, volume 3 retired it');
        assert.strictEqual(g.validateUprn('100023336957').valid, false, 'volume 4 applied');
      } finally {
        handle.release();
      }
    });
  });

  it('still reads the simple CSV extract, with its checksum as the version', async () => {
    const g = new Gazetteer(writeExtract(path.join(dir, 'simple.csv'), SAMPLE_ROWS));
    try {
      const report = await g.load();
      assert.strictEqual(report.format, 'csv');
      assert.match(report.version, /^sha256:[0-9a-f]{16}$/);
      assert.ok(g.validateUprn('100023336956').valid);
    } finally {
      g.close();
    }
  });

  it("the simulators' gazetteer system: every approved property resolves to its address; volumes retire and add", async () => {
    const population = generatePopulation({ seed: 'dtf-test', properties: 3000 });
    const llpg = new SimulatedLlpg(path.join(dir, 'simulated'), population.gazetteer);
    llpg.writeFull();
    const g = new Gazetteer(llpg.folder);
    // the demo's way: the latest volume in one file, applied before the next is written
    const demo = new Gazetteer(llpg.current);
    try {
      await g.load();
      await demo.load();
      for (const record of population.gazetteer) {
        const result = g.resolve({ uprn: record.uprn });
        if (record.logicalStatus === 1) assert.deepStrictEqual(enriched(result), toBs7666(record));
        else attention(result);
      }
      const [home, other] = population.gazetteer.filter((r) => r.logicalStatus === 1);
      llpg.retireProperties([home.uprn]);
      await demo.load();
      llpg.addProperties([{ ...other, uprn: '99999000001', saon: 'Flat 9' }]);
      await demo.load();
      await g.load();
      for (const gazetteer of [g, demo]) {
        assert.strictEqual(gazetteer.validateUprn(home.uprn).valid, false);
        assert.strictEqual(enriched(gazetteer.resolve({ lines: [`Flat 9, ${other.paon} ${other.streetDescription}`], postcode: other.postcode })).uprn, '99999000001');
        assert.match(gazetteer.lastLoad!.version, /^4405\/\d{4}-\d{2}-\d{2}\/3$/);
      }
    } finally {
      g.close();
      demo.close();
    }
  });

  it('streams a 100,000-property full file and indexes every property by UPRN and postcode; lookups answer from the old version meanwhile', async function () {
    this.timeout(180000);
    const file = writeDtf(path.join(dir, 'large.csv'), volume(1, 'F'), sampleRecords());
    const g = new Gazetteer(file);
    try {
      await g.load();
      await writeGeneratedDtf(`${file}.new`, 100000, volume(2, 'F'));
      fs.renameSync(`${file}.new`, file);
      let loading = true;
      const loaded = g.load().finally(() => {
        loading = false;
      });
      const answers: boolean[] = [];
      while (loading) {
        answers.push(g.validateUprn('100023336956').valid && g.lookupUprn('200000000000') === undefined);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const report = await loaded;
      assert.ok(answers.length > 0 && answers.every(Boolean), 'while the new file loads, the old one answers, and nothing of the new one shows');
      assert.strictEqual(report.records, 100000);
      assert.strictEqual(report.postcodes, 4000);
      assert.strictEqual(g.lookupUprn('100023336956'), undefined, 'the new version replaced the old one whole');
      assert.strictEqual(g.lookupUprn('200000099999')?.postcode, generatedPostcode(3999));
      assert.strictEqual(enriched(g.resolve({ lines: ['25 Generated Street 3999'], postcode: generatedPostcode(3999) })).uprn, '200000099999');
    } finally {
      g.close();
    }
  });
});
