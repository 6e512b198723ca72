import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { once } from 'events';
import {
  Gazetteer, GazetteerLoadError, openSharedGazetteer, parseFreeTextHouse, readExtract,
} from '../../adapters/gazetteer';
import { SAMPLE_ROWS, attention, enriched, extractLine, generatedPostcode, tempFolder, writeExtract, writeGeneratedExtract } from './extract-fixture';


describe('gazetteer', () => {
  let dir: string;
  let gazetteer: Gazetteer;

  before(async () => {
    dir = tempFolder('gazetteer');
    gazetteer = new Gazetteer(writeExtract(path.join(dir, 'llpg.csv'), SAMPLE_ROWS));
    await gazetteer.load();
  });
  after(() => {
    gazetteer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('reading the house from free text', () => {
    const cases: Array<[string[], ReturnType<typeof parseFreeTextHouse>]> = [
      [['Flat 2, 12 High Street'], { saon: 'Flat 2', paon: '12', street: 'High Street' }],
      [['Flat 2 12 High Street'], { saon: 'Flat 2', paon: '12', street: 'High Street' }],
      [['Flat 2', '12 High Street'], { saon: 'Flat 2', paon: '12', street: 'High Street' }],
      [['12a  High Street'], { paon: '12A', street: 'High Street' }],
      [['12-14 High Street'], { paon: '12-14', street: 'High Street' }],
      [['12', 'High Street'], { paon: '12', street: 'High Street' }],
      [['Rose Cottage', 'Mill Lane', 'Llandaff'], { paon: 'Rose Cottage', street: 'Mill Lane' }],
      [['Flat 1, Rose Court', 'Mill Lane'], { saon: 'Flat 1', paon: 'Rose Court', street: 'Mill Lane' }],
      [['  ', ''], {}],
    ];
    for (const [lines, expected] of cases) {
      it(`${JSON.stringify(lines)} -> ${JSON.stringify(expected)}`, () => {
        assert.deepStrictEqual(parseFreeTextHouse(lines), expected);
      });
    }
  });

  describe('validating a UPRN', () => {
    it('accepts an approved UPRN and gives its record', () => {
      const check = gazetteer.validateUprn('100023336959');
      assert.ok(check.valid);
      assert.strictEqual(check.record.paon, '14');
    });
    it('refuses historic, provisional, unknown and malformed UPRNs with the reason', () => {
      const historic = gazetteer.validateUprn('100023336960');
      assert.ok(!historic.valid);
      assert.match(historic.reason, /UPRN 100023336960 is historic in the gazetteer \(logical status 8\)/);
      assert.strictEqual(historic.record?.paon, '16');
      const provisional = gazetteer.validateUprn(100023336961);
      assert.ok(!provisional.valid);
      assert.match(provisional.reason, /provisional .*logical status 6/);
      const unknown = gazetteer.validateUprn('999');
      assert.ok(!unknown.valid);
      assert.strictEqual(unknown.reason, 'UPRN 999 is not in the gazetteer');
      const malformed = gazetteer.validateUprn('12AB');
      assert.ok(!malformed.valid);
      assert.match(malformed.reason, /not 1-12 digits/);
    });
  });

  describe('resolving an address', () => {
    it('enriches by UPRN, whatever the text says', () => {
      const address = enriched(gazetteer.resolve({ uprn: '100023340001', lines: ['somewhere else'], postcode: 'AB1 2CD' }));
      assert.deepStrictEqual(address, {
        uprn: '100023340001', paon: 'ROSE COTTAGE', streetDescription: 'MILL LANE', locality: 'LLANDAFF',
        townName: 'CARDIFF', postTown: 'CARDIFF', postcode: 'CF5 2YN',
      });
    });

    it('needs attention for a UPRN that is not approved, offering its record', () => {
      const result = attention(gazetteer.resolve({ uprn: '100023336960', lines: ['16 High Street'], postcode: 'CF10 1EP' }));
      assert.match(result.reason, /historic/);
      assert.deepStrictEqual(result.candidates.map((c) => [c.uprn, c.logicalStatus]), [['100023336960', 8]]);
    });

    it('matches a flat by lower-case postcode, SAON and PAON when the UPRN is missing', () => {
      const address = enriched(gazetteer.resolve({ lines: ['Flat 2, 12 High Street'], town: 'Cardiff', postcode: 'cf10 1ep' }));
      assert.strictEqual(address.uprn, '100023336958');
      assert.strictEqual(address.saon, 'FLAT 2');
    });

    it('matches a house name, and a CRM-shaped address (line1..line3)', () => {
      assert.strictEqual(enriched(gazetteer.resolve({ lines: ['Rose Cottage', 'Mill Lane'], postcode: 'CF5 2YN' })).uprn, '100023340001');
      assert.strictEqual(enriched(gazetteer.resolve({ line1: 'Rose Cottage', line2: 'Mill Lane', postcode: 'CF52YN' })).uprn, '100023340001');
    });

    it('matches a Welsh house name typed without its accent', () => {
      const address = enriched(gazetteer.resolve({ lines: ['Ty Gwyn', 'Heol y Fran'], postcode: 'CF14 6AA' }));
      assert.strictEqual(address.uprn, '100023340002');
      assert.strictEqual(address.paon, 'TŶ GWYN');
      assert.strictEqual(address.townName, 'CAERDYDD');
    });

    it('matches BS7666 fields without a UPRN', () => {
      assert.strictEqual(enriched(gazetteer.resolve({ paon: '14', streetDescription: 'HIGH STREET', postcode: 'CF10 1EP' })).uprn, '100023336959');
    });

    it('needs attention when a house is split into flats and no flat is given, offering the flats', () => {
      const result = attention(gazetteer.resolve({ lines: ['12 High Street'], postcode: 'CF10 1EP' }));
      assert.strictEqual(result.reason, 'no approved gazetteer address at CF10 1EP has PAON "12" and no SAON');
      assert.deepStrictEqual(result.candidates.map((c) => c.saon), ['FLAT 1', 'FLAT 2']);
    });

    it('lets the street decide between two streets at one postcode, and does not guess without it', () => {
      assert.strictEqual(enriched(gazetteer.resolve({ lines: ['1 Station Terrace'], postcode: 'CF64 1AA' })).uprn, '100023350002');
      const result = attention(gazetteer.resolve({ lines: ['1', 'The Station'], postcode: 'CF64 1AA' }));
      assert.match(result.reason, /^2 approved gazetteer addresses at CF64 1AA have PAON "1" and no SAON: not guessing$/);
      assert.deepStrictEqual(result.candidates.map((c) => c.uprn).sort(), ['100023350001', '100023350002']);
    });

    it('does not match historic or provisional records', () => {
      const result = attention(gazetteer.resolve({ lines: ['16 High Street'], postcode: 'CF10 1EP' }));
      assert.match(result.reason, /no approved gazetteer address at CF10 1EP has PAON "16"/);
      assert.ok(result.candidates.every((c) => c.logicalStatus === 1));
    });

    it('says why when there is nothing to match on', () => {
      assert.strictEqual(attention(gazetteer.resolve({ lines: ['12 High Street'] })).reason, 'the address has no UPRN and no postcode to match on');
      assert.match(attention(gazetteer.resolve({ lines: ['12 High Street'], postcode: 'HIGH ST' })).reason, /"HIGH ST" is not a UK postcode/);
      const unknown = attention(gazetteer.resolve({ lines: ['12 High Street'], postcode: 'SW1A 1AA' }));
      assert.strictEqual(unknown.reason, 'the gazetteer has no approved address at SW1A 1AA');
      assert.deepStrictEqual(unknown.candidates, []);
      const noHouse = attention(gazetteer.resolve({ lines: [' '], postcode: 'CF5 2YN' }));
      assert.match(noHouse.reason, /no house number or name/);
      assert.strictEqual(noHouse.candidates.length, 1);
    });

    it('needs attention for a UPRN whose record is not a postal address', () => {
      const result = attention(gazetteer.resolve({ uprn: '100023360001' }));
      assert.match(result.reason, /UPRN 100023360001 is not a complete postal address/);
    });
  });

  describe('malformed extracts', () => {
    it('refuses the whole extract, naming every bad row by its line number', async () => {
      const file = writeExtract(path.join(dir, 'bad.csv'), SAMPLE_ROWS.slice(0, 2), [
        '100,200,,5,SOME STREET,,CARDIFF,CARDIFF,CF10 1EP,1,2', // 11 fields: line 4
        'ABC,200,,5,SOME STREET,,CARDIFF,CARDIFF,NOT A PC,x,2,3', // line 5
        extractLine(SAMPLE_ROWS[0]), // duplicate UPRN: line 6
      ]);
      await assert.rejects(readExtract(file), (err: GazetteerLoadError) => {
        assert.ok(err instanceof GazetteerLoadError);
        assert.strictEqual(err.problemCount, 3);
        assert.deepStrictEqual(err.problems.map((p) => p.line), [4, 5, 6]);
        assert.match(err.problems[0].message, /has 11 fields, expected 12/);
        assert.match(err.problems[1].message, /uprn "ABC" is not 1-12 digits.*postcode "NOT A PC" is not a UK postcode.*x "x" is not a number.*logical_status "3" is not 1, 6 or 8/);
        assert.strictEqual(err.problems[2].message, 'uprn 100023336956 is already on line 2');
        assert.match(err.message, /line 4: has 11 fields/);
        return true;
      });
    });

    it('refuses a wrong header, an unclosed quote, an empty file and a missing file', async () => {
      const header = path.join(dir, 'header.csv');
      fs.writeFileSync(header, 'uprn,usrn,paon\n1,2,3\n');
      await assert.rejects(readExtract(header), /line 1: header is "uprn,usrn,paon"/);
      const quote = writeExtract(path.join(dir, 'quote.csv'), SAMPLE_ROWS.slice(0, 1), ['1,2,"unclosed,3']);
      await assert.rejects(readExtract(quote), (err: GazetteerLoadError) => err.problems.length === 1 && /Quote Not Closed/i.test(err.message));
      const empty = path.join(dir, 'empty.csv');
      fs.writeFileSync(empty, '');
      await assert.rejects(readExtract(empty), /the extract is empty/);
      await assert.rejects(readExtract(path.join(dir, 'nothing-here.csv')), /cannot read the file \(ENOENT\)/);
    });

    it('keeps the extract it had when a reload fails, and takes a good one when it comes', async () => {
      const file = writeExtract(path.join(dir, 'reload.csv'), SAMPLE_ROWS);
      const g = new Gazetteer(file);
      try {
        await g.load();
        fs.writeFileSync(file, 'not,an,extract\n');
        await assert.rejects(g.load(), GazetteerLoadError);
        assert.ok(g.validateUprn('100023336956').valid, 'the old extract still answers');
        writeExtract(file, [{ uprn: '7', paon: '7', street: 'NEW STREET', postcode: 'CF10 2AA' }]);
        await g.load();
        assert.strictEqual(g.size, 1);
        assert.ok(g.validateUprn('7').valid);
        assert.strictEqual(g.validateUprn('100023336956').valid, false);
      } finally {
        g.close();
      }
    });
  });

  it('reloads by itself when the extract file changes, and reports a failed reload', async () => {
    const file = writeExtract(path.join(dir, 'watched.csv'), SAMPLE_ROWS);
    const handle = openSharedGazetteer(file, { watchIntervalMs: 50 });
    const second = openSharedGazetteer(file);
    try {
      assert.strictEqual(second.gazetteer, handle.gazetteer, 'one gazetteer per file');
      await handle.ready;
      const failed = once(handle.gazetteer, 'load-failed');
      fs.writeFileSync(file, `${extractLine(SAMPLE_ROWS[0])}\n`);
      const [err] = await failed;
      assert.match((err as Error).message, /line 1: header is/);
      const reloaded = once(handle.gazetteer, 'loaded');
      // a new file renamed into place, as extracts are usually delivered
      writeExtract(`${file}.new`, [...SAMPLE_ROWS, { uprn: '55', paon: '55', street: 'NEW STREET', postcode: 'CF10 2AA' }]);
      fs.renameSync(`${file}.new`, file);
      await reloaded;
      assert.ok(handle.gazetteer.validateUprn('55').valid);
    } finally {
      handle.release();
      second.release();
    }
    const again = openSharedGazetteer(file);
    assert.notStrictEqual(again.gazetteer, handle.gazetteer, 'the last release frees it');
    again.release();
  });

  it('loads a 300,000-row extract and indexes every row by UPRN and postcode', async function () {
    this.timeout(180000);
    const file = await writeGeneratedExtract(path.join(dir, 'large.csv'), 300000);
    const g = new Gazetteer(file);
    try {
      const report = await g.load();
      assert.strictEqual(report.records, 300000);
      assert.strictEqual(report.postcodes, 12000);
      assert.ok(g.validateUprn('200000000000').valid);
      assert.strictEqual(g.lookupUprn('200000299999')?.postcode, generatedPostcode(11999));
      assert.strictEqual(g.atPostcode(generatedPostcode(11999).toLowerCase()).length, 25);
      const last = enriched(g.resolve({ lines: ['25 Generated Street 11999'], postcode: generatedPostcode(11999) }));
      assert.strictEqual(last.uprn, '200000299999');
    } finally {
      g.close();
    }
  });
});
