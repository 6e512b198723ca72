import assert from 'assert';
import { buildRequestFile, parseAckFile, requestFileName, ackFileName, requestFileForAck, REQUEST_COLUMNS, requestRow, RevenuesRequestRow } from '../../adapters/revenues/files';
import { RequestBatch } from '../../adapters/revenues/batch';

const row = (id: string, extra: Partial<RevenuesRequestRow> = {}): RevenuesRequestRow => ({
  ...requestRow({}),
  request_id: id,
  forename: 'Siân',
  surname: "O'Brien",
  date_of_birth: '1980-03-14',
  previous_uprn: '100000000001',
  uprn: '100000000002',
  address_line_1: 'Flat 2, 12 High Street',
  postcode: 'CF10 1EP',
  effective_date: '2026-11-18',
  ...extra,
});

describe('revenues request and ack files', () => {
  it('names request files by UTC time and sequence, and acks after them', () => {
    const name = requestFileName(new Date('2026-11-23T09:05:07Z'), 12);
    assert.strictEqual(name, 'ADDR_20261123090507_0012.csv');
    assert.strictEqual(ackFileName(name), 'ADDR_20261123090507_0012.ack.csv');
    assert.strictEqual(requestFileForAck('ADDR_20261123090507_0012.ack.csv'), name);
    assert.throws(() => requestFileForAck('notes.csv'), /not a Revenues ack file name/);
  });

  it('writes a header row, every column, CRLF line ends, UTF-8 names and quotes where needed', () => {
    const text = buildRequestFile([row('r1'), row('r2', { address_line_1: 'Rose Cottage, Lon y Felin' })]);
    const lines = text.split('\r\n');
    assert.strictEqual(lines[0], REQUEST_COLUMNS.join(','));
    assert.strictEqual(lines.length, 4, 'header, two rows, final CRLF');
    assert.strictEqual(lines[3], '');
    assert.ok(!text.replace(/\r\n/g, '').includes('\n'), 'no bare LF');
    assert.match(lines[1], /^r1,Siân,O'Brien,1980-03-14,100000000001,100000000002,"Flat 2, 12 High Street",,,,CF10 1EP,2026-11-18$/);
  });

  it('refuses an empty batch and a repeated request id', () => {
    assert.throws(() => buildRequestFile([]), /at least one row/);
    assert.throws(() => buildRequestFile([row('r1'), row('r1')]), /appears twice/);
  });

  it('parses ack rows of every outcome', () => {
    const acks = parseAckFile('request_id,outcome,reason\r\nr1,ACCEPTED,\r\nr2,REJECTED,postcode not in area\r\nr3,NO_MATCH,no account at previous address\r\n');
    assert.deepStrictEqual(acks, [
      { requestId: 'r1', outcome: 'ACCEPTED', reason: '' },
      { requestId: 'r2', outcome: 'REJECTED', reason: 'postcode not in area' },
      { requestId: 'r3', outcome: 'NO_MATCH', reason: 'no account at previous address' },
    ]);
  });

  it('rejects a whole ack file for any fault, naming the line', () => {
    assert.throws(() => parseAckFile('id,result\nr1,ACCEPTED\n'), /header must be request_id,outcome,reason/);
    assert.throws(() => parseAckFile('request_id,outcome,reason\nr1,MAYBE,\n'), /outcome "MAYBE" .*\(line 2\)/);
    assert.throws(() => parseAckFile('request_id,outcome,reason\nr1,ACCEPTED,\nr2,REJECTED,\n'), /gives no reason \(line 3\)/);
    assert.throws(() => parseAckFile('request_id,outcome,reason\nr1,ACCEPTED,\nr1,ACCEPTED,\n'), /acknowledged twice \(line 3\)/);
    assert.throws(() => parseAckFile('request_id,outcome,reason\nr1,"ACCEPTED\n'), /not valid CSV/);
  });
});

describe('revenues request batching', () => {
  it('releases a full batch at once and a partial one when it is old enough', async () => {
    const released: string[][] = [];
    const batch = new RequestBatch<string>({ maxRows: 3, maxAgeMs: 100 }, (rows) => released.push(rows));
    ['a', 'b', 'c', 'd'].forEach((r) => batch.add(r));
    assert.deepStrictEqual(released, [['a', 'b', 'c']]);
    assert.strictEqual(batch.size, 1);
    await new Promise((r) => setTimeout(r, 250));
    assert.deepStrictEqual(released, [['a', 'b', 'c'], ['d']]);
  });
});
