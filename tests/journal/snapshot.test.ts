import assert from 'assert';
import { storableJson, storableMessage } from '../../hub/journal/snapshot';

describe('a message kept for replay (storableMessage)', () => {
  it('keeps the data and leaves out the runtime: req/res, private properties, functions', () => {
    const msg = { _msgid: 'm1', _private: { x: 1 }, req: { socket: {} }, res: {}, topic: 't', payload: { a: [1, 'two', null], when: undefined, call: () => 1 }, done: () => undefined };
    assert.deepStrictEqual(storableMessage(msg), { _msgid: 'm1', topic: 't', payload: { a: [1, 'two', null] } });
  });

  it('turns a Buffer into its JSON form', () => {
    assert.deepStrictEqual(storableMessage({ payload: Buffer.from('hi') }), { payload: { type: 'Buffer', data: [104, 105] } });
  });

  it('stores a message with a circular reference or a BigInt instead of failing', () => {
    const payload: Record<string, unknown> = { name: 'loop', big: 12n };
    payload.self = payload;
    const stored = JSON.parse(storableJson({ payload }));
    assert.deepStrictEqual(stored, { payload: { name: 'loop', big: '12' } });
  });

  it('keeps an object that two properties share (not circular) in both places', () => {
    const address = { uprn: '100023336956' };
    assert.deepStrictEqual(storableMessage({ payload: { previous: address, current: address } }), { payload: { previous: address, current: address } });
  });
});
