import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import helper from 'node-red-node-test-helper';
import shareNode from '../../nodes/share/share';

helper.init(require.resolve('node-red'));

const event = {
  eventType: 'person.address.changed',
  eventId: 'e1',
  occurredAt: '2026-11-18T10:00:00Z',
  effectiveDate: '2026-11-18',
  person: { forename: 'Ann', surname: 'Smith', dateOfBirth: '1980-03-14', ids: { crmContactId: 'C0012345' } },
  previousAddress: { uprn: '100000000001', paon: '1' },
  newAddress: { uprn: '100000000002', paon: '2', streetDescription: 'High Street', townName: 'Ashbury', postTown: 'ASHBURY', postcode: 'XM1 1AA' },
};

async function run(config: Record<string, unknown>, payload: unknown) {
  await helper.load(shareNode as any, [
    { id: 's', type: 'share', ...config, wires: [['yes'], ['no']] },
    { id: 'yes', type: 'helper' },
    { id: 'no', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['s'], wires: [['err']] },
    { id: 'err', type: 'helper' },
  ]);
  return new Promise<{ port: string; msg: any }>((resolve) => {
    for (const port of ['yes', 'no', 'err']) helper.getNode(port).on('input', (msg: any) => resolve({ port, msg }));
    helper.getNode('s').receive({ payload });
  });
}

describe('share node (data-sharing rules)', () => {
  afterEach(async () => helper.unload());

  it('passes planning only the listed fields: no date of birth, no CRM id', async () => {
    const { port, msg } = await run({ target: 'planning' }, event);
    assert.strictEqual(port, 'yes');
    assert.strictEqual(msg.payload.person.dateOfBirth, undefined);
    assert.strictEqual(msg.payload.person.ids, undefined);
    assert.strictEqual(msg.payload.person.surname, 'Smith');
    assert.deepStrictEqual(msg.payload.newAddress, event.newAddress);
    assert.ok(msg.shared.removed.includes('person.dateOfBirth'));
    assert.strictEqual(msg.shared.before.person.dateOfBirth, event.person.dateOfBirth, 'the event as it was, for the hub\'s own checks');
  });

  it('keeps the date of birth for housing, which finds tenants by it', async () => {
    const { msg } = await run({ target: 'housing' }, event);
    assert.strictEqual(msg.payload.person.dateOfBirth, '1980-03-14');
  });

  it('sends an event the rules do not allow to the second output with the reason', async () => {
    const { port, msg } = await run({ target: 'planning' }, { ...event, eventType: 'payment.received' });
    assert.strictEqual(port, 'no');
    assert.match(msg.reason, /do not allow payment.received events to be sent to planning/);
  });

  it('treats a target with no rules as receiving nothing', async () => {
    const { port, msg } = await run({ target: 'finance' }, event);
    assert.strictEqual(port, 'no');
    assert.match(msg.reason, /no data-sharing rules for target "finance"/);
  });

  it('fails every message while the rules file is broken, naming the file', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rules-')), 'rules.json');
    fs.writeFileSync(file, '{ not json');
    await helper.load([shareNode as any, require('@node-red/nodes/core/common/25-catch')], [
      { id: 's', type: 'share', target: 'planning', rulesFile: file, wires: [['yes'], ['no']] },
      { id: 'yes', type: 'helper' },
      { id: 'no', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['s'], wires: [['err']] },
      { id: 'err', type: 'helper' },
    ]);
    const caught = new Promise<any>((resolve) => helper.getNode('err').on('input', resolve));
    helper.getNode('s').receive({ payload: event });
    assert.match((await caught).error.message, /rules\.json is not valid JSON/);
  });
});
