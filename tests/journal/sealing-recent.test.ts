import assert from 'assert';
import { randomBytes } from 'crypto';
import { PersonalDataCodec, dataKeyOf } from '../../hub/journal/sealing';

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
    assert.ok((c as unknown as { recent: Map<string, unknown> }).recent.size <= 4096);
  });
});
