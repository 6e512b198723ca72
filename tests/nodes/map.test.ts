import assert from 'assert';
import fs from 'fs';
import path from 'path';
import helper from 'node-red-node-test-helper';
import mapNode from '../../nodes/map/map';

helper.init(require.resolve('node-red'));

const FIXTURES = path.resolve(__dirname, '../../../mappings/fixtures');
const read = (p: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, p), 'utf8'));
const catchNode = require('@node-red/nodes/core/common/25-catch');

describe('map node', () => {
  afterEach(async () => {
    await helper.unload();
  });

  const flow = (mapping: string, extra: Record<string, unknown> = {}) => [
    { id: 'm', type: 'map', mapping, property: 'payload', ...extra, wires: [['out']] },
    { id: 'out', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['m'], wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];

  function failure(): Promise<any> {
    let sentOn = false;
    helper.getNode('out').on('input', () => (sentOn = true));
    return new Promise((resolve) => helper.getNode('caught').on('input', (msg: any) => setImmediate(() => resolve({ msg, sentOn }))));
  }

  it('maps the payload with msg.bindings and sends output that matches the target schema', async () => {
    await helper.load([mapNode as any, catchNode], flow('canonical-to-planning'));
    const received = new Promise<any>((resolve) => helper.getNode('out').on('input', resolve));
    helper.getNode('m').receive({ payload: read('canonical-to-planning/flat-with-saon.input.json'), bindings: { partyId: 'P000123' } });
    assert.deepStrictEqual((await received).payload, read('canonical-to-planning/flat-with-saon.expected.json'));
  });

  it('writes to a separate output property when configured, keeping the input', async () => {
    await helper.load([mapNode as any, catchNode], flow('payment-to-journal', { output: 'journal' }));
    const received = new Promise<any>((resolve) => helper.getNode('out').on('input', resolve));
    const payment = read('payment-to-journal/council-tax-by-telephone.input.json');
    helper.getNode('m').receive({ payload: payment });
    const msg = await received;
    assert.deepStrictEqual(msg.payload, payment);
    assert.deepStrictEqual(msg.journal, read('payment-to-journal/council-tax-by-telephone.expected.json'));
  });

  it('sends a schema failure to Catch naming the mapping and the schema path, and nothing on', async () => {
    await helper.load([mapNode as any, catchNode], flow('canonical-to-planning'));
    const failed = failure();
    helper.getNode('m').receive({ payload: read('canonical-to-planning/flat-with-saon.input.json') });
    const { msg, sentOn } = await failed;
    assert.strictEqual(sentOn, false);
    assert.match(msg.error.message, /mapping "canonical-to-planning": output does not match schema planning.update-party-address: \(the value\) must have property "partyId" \(schema #\/required\)/);
    assert.strictEqual(msg.error.source.id, 'm');
    assert.strictEqual(msg.mappingError.stage, 'validate');
    assert.strictEqual(msg.mappingError.schemaPath, '#/required');
  });

  it('sends a refused payment ($error) to Catch with the line, column and token', async () => {
    await helper.load([mapNode as any, catchNode], flow('payment-to-journal'));
    const failed = failure();
    helper.getNode('m').receive({ payload: read('payment-to-journal/zero-amount-refused.input.json') });
    const { msg, sentOn } = await failed;
    assert.strictEqual(sentOn, false);
    assert.match(msg.error.message, /mapping "payment-to-journal": payment TX0000012345: amount must be a whole number of pence above 0, got 0 \(at line \d+, column \d+, position \d+, token "error"\)/);
    assert.strictEqual(msg.mappingError.code, 'D3137');
  });

  it('shows a mapping that does not exist at deploy, and fails its messages with the reason', async () => {
    await helper.load([mapNode as any, catchNode], flow('no-such-mapping'));
    const node = helper.getNode('m');
    const failed = failure();
    node.receive({ payload: {} });
    const { msg } = await failed;
    assert.match(msg.error.message, /mapping "no-such-mapping": no such mapping/);
    assert.ok(node.status.calledWithMatch({ fill: 'red' }), 'red status');
  });

  it('shows on its status that its mapping runs compiled', async () => {
    await helper.load([mapNode as any, catchNode], flow('canonical-to-planning'));
    const node: any = helper.getNode('m');
    assert.ok(node.status.calledWithMatch({ fill: 'green', text: 'canonical-to-planning (compiled)' }), JSON.stringify(node.status.args));
  });

  it('lists the mappings for the editor on the admin API', async () => {
    await helper.load([mapNode as any, catchNode], flow('case-to-crm'));
    const response = await helper.request().get('/council-hub/mappings').expect(200);
    const housing = response.body.find((m: any) => m.name === 'canonical-to-housing');
    assert.deepStrictEqual(Object.keys(housing).sort(), ['compiled', 'description', 'name', 'target']);
    assert.strictEqual(housing.compiled, true, 'every mapping of the repository runs compiled');
    assert.strictEqual(housing.target, 'housing.update-correspondence-address');
    assert.strictEqual(response.body.length, 10);
  });
});
