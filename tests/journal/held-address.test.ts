import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import { Journal } from '../../hub/journal/journal';
import { SqliteJournalStore } from '../../hub/journal/sqlite-store';
import { heldAddress } from '../../hub/held-address';

/** A CRM event as the journal stores it: only the addresses' UPRNs matter here. */
const move = (eventId: string, from: string | undefined, to: string, raisedAt?: string) => ({
  eventType: 'ContactAddressChanged',
  eventId,
  ...(raisedAt ? { raisedAt } : {}),
  contact: { contactId: 'C1' },
  oldAddress: { line1: 'x', postcode: 'XM1 1AA', ...(from ? { uprn: from } : {}) },
  newAddress: { line1: 'y', postcode: 'XM1 1AB', uprn: to },
});

describe('the address a target still holds (SQLite journal)', () => {
  let journal: Journal;
  let at = 1_000_000;
  beforeEach(() => {
    const db = new Database(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'held-')), 'hub.db'));
    journal = new Journal({ store: new SqliteJournalStore(db), instance: 'test', now: () => (at += 1000) });
  });

  async function change(eventId: string, from: string | undefined, to: string, raisedAt?: string) {
    const { message } = await journal.record({ source: 'crm', sourceMessageId: eventId, key: 'C1', payload: move(eventId, from, to, raisedAt), entry: { nodeId: 'j', how: 'send', msg: {} } });
    const started = await journal.startDelivery({ messageId: message.id, target: 'planning', key: 'C1', nodeId: 'd', msg: {} });
    return started.delivery;
  }

  it('knows nothing for a person the journal has never seen', async () => {
    assert.strictEqual(await heldAddress(journal.store, 'planning', 'C1'), undefined);
  });

  it('is the first change’s old address while nothing has reached the target', async () => {
    const first = await change('e1', '100', '200');
    await journal.fail(first.id, Object.assign(new Error('down'), { transient: false }), {}, { nodeId: 'd', how: 'send', msg: {} });
    await change('e2', '200', '300');
    assert.deepStrictEqual(await heldAddress(journal.store, 'planning', 'C1'), { uprn: '100', basis: 'first-change', messageId: first.messageId });
  });

  it('is the new address of the last change the target took', async () => {
    const first = await change('e1', '100', '200');
    await journal.settle(first.id, 'delivered');
    const second = await change('e2', '200', '300');
    await journal.fail(second.id, Object.assign(new Error('rejected'), { transient: false }), {}, { nodeId: 'd', how: 'send', msg: {} });
    await change('e3', '300', '400');
    const held = await heldAddress(journal.store, 'planning', 'C1');
    assert.deepStrictEqual(held, { uprn: '200', basis: 'last-delivered', messageId: first.messageId });
  });

  it('takes the UPRN the delivery sent when the CRM gave the new address as free text', async () => {
    const { message } = await journal.record({ source: 'crm', sourceMessageId: 'e1', key: 'C1', payload: { ...move('e1', '100', '200'), newAddress: { line1: '2 Mill Lane' } }, entry: { nodeId: 'j', how: 'send', msg: {} } });
    const resolvedByGazetteer = { payload: { newAddress: { uprn: '250', paon: '2', streetDescription: 'Mill Lane' } } };
    const started = await journal.startDelivery({ messageId: message.id, target: 'planning', key: 'C1', nodeId: 'd', msg: resolvedByGazetteer });
    await journal.settle(started.delivery.id, 'delivered');
    assert.deepStrictEqual(await heldAddress(journal.store, 'planning', 'C1'), { uprn: '250', basis: 'last-delivered', messageId: message.id });
  });

  it('takes the resolved old address the first change kept when the CRM gave it as free text', async () => {
    const { message } = await journal.record({ source: 'crm', sourceMessageId: 'e1', key: 'C1', payload: move('e1', undefined, '200'), entry: { nodeId: 'j', how: 'send', msg: {} } });
    const started = await journal.startDelivery({ messageId: message.id, target: 'planning', key: 'C1', nodeId: 'd', msg: { payload: { previousAddress: { uprn: '150' } } } });
    await journal.fail(started.delivery.id, Object.assign(new Error('down'), { transient: false }), {}, started.delivery.resume!);
    assert.deepStrictEqual(await heldAddress(journal.store, 'planning', 'C1'), { uprn: '150', basis: 'first-change', messageId: message.id });
  });

  it('cannot tell when the first change had no UPRN for the old address anywhere', async () => {
    await change('e1', undefined, '200');
    assert.strictEqual(await heldAddress(journal.store, 'planning', 'C1'), undefined);
  });

  it('takes the first change by when the person moved, not by when the hub received it (a later move may arrive first)', async () => {
    const later = await change('e2', '200', '300', '2026-11-18T10:05:00Z');
    await journal.fail(later.id, Object.assign(new Error('down'), { transient: false }), {}, { nodeId: 'd', how: 'send', msg: {} });
    await change('e1', '100', '200', '2026-11-18T10:00:00Z');
    assert.deepStrictEqual(await heldAddress(journal.store, 'planning', 'C1').then((h) => h && { uprn: h.uprn, basis: h.basis }), { uprn: '100', basis: 'first-change' });
  });
});
