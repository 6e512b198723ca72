import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { Gazetteer, GazetteerLoadError } from '../../adapters/gazetteer';
import { dtfRecord } from '../../adapters/gazetteer/dtf-write';
import { attention, enriched, tempFolder } from './extract-fixture';
import { HIGH_STREET, MILL_LANE, blpu, lpi, sampleRecords, street, volume, writeDtf } from './dtf-fixture';

/** The compact LLPG (columns, interned texts, lists in the order written) answering as the records say. */
describe('gazetteer: the LLPG in memory', () => {
  let dir: string;
  before(() => {
    dir = tempFolder('gazetteer-llpg');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function loaded(records: Parameters<typeof writeDtf>[2], lines?: Parameters<typeof writeDtf>[3]): Promise<{ g: Gazetteer; file: string }> {
    const file = writeDtf(path.join(dir, `${Math.random().toString(36).slice(2)}.csv`), volume(1, 'F'), records, lines);
    const g = new Gazetteer(file);
    await g.load();
    return { g, file };
  }

  async function refusal(g: Gazetteer): Promise<GazetteerLoadError> {
    const err = await g.load().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof GazetteerLoadError, `expected GazetteerLoadError, got ${err}`);
    return err;
  }

  it('keeps commas and "" inside quoted fields of a DTF file as text of the address', async () => {
    const quoted = { usrn: '20000003', descriptor: 'ST. MARY\'S "OLD" ROAD', locality: 'CANTON, WEST', town: 'CARDIFF' };
    const { g } = await loaded([
      ...street('I', quoted),
      blpu('I', '100023350001'),
      lpi('I', { uprn: '100023350001', sao: { text: 'UNIT 1, REAR' }, pao: { text: 'THE MILL, NORTH WING' }, usrn: quoted.usrn, postcode: 'CF11 9AA' }),
    ]);
    try {
      const record = g.lookupUprn('100023350001')!;
      assert.deepStrictEqual([record.saon, record.paon, record.streetDescription, record.locality], ['UNIT 1, REAR', 'THE MILL, NORTH WING', 'ST. MARY\'S "OLD" ROAD', 'CANTON, WEST']);
      assert.strictEqual(enriched(g.resolve({ saon: 'Unit 1, Rear', paon: 'The Mill, North Wing', postcode: 'CF11 9AA' })).uprn, '100023350001');
    } finally {
      g.close();
    }
  });

  it('leaves out what is empty: no SAON, no locality, no coordinates, no postcode', async () => {
    const { g } = await loaded([
      ...street('I', HIGH_STREET),
      dtfRecord.blpu('I', 0, { uprn: '100023350002', logicalStatus: 1 }),
      lpi('I', { uprn: '100023350002', pao: { startNumber: 3 }, postcode: '', postTown: '' }),
    ]);
    try {
      assert.deepStrictEqual(g.lookupUprn('100023350002'), {
        uprn: '100023350002', usrn: '20000001', paon: '3', streetDescription: 'HIGH STREET', townName: 'CARDIFF', postTown: '', postcode: '', logicalStatus: 1,
      });
      assert.strictEqual(g.lastLoad!.postcodes, 0);
      assert.match(attention(g.resolve({ uprn: '100023350002' })).reason, /is not a complete postal address/);
    } finally {
      g.close();
    }
  });

  it('a property with a BLPU and no LPI has no address: not counted, not found', async () => {
    const { g } = await loaded([...sampleRecords(), blpu('I', '100023350003')]);
    try {
      assert.strictEqual(g.size, 10);
      assert.strictEqual(g.lookupUprn('100023350003'), undefined);
      assert.deepStrictEqual(g.validateUprn('100023350003'), { valid: false, reason: 'UPRN 100023350003 is not in the gazetteer' });
    } finally {
      g.close();
    }
  });

  it('a UPRN not found, however it is written; one with leading zeros is the same UPRN', async () => {
    const { g } = await loaded(sampleRecords());
    try {
      assert.deepStrictEqual(g.validateUprn('100023399999'), { valid: false, reason: 'UPRN 100023399999 is not in the gazetteer' });
      assert.strictEqual(g.lookupUprn('999999999999999'), undefined);
      assert.strictEqual(g.lookupUprn('1.00023336956e11'), undefined, 'not read as a number');
      assert.strictEqual(g.lookupUprn('abc'), undefined);
      assert.strictEqual(g.lookupUprn('000100023336956')?.uprn, '100023336956');
      assert.strictEqual(g.lookupUprn(100023336956)?.paon, '4');
      assert.deepStrictEqual(g.atPostcode('ZZ1 1ZZ'), []);
      assert.deepStrictEqual(g.atPostcode('not a postcode'), []);
    } finally {
      g.close();
    }
  });

  it("refuses a second I of a BLPU's UPRN or of an LPI key, as before", async () => {
    const file = writeDtf(path.join(dir, 'dup-full.csv'), volume(1, 'F'), [...sampleRecords(), blpu('I', '100023336956'), lpi('I', { uprn: '100023336957', pao: { startNumber: 12 } })]);
    const g = new Gazetteer(file);
    try {
      const err = await refusal(g);
      assert.match(err.message, /2 malformed rows: line 32: I for BLPU UPRN 100023336956, which already exists; line 33: I for LPI 4405L100023336957, which already exists/);
      assert.strictEqual(g.loaded, false);
    } finally {
      g.close();
    }
  });

  it('refuses a DTF file with a quoting fault, naming its line', async () => {
    const file = writeDtf(path.join(dir, 'quote.csv'), volume(1, 'F'), sampleRecords(), (lines) => lines.map((l, i) => (i === 7 ? l.replace('"ENG"', '"EN"G"') : l)));
    const g = new Gazetteer(file);
    try {
      const err = await refusal(g);
      assert.strictEqual(err.code, 'GAZETTEER_MALFORMED');
      assert.deepStrictEqual(err.problems.map((p) => p.line), [8]);
      assert.match(err.message, /line 8: field 6 has "G" after its closing quote, expected a comma or the end of the line/);
    } finally {
      g.close();
    }
  });

  it('keeps the LPIs at a postcode in the order written: an updated one moves to the end, a deleted key can come back', async () => {
    const { g, file } = await loaded(sampleRecords());
    try {
      const order = () => g.atPostcode('CF10 1EP').map((r) => r.uprn);
      assert.deepStrictEqual(order(), ['100023336956', '100023336957', '100023336958', '100023336962', '100023336963']);
      writeDtf(file, volume(2), [lpi('U', { uprn: '100023336957', sao: { text: 'FLAT 1' }, pao: { startNumber: 12 } })]);
      await g.load();
      assert.deepStrictEqual(order(), ['100023336956', '100023336958', '100023336962', '100023336963', '100023336957']);
      writeDtf(file, volume(3), [lpi('D', { uprn: '100023336958', pao: {} })]);
      await g.load();
      assert.strictEqual(g.lookupUprn('100023336958'), undefined);
      assert.strictEqual(g.size, 9);
      writeDtf(file, volume(4), [lpi('I', { uprn: '100023336958', sao: { text: 'FLAT 2A' }, pao: { startNumber: 12 }, usrn: MILL_LANE.usrn, postcode: 'CF5 2YN' })]);
      await g.load();
      assert.strictEqual(g.lookupUprn('100023336958')?.saon, 'FLAT 2A');
      assert.strictEqual(g.lookupUprn('100023336958')?.streetDescription, 'MILL LANE');
      assert.deepStrictEqual(order(), ['100023336956', '100023336962', '100023336963', '100023336957']);
      assert.strictEqual(g.atPostcode('CF5 2YN').at(-1)?.uprn, '100023336958');
    } finally {
      g.close();
    }
  });

  it('grows past the room made for the full file when volumes add many properties', async () => {
    const { g, file } = await loaded(sampleRecords());
    try {
      const added = Array.from({ length: 3000 }, (_, i) => String(100023360000 + i));
      writeDtf(file, volume(2), added.flatMap((uprn, i) => [
        dtfRecord.blpu('I', 0, { uprn, logicalStatus: 1, x: 318000 + i, y: 176000.5 }),
        lpi('I', { uprn, pao: { startNumber: i + 100 }, postcode: `CF${10 + (i % 7)} ${1 + (i % 9)}AB` }),
      ]));
      await g.load();
      assert.strictEqual(g.size, 3010);
      assert.strictEqual(g.lastLoad!.postcodes, 2 + 7 * 9);
      for (const [i, uprn] of added.entries()) {
        const record = g.lookupUprn(uprn)!;
        assert.deepStrictEqual([record.paon, record.x, record.y], [String(i + 100), 318000 + i, 176000.5]);
      }
      assert.strictEqual(g.lookupUprn('100023340001')?.paon, 'ROSE COTTAGE', 'what was there is still there');
    } finally {
      g.close();
    }
  });
});
