import assert from 'assert';
import fs from 'fs';
import path from 'path';
import helper from 'node-red-node-test-helper';
import gazetteerNode from '../../nodes/gazetteer/gazetteer';
import Redis from 'ioredis';
import { SAMPLE_ROWS, extractLine, tempFolder, writeExtract } from '../gazetteer/extract-fixture';
import { blpu, sampleRecords, volume, writeDtf, writeDtfWithCount } from '../gazetteer/dtf-fixture';
import { GazetteerVersions } from '../../hub/gazetteer-versions';
import { PORT_SETTING } from '../../hub/port';
import { testPort } from '../support/test-port';
import { until } from '../planning/support';

helper.init(require.resolve('node-red'));

const catchNode = require('@node-red/nodes/core/common/25-catch');

describe('gazetteer node', () => {
  let dir: string;
  let extract: string;
  before(() => {
    dir = tempFolder('gazetteer-node');
    extract = writeExtract(path.join(dir, 'llpg.csv'), SAMPLE_ROWS);
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const flow = (file: string, addresses?: string) => [
    { id: 'g', type: 'gazetteer', file, ...(addresses ? { addresses } : {}), wires: [['enriched'], ['attention']] },
    { id: 'enriched', type: 'helper' },
    { id: 'attention', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['g'], wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
  const next = (id: string) => new Promise<any>((resolve) => helper.getNode(id).once('input', resolve));

  it('resolves both addresses of an address change and sends it on the first output', async () => {
    await helper.load([gazetteerNode as any, catchNode], flow(extract));
    const enriched = next('enriched');
    helper.getNode('g').receive({
      payload: {
        eventType: 'person.address.changed',
        previousAddress: { uprn: '100023336956', lines: ['4 Church Road'], postcode: 'CF14 2DX' },
        newAddress: { lines: ['Flat 2, 12 High Street'], town: 'Cardiff', postcode: 'cf10 1ep' },
      },
    });
    const msg = await enriched;
    assert.strictEqual(msg.payload.eventType, 'person.address.changed');
    assert.deepStrictEqual(msg.payload.newAddress, {
      uprn: '100023336958', saon: 'FLAT 2', paon: '12', streetDescription: 'HIGH STREET', townName: 'CARDIFF', postTown: 'CARDIFF', postcode: 'CF10 1EP',
    });
    assert.strictEqual(msg.payload.previousAddress.streetDescription, 'CHURCH ROAD');
    assert.strictEqual(msg.attention, undefined);
  });

  it('sends an address it cannot resolve to the second output with the reason and the candidates', async () => {
    await helper.load([gazetteerNode as any, catchNode], flow(extract));
    const attention = next('attention');
    helper.getNode('g').receive({
      payload: {
        previousAddress: { uprn: '100023336956', lines: ['4 Church Road'] },
        newAddress: { lines: ['12 High Street'], postcode: 'CF10 1EP' },
      },
    });
    const msg = await attention;
    assert.strictEqual(msg.attention.reason, 'msg.payload.newAddress: no approved gazetteer address at CF10 1EP has PAON "12" and no SAON');
    assert.strictEqual(msg.attention.property, 'payload.newAddress');
    assert.deepStrictEqual(msg.attention.candidates.map((c: any) => c.uprn), ['100023336957', '100023336958']);
    assert.strictEqual(msg.attention.addresses.length, 1);
    assert.strictEqual(msg.payload.previousAddress.paon, '4', 'the address that resolved is enriched');
  });

  it('validates a single address in payload, and needs attention when there is none', async () => {
    await helper.load([gazetteerNode as any, catchNode], flow(extract, 'payload'));
    const attention = next('attention');
    helper.getNode('g').receive({ payload: { uprn: '100023336960' } });
    const historic = await attention;
    assert.match(historic.attention.reason, /^msg.payload: UPRN 100023336960 is historic/);
    const missing = next('attention');
    helper.getNode('g').receive({ payload: 'not an address' });
    assert.strictEqual((await missing).attention.reason, 'there is no address at msg.payload');
  });

  it('fails messages with the line numbers of a malformed extract, and shows it', async () => {
    const bad = writeExtract(path.join(dir, 'bad.csv'), SAMPLE_ROWS.slice(0, 1), ['1,2,3', extractLine(SAMPLE_ROWS[0])]);
    await helper.load([gazetteerNode as any, catchNode], flow(bad, 'payload'));
    const caught = next('caught');
    helper.getNode('g').receive({ payload: { uprn: '100023336956' } });
    const msg = await caught;
    assert.match(msg.error.message, /gazetteer extract .*bad.csv was not loaded: 2 malformed rows: line 3: has 3 fields, expected 12; line 4: uprn 100023336956 is already on line 2/);
    assert.ok(helper.getNode('g').status.calledWithMatch({ fill: 'red' }));
  });

  it('fails messages when no extract is configured', async () => {
    await helper.load([gazetteerNode as any, catchNode], flow(''));
    const caught = next('caught');
    helper.getNode('g').receive({ payload: {} });
    assert.match((await caught).error.message, /no extract file is configured/);
  });

  describe('with a DTF extract, inside the hub (its port, the shared Redis)', () => {
    let redis: Redis;
    let hub: ReturnType<typeof testPort>;
    const prefix = `test:gazetteer-node:${process.pid}:${Date.now()}:`;
    before(() => {
      redis = new Redis('redis://127.0.0.1:6379');
      hub = testPort();
    });
    after(async () => {
      helper.settings({});
      hub.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });

    it('a refused volume leaves the old gazetteer answering and the status names the reason; the version in use is shared', async () => {
      const versions = new GazetteerVersions('instance-a', redis, prefix);
      const otherInstance = new GazetteerVersions('instance-b', redis, prefix);
      helper.settings({ [PORT_SETTING]: { ...hub.port, gazetteerVersions: versions } });
      const file = writeDtf(path.join(dir, 'llpg-dtf.csv'), volume(1, 'F'), sampleRecords());
      await helper.load([gazetteerNode as any, catchNode], flow(file, 'payload'));
      const node = helper.getNode('g');
      const statuses = (): string[] => node.status.getCalls().map((c: any) => String(c.args[0].text));
      await until(() => statuses().includes('10 addresses, 4405/2026-11-01/1'), 'the loaded status');

      await until(async () => (await otherInstance.shared()).some((e) => e.instance === 'instance-a' && e.version === '4405/2026-11-01/1'), 'the version in Redis');
      await otherInstance.record({ file: path.resolve(file), version: '4405/2026-10-01/1', addresses: 9, loadedAt: new Date().toISOString() });
      assert.strictEqual(await versions.describe(), `${path.resolve(file)}: 4405/2026-11-01/1 (10 addresses); instance instance-b uses 4405/2026-10-01/1`);

      writeDtfWithCount(file, volume(2), [blpu('U', '100023336957', 8)], 9);
      await until(() => statuses().some((t) => t.startsWith('refused:')), 'the refused status');
      assert.deepStrictEqual(statuses().filter((t) => t.startsWith('refused:')), ['refused: line 3: the trailer counts 9 records, the file has 3, 4405/2026-11-01/1 in use']);
      assert.ok(node.status.calledWithMatch({ fill: 'yellow' }));

      const enriched = next('enriched');
      node.receive({ payload: { uprn: '100023336957' } });
      const msg = await enriched;
      assert.deepStrictEqual([msg.payload.saon, msg.payload.paon, msg.payload.streetDescription], ['FLAT 1', '12', 'HIGH STREET'], 'the volume that would retire it was refused');
    });
  });
});

