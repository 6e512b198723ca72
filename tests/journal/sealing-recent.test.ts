import assert from 'assert';
import { randomBytes } from 'crypto';
import { PersonalDataCodec, dataKeyOf } from '../../hub/journal/sealing';
import type { DeliveryRecord } from '../../hub/journal/types';

/** The codec keeps the plain text of what it sealed or opened lately (a record is read several times while it is worked on). */
describe('sealing: records read again without decrypting again', () => {
  const codec = () => new PersonalDataCodec(dataKeyOf(randomBytes(32).toString('base64')));

  it('gives a fresh copy on every open, so a caller that changes one changes nothing else', () => {
    const c = codec();
    const sealed = c.seal({ person: { surname: 'Okafor' } });
    const first = c.open(sealed) as { person: { surname: string } };
    first.person.surname = 'changed';
    assert.deepStrictEqual(c.open(sealed), { person: { surname: 'Okafor' } });
  });

  it('still refuses a sealed text that was altered, and opens with the key after forgetting', () => {
    const c = codec();
    const sealed = c.seal({ uprn: '100023336956' });
    const body = sealed.slice(-8);
    const altered = sealed.slice(0, -8) + (body[0] === 'A' ? 'B' : 'A') + body.slice(1);
    assert.throws(() => c.open(altered));
    c.forgetOpened();
    assert.deepStrictEqual(c.open(sealed), { uprn: '100023336956' });
  });

  it('keeps a bounded number of texts: the oldest are decrypted again, correctly', () => {
    const c = codec();
    const sealed = Array.from({ length: 10000 }, (_, i) => c.seal({ i }));
    assert.deepStrictEqual(c.open(sealed[0]), { i: 0 });
    assert.deepStrictEqual(c.open(sealed[9999]), { i: 9999 });
    assert.ok((c as unknown as { recent: { size: number } }).recent.size <= 4096);
  });

  const delivery = (id: string, status: DeliveryRecord['status'], surname = 'Okafor'): DeliveryRecord =>
    ({
      id,
      messageId: 'm-1',
      target: 'planning',
      key: 'CRM-1',
      status,
      version: 1,
      seq: 1,
      order: 1,
      attempts: 0,
      updatedAt: 1,
      resume: { nodeId: 'n-1', how: 'receive', msg: { payload: { person: { surname } } } },
    }) as unknown as DeliveryRecord;

  it('keeps the sealed form of a record whose sealed part did not change (a delivery settled), and seals a change afresh', () => {
    const c = codec();
    const first = c.sealDelivery(delivery('d-1', 'in-flight'));
    const opened = c.openDelivery(JSON.parse(JSON.stringify(first)));
    const settled = c.sealDelivery({ ...opened, status: 'delivered', version: 2 });
    assert.strictEqual(settled.sealed, first.sealed, 'the same ciphertext: nothing in it changed');
    assert.strictEqual(settled.status, 'delivered');
    const renamed = c.sealDelivery({ ...opened, resume: { ...opened.resume!, msg: { payload: { person: { surname: 'Adeyemi' } } } }, version: 3 });
    assert.notStrictEqual(renamed.sealed, first.sealed);
    c.forgetOpened(); // decrypted, not remembered
    assert.deepStrictEqual(c.openDelivery(renamed).resume?.msg, { payload: { person: { surname: 'Adeyemi' } } });
  });

  it('never gives two records the same ciphertext, even with the same content', () => {
    const c = codec();
    const one = c.sealDelivery(delivery('d-1', 'in-flight'));
    const other = c.sealDelivery(delivery('d-2', 'in-flight'));
    assert.notStrictEqual(one.sealed, other.sealed);
  });

  it('seals afresh after an erasure, and under the new key after a rotation', () => {
    const oldKey = dataKeyOf(randomBytes(32).toString('base64'));
    const before = new PersonalDataCodec(oldKey);
    const sealed = before.sealDelivery(delivery('d-1', 'in-flight'));
    before.forgetOpened();
    assert.notStrictEqual(before.sealDelivery(delivery('d-1', 'in-flight')).sealed, sealed.sealed, 'nothing of the record is remembered after an erasure');

    const newKey = dataKeyOf(randomBytes(32).toString('base64'));
    const after = new PersonalDataCodec(newKey, [oldKey]);
    const opened = after.openDelivery(sealed);
    const again = after.sealDelivery({ ...opened, status: 'delivered', version: 2 });
    assert.ok(again.sealed.startsWith(`enc1:${newKey.id}:`), `sealed under the current key: ${again.sealed.slice(0, 20)}`);
    assert.deepStrictEqual(new PersonalDataCodec(newKey).openDelivery(again).resume?.msg, { payload: { person: { surname: 'Okafor' } } });
  });
});
