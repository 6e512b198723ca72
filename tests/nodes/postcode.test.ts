import assert from 'assert';
import helper from 'node-red-node-test-helper';
import postcodeNode from '../../nodes/postcode/postcode';

helper.init(require.resolve('node-red'));

describe('postcode node', () => {
  afterEach(async () => {
    await helper.unload();
  });

  const flow = (property = 'payload') => [
    { id: 'p', type: 'postcode', property, wires: [['out']] },
    { id: 'out', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['p'], wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];

  it('normalises the configured property', async () => {
    await helper.load(postcodeNode as any, flow('payload.address.postcode'));
    const out = helper.getNode('out');
    const received = new Promise<any>((resolve) => out.on('input', resolve));
    helper.getNode('p').receive({ payload: { address: { postcode: ' cf10  1ep ' } } });
    assert.strictEqual((await received).payload.address.postcode, 'CF10 1EP');
  });

  it('sends an invalid postcode to Catch with the reason, and nothing on', async () => {
    await helper.load([postcodeNode as any, require('@node-red/nodes/core/common/25-catch') as any], flow());
    let sentOn = false;
    helper.getNode('out').on('input', () => (sentOn = true));
    const caught = new Promise<any>((resolve) => helper.getNode('caught').on('input', resolve));
    helper.getNode('p').receive({ payload: 'NOT A POSTCODE' });
    const msg = await caught;
    assert.match(msg.error.message, /"NOT A POSTCODE" is not a UK postcode/);
    assert.strictEqual(msg.error.source.id, 'p');
    assert.strictEqual(sentOn, false);
  });
});
