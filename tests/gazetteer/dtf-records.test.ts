import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { CsvQuotingError, CsvSplitter, countRecords, readCsvRecords } from '../../adapters/gazetteer/dtf-records';
import { tempFolder } from './extract-fixture';

type Split = Array<[number, string[]]>;

/** The records of a text split whole: [line, fields]. */
function split(text: string): Split {
  const out: Split = [];
  new CsvSplitter().split(text, true, (fields, line) => {
    out.push([line, fields]);
  });
  return out;
}

/** The quoting fault the text has. */
function fault(text: string): CsvQuotingError {
  try {
    split(text);
  } catch (err) {
    assert.ok(err instanceof CsvQuotingError, `expected CsvQuotingError, got ${err}`);
    return err;
  }
  assert.fail('the text was split without a fault');
}

describe('gazetteer: splitting DTF records', () => {
  let dir: string;
  before(() => {
    dir = tempFolder('gazetteer-records');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps commas inside quotes, reads "" as one quote, and keeps empty fields', () => {
    assert.deepStrictEqual(split('24,"I","THE MILL, NORTH WING","ST. MARY\'S ""OLD"" ROAD",,"", ,x\r\n'), [
      [1, ['24', 'I', 'THE MILL, NORTH WING', 'ST. MARY\'S "OLD" ROAD', '', '', ' ', 'x']],
    ]);
    assert.deepStrictEqual(split('a,\n,\n""\n'), [[1, ['a', '']], [2, ['', '']], [3, ['']]]);
  });

  it('ends lines at CRLF, LF or CR; skips empty lines but counts them; drops a byte-order mark', () => {
    assert.deepStrictEqual(split('\uFEFF10,"I"\r\n\r\n11,"I"\n\n\n15,"I"\r21,"I"'), [
      [1, ['10', 'I']],
      [3, ['11', 'I']],
      [6, ['15', 'I']],
      [7, ['21', 'I']],
    ]);
  });

  it('gives a record with a line end inside quotes the line it ends on, and counts on from there', () => {
    assert.deepStrictEqual(split('1,"two\r\nlines"\n2,x\n'), [[2, ['1', 'two\r\nlines']], [3, ['2', 'x']]]);
  });

  it('says which line and field a quoting fault is on', () => {
    const open = fault('1,a\n2,"never closed\n3,b\n');
    assert.strictEqual(open.lines, 2);
    assert.match(open.message, /field 2 opens a quote that is never closed/);
    const after = fault('1,a\n2,a\n3,"b"c,d\n');
    assert.strictEqual(after.lines, 3);
    assert.match(after.message, /field 2 has "c" after its closing quote/);
    const inside = fault('1,ab"c\n');
    assert.strictEqual(inside.lines, 1);
    assert.match(inside.message, /field 2 has a quote inside it but does not start with one: ab"$/);
  });

  it('stops when told to', () => {
    const seen: number[] = [];
    new CsvSplitter().split('1\n2\n3\n', true, (_fields, line) => {
      seen.push(line);
      return line < 2;
    });
    assert.deepStrictEqual(seen, [1, 2]);
  });

  it('reads a file piece by piece with the same records as whole, UTF-8 cut anywhere', async () => {
    const text = '\uFEFF10,"I","TŶ GWYN"\r\n24,"I","Stryd ""Fawr"", Caerdydd","FFORDD\r\nY BONT"\r\n\r\n99,"Ŵ",,\r\n32,x';
    const file = path.join(dir, 'pieces.csv');
    fs.writeFileSync(file, text, 'utf8');
    const whole = split(text);
    assert.strictEqual(whole.length, 4);
    for (const pieceBytes of [1, 2, 3, 7, 64, 1 << 20]) {
      const read: Split = [];
      await readCsvRecords(file, (fields, line) => {
        read.push([line, fields]);
      }, pieceBytes);
      assert.deepStrictEqual(read, whole, `pieces of ${pieceBytes} bytes`);
    }
  });

  it('rejects with the file system error for a file that cannot be read', async () => {
    await assert.rejects(readCsvRecords(path.join(dir, 'nowhere.csv'), () => undefined), { code: 'ENOENT' });
    await assert.rejects(readCsvRecords(dir, () => undefined), { code: 'EISDIR' });
  });

  it('counts the records of a type from the start of their lines, quoted or not', async () => {
    const file = path.join(dir, 'count.csv');
    fs.writeFileSync(file, '10,"I"\r\n24,"I"\r\n"24","I"\r\n21,"I"\r\n240,"I"\r\n2,"24,"\n24,x');
    assert.strictEqual(await countRecords(file, '24'), 3);
    assert.strictEqual(await countRecords(file, '21'), 1);
  });
});
