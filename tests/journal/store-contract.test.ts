import assert from 'assert';
import { randomUUID } from 'crypto';
import { ConflictError, DeliveryRecord, JournalStore, MessageRecord } from '../../hub/journal/types';
import { defaultRetryPolicy } from '../../hub/journal/retry';
import { storeFixtures } from './stores';

function message(over: Partial<MessageRecord> = {}): MessageRecord {
  const id = over.id ?? randomUUID();
  return {
    id,
    source: 'crm',
    payload: { eventId: id, contact: { contactId: 'C1' }, note: 'Rose Cottage' },
    receivedAt: 1_000,
    status: 'received',
    entry: { nodeId: 'j', how: 'send', msg: { payload: {} } },
    instance: 'hub-a',
    version: 1,
    ...over,
  };
}

function delivery(over: Partial<DeliveryRecord> & { messageId: string }): DeliveryRecord {
  const id = over.id ?? randomUUID();
  return {
    id,
    target: 'planning',
    key: 'C1',
    order: 1,
    seq: 1,
    status: 'in-flight',
    idempotencyKey: id,
    attempts: 1,
    retry: defaultRetryPolicy,
    createdAt: 1_000,
    updatedAt: 1_000,
    version: 1,
    ...over,
  };
}

/** The contract both journal stores keep; the same cases run against SQLite and Redis. */
for (const fixture of storeFixtures()) {
  describe(`journal store contract: ${fixture.name}`, () => {
    let store: JournalStore;
    beforeEach(() => {
      store = fixture.open();
    });
    after(() => fixture.close());

    it('stores a message once per (source, source message id) and returns the first for a duplicate', async () => {
      const first = message({ sourceMessageId: 'evt-1' });
      assert.deepStrictEqual(await store.insertMessage(first), { inserted: true, message: first });
      const again = await store.insertMessage(message({ sourceMessageId: 'evt-1' }));
      assert.strictEqual(again.inserted, false);
      assert.strictEqual(again.message.id, first.id);
      const otherSource = await store.insertMessage(message({ sourceMessageId: 'evt-1', source: 'housing' }));
      assert.strictEqual(otherSource.inserted, true);
      assert.deepStrictEqual(await store.getMessage(first.id), first);
      assert.strictEqual(await store.getMessage('nope'), undefined);
    });

    it('refuses a second message with the same id', async () => {
      const m = message();
      await store.insertMessage(m);
      await assert.rejects(store.insertMessage({ ...m }), ConflictError);
    });

    it('commits records atomically and checks versions', async () => {
      const m = message();
      await store.insertMessage(m);
      const d = delivery({ messageId: m.id });
      await store.commit({ deliveries: [d], messages: [{ ...m, status: 'routed', version: 2 }] });
      assert.strictEqual((await store.getMessage(m.id))!.status, 'routed');
      // A stale write (version 2 again) changes nothing, not even the other record in the change.
      const other = delivery({ messageId: m.id, key: 'C2' });
      await assert.rejects(store.commit({ deliveries: [other, { ...d, status: 'delivered', version: 3 }] }), ConflictError);
      assert.strictEqual(await store.getDelivery(other.id), undefined);
      assert.strictEqual((await store.getDelivery(d.id))!.status, 'in-flight');
      await store.commit({ deliveries: [{ ...d, status: 'delivered', version: 2 }] });
      assert.strictEqual((await store.getDelivery(d.id))!.status, 'delivered');
      await assert.rejects(store.commit({ deliveries: [{ ...d, version: 1 }] }), ConflictError);
      await assert.rejects(store.commit({ messages: [{ ...m, version: 5 }] }), ConflictError);
    });

    it('takes writes asked for together (one group commit): one that conflicts fails alone, the others are stored', async () => {
      const m = message();
      await store.insertMessage(m);
      const good = Array.from({ length: 20 }, (_, i) => delivery({ messageId: m.id, key: `K${i}` }));
      const stale = delivery({ messageId: m.id, key: 'stale', version: 3 });
      const outcomes = await Promise.allSettled([
        ...good.slice(0, 10).map((d) => store.commit({ deliveries: [d] })),
        store.commit({ deliveries: [stale] }),
        ...good.slice(10).map((d) => store.commit({ deliveries: [d] })),
        store.nextSeq(),
        store.nextSeq(),
      ]);
      assert.strictEqual(outcomes[10].status, 'rejected');
      assert.ok((outcomes[10] as PromiseRejectedResult).reason instanceof ConflictError);
      assert.deepStrictEqual(outcomes.filter((o) => o.status === 'rejected').length, 1);
      for (const d of good) assert.strictEqual((await store.getDelivery(d.id))!.key, d.key);
      assert.strictEqual(await store.getDelivery(stale.id), undefined);
      const [a, b] = outcomes.slice(-2).map((o) => (o as PromiseFulfilledResult<number>).value);
      assert.strictEqual(b, a + 1, 'sequence numbers taken in one group are distinct and in order');
    });

    it('keeps the indexes in step: open deliveries of a key, latest, due retries, in flight per owner, received messages, counts', async () => {
      const m = message();
      await store.insertMessage(m);
      const a = delivery({ messageId: m.id, status: 'delivered', order: 5, seq: 1, settledAt: 1_000 });
      const b = delivery({ messageId: m.id, status: 'failed', order: 3, seq: 2, nextAttemptAt: 2_000 });
      const c = delivery({ messageId: m.id, status: 'in-flight', order: 1, seq: 3, owner: 'hub-a' });
      const d = delivery({ messageId: m.id, status: 'superseded', order: 9, seq: 4, target: 'housing' });
      await store.commit({ deliveries: [a, b, c, d] });
      assert.deepStrictEqual((await store.openDeliveries('planning', 'C1')).map((x) => x.id).sort(), [b.id, c.id].sort());
      assert.strictEqual((await store.latestDelivery('planning', 'C1'))!.id, a.id);
      assert.strictEqual(await store.latestDelivery('housing', 'C1'), undefined);
      assert.deepStrictEqual((await store.dueDeliveries(1_999, 10)).map((x) => x.id), []);
      assert.deepStrictEqual((await store.dueDeliveries(2_000, 10)).map((x) => x.id), [b.id]);
      assert.deepStrictEqual((await store.inFlightDeliveries('hub-a')).map((x) => x.id), [c.id]);
      assert.deepStrictEqual(await store.inFlightDeliveries('hub-b'), []);
      assert.deepStrictEqual((await store.receivedMessages('hub-a')).map((x) => x.id), [m.id]);
      assert.deepStrictEqual(await store.counts(), {
        byStatus: { delivered: 1, failed: 1, 'in-flight': 1, superseded: 1 },
        byTarget: { planning: { delivered: 1, failed: 1, 'in-flight': 1 }, housing: { superseded: 1 } },
      });
      // b retried: out of the due index; c delivered: out of in-flight; message routed.
      await store.commit({
        deliveries: [{ ...b, status: 'in-flight', owner: 'hub-b', version: 2 }, { ...c, status: 'delivered', version: 2 }],
        messages: [{ ...m, status: 'routed', version: 2 }],
      });
      assert.deepStrictEqual(await store.dueDeliveries(9_999, 10), []);
      assert.deepStrictEqual(await store.inFlightDeliveries('hub-a'), []);
      assert.deepStrictEqual((await store.inFlightDeliveries('hub-b')).map((x) => x.id), [b.id]);
      assert.deepStrictEqual(await store.receivedMessages('hub-a'), []);
      assert.deepStrictEqual((await store.counts()).byTarget.planning, { delivered: 2, 'in-flight': 1 });
    });

    it('lists deliveries by status, target, key, time range and text, newest change first', async () => {
      const m1 = message({ payload: { street: 'Acacia Avenue' } });
      const m2 = message({ payload: { street: 'Station Road' } });
      await store.insertMessage(m1);
      await store.insertMessage(m2);
      const x = delivery({ messageId: m1.id, status: 'dead', updatedAt: 10, lastError: { message: 'PartyNotFound: P9', classification: 'permanent', at: 10 } });
      const y = delivery({ messageId: m2.id, status: 'dead', updatedAt: 20, target: 'housing', key: 'C2' });
      const z = delivery({ messageId: m2.id, status: 'delivered', updatedAt: 30 });
      await store.commit({ deliveries: [x, y, z] });
      const ids = async (f: Parameters<JournalStore['listDeliveries']>[0]) => (await store.listDeliveries(f)).items.map((d) => d.id);
      assert.deepStrictEqual(await ids({ status: ['dead'] }), [y.id, x.id]);
      assert.deepStrictEqual(await ids({ status: ['dead', 'delivered'], target: 'planning' }), [z.id, x.id]);
      assert.deepStrictEqual(await ids({ key: 'C2' }), [y.id]);
      assert.deepStrictEqual(await ids({ from: 15, to: 30 }), [z.id, y.id]);
      assert.deepStrictEqual(await ids({ text: 'partynotfound' }), [x.id]);
      assert.deepStrictEqual(await ids({ text: 'station road' }), [z.id, y.id]);
      assert.deepStrictEqual(await ids({ text: '100%_' }), []);
      assert.deepStrictEqual(await ids({ messageId: m2.id }), [z.id, y.id]);
      const page = await store.listDeliveries({ limit: 1, offset: 1 });
      assert.strictEqual(page.total, 3);
      assert.deepStrictEqual(page.items.map((d) => d.id), [y.id]);
    });

    it('lists messages by source, key, time and text', async () => {
      const a = message({ receivedAt: 100, key: 'C1' });
      const b = message({ receivedAt: 200, key: 'C2', source: 'housing', payload: { jobRef: 'J-77' } });
      await store.insertMessage(a);
      await store.insertMessage(b);
      assert.deepStrictEqual((await store.listMessages({})).items.map((m) => m.id), [b.id, a.id]);
      assert.deepStrictEqual((await store.listMessages({ source: 'crm' })).items.map((m) => m.id), [a.id]);
      assert.deepStrictEqual((await store.listMessages({ key: 'C2' })).items.map((m) => m.id), [b.id]);
      assert.deepStrictEqual((await store.listMessages({ to: 150 })).items.map((m) => m.id), [a.id]);
      assert.deepStrictEqual((await store.listMessages({ text: 'j-77' })).items.map((m) => m.id), [b.id]);
    });

    it('keeps hops and audit records, and hands out growing sequence numbers', async () => {
      await store.appendHops([
        { messageId: 'm1', msgid: 'x', nodeId: 'n2', startedAt: 20 },
        { messageId: 'm1', msgid: 'x', nodeId: 'n1', startedAt: 10, finishedAt: 15, durationMs: 5 },
        { messageId: 'm2', msgid: 'y', nodeId: 'n1', startedAt: 10 },
      ]);
      assert.deepStrictEqual((await store.hops('m1')).map((h) => h.nodeId), ['n1', 'n2']);
      await store.commit({ audit: [{ id: 'a1', at: 5, actor: 'support', action: 'discard', reason: 'duplicate', deliveryId: 'd1', messageId: 'm1' }] });
      await store.commit({ audit: [{ id: 'a2', at: 6, actor: 'developer', action: 'replay', reason: 'fixed', deliveryId: 'd2', messageId: 'm1' }] });
      assert.deepStrictEqual((await store.listAudit({ deliveryId: 'd1' })).map((a) => a.id), ['a1']);
      assert.deepStrictEqual((await store.listAudit({ messageId: 'm1' })).map((a) => a.id), ['a2', 'a1']);
      const s1 = await store.nextSeq();
      const s2 = await store.nextSeq();
      assert.ok(s2 > s1);
    });

    it('prunes old delivered, skipped and superseded records and their messages, never dead letters or audit', async () => {
      const old = message({ receivedAt: 10, status: 'routed' });
      const deadOne = message({ receivedAt: 10, status: 'routed' });
      const fresh = message({ receivedAt: 10_000, status: 'routed' });
      for (const m of [old, deadOne, fresh]) await store.insertMessage(m);
      const delivered = delivery({ messageId: old.id, status: 'delivered', updatedAt: 50, settledAt: 50 });
      const skipped = delivery({ messageId: old.id, status: 'skipped', updatedAt: 50, settledAt: 50, target: 'revenues' });
      const dead = delivery({ messageId: deadOne.id, status: 'dead', updatedAt: 50 });
      const recent = delivery({ messageId: fresh.id, status: 'delivered', updatedAt: 10_000, settledAt: 10_000 });
      await store.commit({ deliveries: [delivered, skipped, dead, recent] });
      await store.appendHops([{ messageId: old.id, msgid: 'x', nodeId: 'n', startedAt: 10 }]);
      await store.commit({ audit: [{ id: randomUUID(), at: 20, actor: 'support', action: 'replay', reason: 'r', deliveryId: dead.id, messageId: deadOne.id }] });
      assert.strictEqual(await store.prune(1_000), 2);
      assert.strictEqual(await store.getDelivery(delivered.id), undefined);
      assert.strictEqual(await store.getDelivery(skipped.id), undefined);
      assert.strictEqual(await store.getMessage(old.id), undefined);
      assert.deepStrictEqual(await store.hops(old.id), []);
      assert.ok(await store.getDelivery(dead.id));
      assert.ok(await store.getMessage(deadOne.id));
      assert.ok(await store.getDelivery(recent.id));
      assert.strictEqual((await store.listAudit({ deliveryId: dead.id })).length, 1);
      assert.deepStrictEqual((await store.counts()).byStatus, { dead: 1, delivered: 1 });
    });

    it('runs work under a key lock one at a time', async () => {
      const order: string[] = [];
      const work = (name: string) => store.withKeyLock('planning\nC1', async () => {
        order.push(`${name}:in`);
        await new Promise((r) => setTimeout(r, 20));
        order.push(`${name}:out`);
      });
      await Promise.all([work('a'), work('b')]);
      assert.deepStrictEqual(order, ['a:in', 'a:out', 'b:in', 'b:out']);
    });
  });
}
