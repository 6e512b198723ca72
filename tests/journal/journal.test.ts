import assert from 'assert';
import { Journal, RefusedError, RunTask } from '../../hub/journal/journal';
import { classifyError, retryDelayMs, retryPolicy } from '../../hub/journal/retry';
import { waitUntil } from '../../adapters/errors';
import { messageAtDelivery, type RetryPolicy } from '../../hub/journal/types';
import { storeFixtures } from './stores';

const fast: RetryPolicy = { maxAttempts: 3, initialDelayMs: 1000, maxDelayMs: 4000, unclassified: 'transient' };

describe('retry policy', () => {
  it('backs off exponentially with jitter between half and all of the capped delay', () => {
    const policy: RetryPolicy = { maxAttempts: 10, initialDelayMs: 1000, maxDelayMs: 5000, unclassified: 'transient' };
    assert.strictEqual(retryDelayMs(policy, 1, () => 1), 1000);
    assert.strictEqual(retryDelayMs(policy, 1, () => 0), 500);
    assert.strictEqual(retryDelayMs(policy, 3, () => 1), 4000);
    assert.strictEqual(retryDelayMs(policy, 4, () => 1), 5000, 'capped');
    assert.strictEqual(retryDelayMs(policy, 30, () => 0), 2500);
  });
  it('classifies by the error\'s transient flag, else by the policy', () => {
    assert.strictEqual(classifyError(Object.assign(new Error('x'), { transient: false }), 'transient'), 'permanent');
    assert.strictEqual(classifyError(Object.assign(new Error('x'), { transient: true }), 'permanent'), 'transient');
    assert.strictEqual(classifyError(new Error('x'), 'transient'), 'transient');
    assert.strictEqual(classifyError('text', 'permanent'), 'permanent');
  });
  it('refuses a malformed policy with a clear reason', () => {
    assert.throws(() => retryPolicy({ maxAttempts: 'many' }), /maxAttempts must be a number/);
    assert.throws(() => retryPolicy({ unclassified: 'maybe' }), /unclassified must be transient or permanent/);
    assert.throws(() => retryPolicy({ initialDelayMs: 10, maxDelayMs: 5 }), /maxDelayMs must not be less/);
  });
});

for (const fixture of storeFixtures()) {
  describe(`journal: order gate, supersede, retries, replay (${fixture.name})`, () => {
    let journal: Journal;
    let now: number;
    let runs: RunTask[];
    beforeEach(() => {
      now = 1_000_000;
      runs = [];
      journal = new Journal({ store: fixture.open(), instance: 'hub-a', now: () => now });
      journal.on('run', (task: RunTask) => runs.push(task));
    });
    after(() => fixture.close());

    const entry = { nodeId: 'journal-node', how: 'send' as const, msg: { payload: 'stored' } };
    async function change(key = 'C1', sourceMessageId?: string) {
      now += 10;
      return (await journal.record({ source: 'crm', sourceMessageId, key, payload: { key }, entry })).message;
    }
    const start = (messageId: string, key = 'C1', order?: number) =>
      journal.startDelivery({ messageId, target: 'planning', key, order, retry: fast, nodeId: 'delivery-node', msg: { payload: messageId } });
    const status = async (id: string) => (await journal.store.getDelivery(id))!.status;

    it('records a duplicate source message id once', async () => {
      const first = await change('C1', 'evt-9');
      const again = await journal.record({ source: 'crm', sourceMessageId: 'evt-9', payload: {}, entry });
      assert.strictEqual(again.duplicate, true);
      assert.strictEqual(again.message.id, first.id);
    });

    it('takes an insert the store applied twice (Redis restarted before answering, the client sent it again) as the message, not a duplicate', async () => {
      const store = journal.store;
      const twice = Object.create(store, {
        insertMessage: { value: async (m: any) => (await store.insertMessage(m), store.insertMessage(m)) },
        insertMessages: { value: async (ms: any[]) => (await store.insertMessages(ms), store.insertMessages(ms)) },
      });
      const resent = new Journal({ store: twice, instance: 'hub-a', now: () => now });
      const one = await resent.record({ source: 'crm', sourceMessageId: 'evt-resent', key: 'C1', payload: {}, entry });
      assert.strictEqual(one.duplicate, false);
      const many = await resent.recordMany([{ source: 'crm', sourceMessageId: 'evt-resent-2', key: 'C2', payload: {}, entry }]);
      assert.strictEqual(many[0].duplicate, false);
      const again = await resent.record({ source: 'crm', sourceMessageId: 'evt-resent', key: 'C1', payload: {}, entry });
      assert.strictEqual(again.duplicate, true, 'a real duplicate is still one');
      assert.strictEqual(again.message.id, one.message.id);
    });

    it('sends the first change of a key, holds the next, and releases it when the first is delivered', async () => {
      const a = await start((await change()).id);
      assert.strictEqual(a.action, 'send');
      assert.strictEqual(a.delivery.attempts, 1);
      assert.strictEqual(a.delivery.idempotencyKey, a.delivery.id);
      const b = await start((await change()).id);
      assert.strictEqual(b.action, 'held');
      const other = await start((await change('C2')).id, 'C2');
      assert.strictEqual(other.action, 'send', 'another key is not held');
      await journal.settle(a.delivery.id, 'delivered');
      assert.strictEqual(await status(b.delivery.id), 'in-flight');
      assert.strictEqual(runs.length, 1);
      assert.strictEqual(runs[0].delivery!.id, b.delivery.id);
      assert.deepStrictEqual(runs[0].resume.nodeId, 'delivery-node');
      assert.strictEqual(runs[0].resume.how, 'send');
      assert.strictEqual((runs[0].resume.msg.delivery as any).id, b.delivery.id);
    });

    it('supersedes an older held change with a newer one, and a failed or dead one at once', async () => {
      const a = await start((await change()).id);
      const b = await start((await change()).id);
      const c = await start((await change()).id);
      assert.strictEqual(c.action, 'held');
      assert.strictEqual(await status(b.delivery.id), 'superseded');
      assert.strictEqual((await journal.store.getDelivery(b.delivery.id))!.supersededBy, c.delivery.id);
      await journal.fail(a.delivery.id, new Error('timeout'), { nodeId: 'soap' }, { nodeId: 'soap', how: 'receive', msg: {} }, 1);
      assert.strictEqual(await status(a.delivery.id), 'superseded', 'a failed older change with a newer one waiting is moot');
      assert.strictEqual(await status(c.delivery.id), 'in-flight');
      await journal.fail(c.delivery.id, Object.assign(new Error('PartyNotFound'), { transient: false }), { nodeId: 'soap' }, { nodeId: 'soap', how: 'receive', msg: {} }, 1);
      assert.strictEqual(await status(c.delivery.id), 'dead');
      const d = await start((await change()).id);
      assert.strictEqual(d.action, 'send');
      assert.strictEqual(await status(c.delivery.id), 'superseded');
    });

    it('supersedes at once a change older than one already delivered (an old address never overwrites a new one)', async () => {
      const newer = await start((await change()).id, 'C1', 2_000);
      await journal.settle(newer.delivery.id, 'delivered');
      const older = await start((await change()).id, 'C1', 1_000);
      assert.strictEqual(older.action, 'superseded');
      assert.strictEqual(older.delivery.supersededBy, newer.delivery.id);
    });

    it('tries a newer skipped change again once an older change of the person is delivered after it (the system knows them now)', async () => {
      const newer = await start((await change()).id, 'C1', 2_000);
      await journal.settle(newer.delivery.id, 'skipped', { reason: 'planning has no party: no relationship, nothing sent' });
      const older = await start((await change()).id, 'C1', 1_000);
      assert.strictEqual(older.action, 'send', 'a skipped change does not supersede an older one');
      runs = [];
      await journal.settle(older.delivery.id, 'delivered');
      const again = (await journal.store.getDelivery(newer.delivery.id))!;
      assert.strictEqual(again.status, 'in-flight');
      assert.strictEqual(again.runFromStart, true);
      assert.strictEqual(runs.length, 1);
      assert.strictEqual(runs[0].delivery!.id, newer.delivery.id);
      assert.strictEqual(runs[0].resume.nodeId, 'journal-node', 'from the start of its journey');
      const [audit] = await journal.store.listAudit({ deliveryId: newer.delivery.id });
      assert.strictEqual(audit.actor, 'hub');
      assert.match(audit.reason, /an older change .* reached planning after this one was skipped/);
      assert.strictEqual((await start(newer.delivery.messageId, 'C1', 2_000)).action, 'send', 'its run reaches the delivery node and sends');

      // Not when a change newer than the skipped one was delivered meanwhile.
      const skipped = await start((await change('C7')).id, 'C7', 2_000);
      await journal.settle(skipped.delivery.id, 'skipped', { reason: 'no relationship' });
      const newest = await start((await change('C7')).id, 'C7', 3_000);
      await journal.settle(newest.delivery.id, 'delivered');
      const oldest = await start((await change('C7')).id, 'C7', 1_000);
      assert.strictEqual(oldest.action, 'superseded');
      assert.strictEqual(await status(skipped.delivery.id), 'skipped');
    });

    it('at a target that answers later (it remembers its answer to a request id), runs a copy of the newer skipped change instead', async () => {
      const later = (messageId: string, order: number) =>
        journal.startDelivery({ messageId, target: 'revenues', key: 'C4', order, retry: fast, mode: { answersLater: true }, nodeId: 'delivery-node', msg: { payload: messageId } });
      const newer = await later((await change('C4')).id, 2_000);
      await journal.awaitAnswer(newer.delivery.id);
      await journal.answer(newer.delivery.id, { outcome: 'skipped', reason: 'NO_MATCH: no account at the previous address' });
      const older = await later((await change('C4')).id, 1_000);
      assert.strictEqual(older.action, 'send');
      await journal.awaitAnswer(older.delivery.id);
      runs = [];
      await journal.answer(older.delivery.id, { outcome: 'delivered' });
      assert.strictEqual(await status(newer.delivery.id), 'skipped', 'the answered delivery stays as Revenues answered it');
      assert.strictEqual(runs.length, 1);
      const copy = runs[0].message!;
      assert.strictEqual(copy.editedFrom, newer.delivery.messageId);
      assert.notStrictEqual(copy.id, newer.delivery.messageId, 'a new message id: a new request id at Revenues');
      const original = (await journal.store.getMessage(newer.delivery.messageId))!;
      assert.strictEqual(original.resolvedBy?.actor, 'hub');
    });

    it('takes a superseded change the target accepted after all (its late answer) as delivered, and runs a copy of the newer change it made moot', async () => {
      const later = (messageId: string, order: number) =>
        journal.startDelivery({ messageId, target: 'revenues', key: 'C5', order, retry: fast, mode: { answersLater: true }, nodeId: 'delivery-node', msg: { payload: messageId } });
      // The older change is with Revenues, whose answer does not come in time: it needs
      // attention, and the newer change waiting behind it goes (the older is superseded).
      const older = await later((await change('C5')).id, 1_000);
      await journal.awaitAnswer(older.delivery.id);
      const newer = await later((await change('C5')).id, 2_000);
      assert.strictEqual(newer.action, 'held');
      now += 25 * 60 * 60 * 1000;
      await journal.claimDue();
      assert.strictEqual(await status(older.delivery.id), 'superseded');
      assert.strictEqual(await status(newer.delivery.id), 'in-flight');
      await journal.awaitAnswer(newer.delivery.id);
      await journal.answer(newer.delivery.id, { outcome: 'skipped', reason: 'NO_MATCH: no account at the previous address' });
      runs = [];
      // Revenues took the older change after all: its late ACCEPTED comes.
      const { changed, delivery } = await journal.answer(older.delivery.id, { outcome: 'delivered' });
      assert.strictEqual(changed, true);
      assert.strictEqual(delivery!.status, 'delivered');
      assert.match(delivery!.reason!, /revenues took it after all/);
      assert.strictEqual(runs.length, 1, 'the newer change goes again');
      assert.strictEqual(runs[0].message!.editedFrom, newer.delivery.messageId);

      // The other order: the older change's late ACCEPTED comes while the newer is with Revenues, then the newer's NO_MATCH.
      const o2 = await later((await change('C6')).id, 1_000);
      await journal.awaitAnswer(o2.delivery.id);
      const n2 = await later((await change('C6')).id, 2_000);
      now += 25 * 60 * 60 * 1000;
      await journal.claimDue();
      assert.strictEqual(await status(o2.delivery.id), 'superseded');
      await journal.awaitAnswer(n2.delivery.id);
      now += 1000;
      await journal.answer(o2.delivery.id, { outcome: 'delivered' });
      runs = [];
      await journal.answer(n2.delivery.id, { outcome: 'skipped', reason: 'NO_MATCH' });
      assert.strictEqual(runs.length, 1, 'judged without the older change: a copy goes again');
      assert.strictEqual(runs[0].message!.editedFrom, n2.delivery.messageId);
    });

    it('runs a skipped change again, once, when an older change of the person reached the hub after it (a redelivery) and was superseded by it unsent', async () => {
      const newer = await start((await change('C8')).id, 'C8', 2_000);
      const older = await start((await change('C8')).id, 'C8', 1_000);
      assert.strictEqual(older.action, 'superseded', 'an older change arriving late is superseded at once by the newer one under way');
      runs = [];
      await journal.settle(newer.delivery.id, 'skipped', { reason: 'planning has no party at the previous address: no relationship, nothing sent' });
      const again = (await journal.store.getDelivery(newer.delivery.id))!;
      assert.strictEqual(again.status, 'in-flight', 'judged without the older change: it runs again');
      assert.strictEqual(again.runFromStart, true);
      assert.strictEqual(again.triedAgainAfter, older.delivery.id);
      assert.strictEqual(runs.length, 1);
      assert.strictEqual(runs[0].resume.nodeId, 'journal-node');
      const audits = await journal.store.listAudit({ deliveryId: newer.delivery.id });
      assert.ok(audits.some((a) => a.actor === 'hub' && /reached the hub after this one; tried again/.test(a.reason)));
      runs = [];
      await journal.settle(newer.delivery.id, 'skipped', { reason: 'still nobody there' });
      assert.strictEqual(await status(newer.delivery.id), 'skipped', 'once only: no loop');
      assert.strictEqual(runs.length, 0);

      // At a target that answers later, a copy goes (it remembers its answer to a request id).
      const later = (messageId: string, order: number) =>
        journal.startDelivery({ messageId, target: 'revenues', key: 'C9', order, retry: fast, mode: { answersLater: true }, nodeId: 'delivery-node', msg: { payload: messageId } });
      const n2 = await later((await change('C9')).id, 2_000);
      await journal.awaitAnswer(n2.delivery.id);
      assert.strictEqual((await later((await change('C9')).id, 1_000)).action, 'superseded');
      runs = [];
      await journal.answer(n2.delivery.id, { outcome: 'skipped', reason: 'NO_MATCH' });
      assert.strictEqual(runs.length, 1);
      assert.strictEqual(runs[0].message!.editedFrom, n2.delivery.messageId);
    });

    it('does not start a delivery twice for the same message, target and key', async () => {
      const m = await change();
      const first = await start(m.id);
      assert.strictEqual((await start(m.id)).action, 'exists', 'in flight: another run of the message meeting it stops (one attempt at a time)');
      await journal.settle(first.delivery.id, 'delivered');
      const again = await start(m.id);
      assert.strictEqual(again.action, 'exists');
      assert.strictEqual(again.delivery.status, 'delivered');
    });

    it('sends a delivery replayed from the start when its message reaches the delivery node, once', async () => {
      const m = await change();
      const first = await start(m.id);
      await journal.fail(first.delivery.id, Object.assign(new Error('InvalidAddress'), { transient: false }), {}, { nodeId: 'soap', how: 'receive', msg: {} }, 1);
      await journal.replay(first.delivery.id, { from: 'start', reason: 'fixed at the target', actor: 'support' });
      const run = await start(m.id);
      assert.strictEqual(run.action, 'send');
      assert.strictEqual(run.delivery.attempts, 2);
      assert.strictEqual((await start(m.id)).action, 'exists', 'a second run meeting the same attempt stops');
    });

    it('retries a transient failure after a backoff, up to the maximum attempts, then it is dead', async () => {
      const a = await start((await change()).id);
      const resume = { nodeId: 'soap', how: 'receive' as const, msg: { payload: 'at soap' } };
      const failed = await journal.fail(a.delivery.id, new Error('ECONNRESET'), { nodeId: 'soap', nodeType: 'function' }, resume, 1);
      assert.strictEqual(failed!.status, 'failed');
      assert.ok(failed!.nextAttemptAt! >= now + 500 && failed!.nextAttemptAt! <= now + 1000);
      assert.deepStrictEqual(failed!.lastError!.classification, 'transient');
      assert.strictEqual(failed!.lastError!.nodeType, 'function');
      assert.strictEqual(await journal.fail(a.delivery.id, new Error('again'), {}, resume, 1), undefined, 'the same failure reported twice counts once');
      assert.deepStrictEqual(await journal.claimDue(), [], 'not due yet');
      now += 1000;
      const [claimed] = await journal.claimDue();
      assert.strictEqual(claimed.attempts, 2);
      assert.strictEqual(runs.at(-1)!.resume.nodeId, 'soap');
      assert.strictEqual((runs.at(-1)!.resume.msg.delivery as any).attempt, 2);
      await journal.fail(a.delivery.id, new Error('ECONNRESET'), {}, resume, 2);
      now += 2000;
      await journal.claimDue();
      const dead = await journal.fail(a.delivery.id, new Error('ECONNRESET'), {}, resume, 3);
      assert.strictEqual(dead!.status, 'dead');
      assert.strictEqual(dead!.attempts, 3);
    });

    it('tries a waiting error (waitUntil) again at its time without counting it as an attempt, even past the maximum', async () => {
      const a = await start((await change()).id);
      const resume = { nodeId: 'refund-check', how: 'receive' as const, msg: { payload: 'held' } };
      const until = now + 60_000;
      let attempt = 1;
      // More waits than the policy's 3 attempts: none of them makes it dead.
      for (let i = 0; i < 4; i++) {
        const waiting = await journal.fail(a.delivery.id, waitUntil('REFUND_SETTLING', 'not yet', until), { nodeId: 'refund-check' }, resume, attempt);
        assert.strictEqual(waiting!.status, 'failed');
        assert.strictEqual(waiting!.nextAttemptAt, until, 'tried again at its time, not after a backoff');
        assert.strictEqual(waiting!.attempts, 0, 'a wait is not an attempt');
        assert.strictEqual(waiting!.lastError!.code, 'REFUND_SETTLING');
        assert.deepStrictEqual(await journal.claimDue(), [], 'not due before its time');
        now = until;
        const [claimed] = await journal.claimDue();
        assert.strictEqual(claimed.id, a.delivery.id);
        attempt = claimed.attempts;
        assert.strictEqual(attempt, 1);
        now = until - 1000; // the next wait is again in the future
      }
      // A wait whose time has passed is an ordinary transient failure: it counts, with backoff.
      const late = await journal.fail(a.delivery.id, waitUntil('REFUND_SETTLING', 'not yet', now - 1), {}, resume, attempt);
      assert.strictEqual(late!.attempts, 1);
      assert.ok(late!.nextAttemptAt! >= now + 500 && late!.nextAttemptAt! <= now + 1000);
    });

    it('keeps the message as it was at the delivery node once a failure further on moves the retry point', async () => {
      const m = await change();
      const a = await start(m.id);
      assert.strictEqual(messageAtDelivery(a.delivery)!.payload, m.id);
      const failed = await journal.fail(a.delivery.id, new Error('EPIPE'), { nodeId: 'gl-file' }, { nodeId: 'gl-file', how: 'receive', msg: { payload: 'mapped journal' } }, 1);
      assert.strictEqual(failed!.resume!.msg.payload, 'mapped journal', 'the retry resumes where it failed');
      assert.strictEqual(messageAtDelivery(failed!)!.payload, m.id, 'what the delivery is about is still readable');
      now += 1000;
      await journal.claimDue();
      const again = await journal.fail(a.delivery.id, new Error('EPIPE'), { nodeId: 'sftp' }, { nodeId: 'sftp', how: 'receive', msg: { payload: 'csv' } }, 2);
      assert.strictEqual(messageAtDelivery(again!)!.payload, m.id);
      assert.strictEqual(messageAtDelivery((await journal.store.getDelivery(a.delivery.id))!)!.payload, m.id, 'as stored');
    });

    it('records a failure before any delivery as a "hub" delivery that settles once the node runs through', async () => {
      const m = await change();
      const d = await journal.failBeforeDelivery(m.id, new Error('bad mapping'), { nodeId: 'map' }, { nodeId: 'map', how: 'receive', msg: { payload: 1 } });
      assert.strictEqual(d!.target, 'hub');
      assert.strictEqual(d!.status, 'failed');
      assert.strictEqual((await journal.store.getMessage(m.id))!.status, 'routed');
      now += 5000;
      await journal.claimDue();
      await journal.hubStagePassed(d!.id, 'other-node');
      assert.strictEqual(await status(d!.id), 'in-flight');
      await journal.hubStagePassed(d!.id, 'map');
      assert.strictEqual(await status(d!.id), 'delivered');
    });

    it('replays a dead delivery with an audit, and refuses a superseded one or one without a reason', async () => {
      const a = await start((await change()).id);
      await journal.fail(a.delivery.id, Object.assign(new Error('InvalidAddress'), { transient: false }), { nodeId: 'soap' }, { nodeId: 'soap', how: 'receive', msg: { payload: 'x' } }, 1);
      await assert.rejects(journal.replay(a.delivery.id, { from: 'failed-node', actor: 'support', reason: ' ' }), RefusedError);
      const result = await journal.replay(a.delivery.id, { from: 'failed-node', actor: 'support', reason: 'address fixed in CRM' });
      assert.strictEqual(result.runs, a.delivery.id);
      assert.strictEqual(await status(a.delivery.id), 'in-flight');
      assert.strictEqual(runs.at(-1)!.resume.nodeId, 'soap');
      const [audit] = await journal.store.listAudit({ deliveryId: a.delivery.id });
      assert.strictEqual(audit.actor, 'support');
      assert.strictEqual(audit.reason, 'address fixed in CRM');
      await assert.rejects(journal.replay(a.delivery.id, { from: 'failed-node', actor: 'support', reason: 'again' }), /in-flight/);
      const b = await start((await change()).id);
      await journal.fail(a.delivery.id, new Error('x'), {}, { nodeId: 'soap', how: 'receive', msg: {} }, 2);
      assert.strictEqual(await status(a.delivery.id), 'superseded');
      await assert.rejects(journal.replay(a.delivery.id, { from: 'failed-node', actor: 'support', reason: 'r' }), /superseded by/);
      assert.strictEqual(await status(b.delivery.id), 'in-flight');
    });

    it('replays an edited copy under a new message id and marks the original resolved', async () => {
      const m = await change();
      const a = await start(m.id);
      await journal.fail(a.delivery.id, Object.assign(new Error('InvalidAddress'), { transient: false }), { nodeId: 'soap' }, { nodeId: 'soap', how: 'receive', msg: { payload: 'bad', journal: { messageId: m.id } } }, 1);
      const result = await journal.replay(a.delivery.id, { from: 'failed-node', actor: 'support', reason: 'postcode typo', payload: 'good' });
      assert.notStrictEqual(result.messageId, m.id);
      assert.notStrictEqual(result.runs, a.delivery.id);
      const copy = (await journal.store.getMessage(result.messageId!))!;
      assert.strictEqual(copy.editedFrom, m.id);
      assert.strictEqual((await journal.store.getMessage(m.id))!.resolvedBy!.messageId, copy.id);
      assert.strictEqual(await status(a.delivery.id), 'superseded');
      const fresh = (await journal.store.getDelivery(result.runs!))!;
      assert.strictEqual(fresh.status, 'in-flight');
      assert.strictEqual(fresh.key, 'C1');
      const task = runs.at(-1)!;
      assert.strictEqual(task.resume.msg.payload, 'good');
      assert.strictEqual((task.resume.msg.journal as any).messageId, copy.id);
      assert.strictEqual((task.resume.msg.delivery as any).idempotencyKey, fresh.id);
    });

    it('discards with a reason, audited, and refuses to discard a delivered one', async () => {
      const a = await start((await change()).id);
      await journal.fail(a.delivery.id, Object.assign(new Error('gone'), { transient: false }), {}, { nodeId: 'soap', how: 'receive', msg: {} }, 1);
      await assert.rejects(journal.discard(a.delivery.id, { actor: 'support', reason: '' }), /needs a reason/);
      const d = await journal.discard(a.delivery.id, { actor: 'support', reason: 'person has left the borough' });
      assert.strictEqual(d.status, 'discarded');
      assert.strictEqual((await journal.store.listAudit({ deliveryId: d.id }))[0].action, 'discard');
      const b = await start((await change('C9')).id, 'C9');
      await journal.settle(b.delivery.id, 'delivered');
      await assert.rejects(journal.discard(b.delivery.id, { actor: 'support', reason: 'r' }), RefusedError);
    });

    it('recovers after a restart: in-flight deliveries become due, messages whose journey had not run to its end run from the start', async () => {
      const routed = await change();
      const a = await start(routed.id);
      assert.strictEqual((await journal.store.getMessage(routed.id))!.status, 'received', 'a delivery started is not the end of the journey');
      assert.strictEqual(await journal.journeyComplete(routed.id), true);
      assert.strictEqual((await journal.store.getMessage(routed.id))!.status, 'routed');
      assert.strictEqual(await journal.journeyComplete(routed.id), false, 'once');
      // Cut short after its first delivery (the hub killed before the next target's delivery node).
      const cutShort = await change('C6');
      const b = await start(cutShort.id, 'C6');
      const waiting = await change('C5');
      const restarted = new Journal({ store: journal.store, instance: 'hub-a', now: () => now });
      const tasks: RunTask[] = [];
      restarted.on('run', (t: RunTask) => tasks.push(t));
      assert.deepStrictEqual(await restarted.recover(), { deliveries: 2, messages: 2 });
      assert.strictEqual(await status(a.delivery.id), 'failed');
      assert.deepStrictEqual(tasks.map((t) => t.message?.id).sort(), [cutShort.id, waiting.id].sort());
      assert.ok(tasks.every((t) => t.resume.nodeId === 'journal-node'));
      // Run again from the start, the cut-short message meets its delivery waiting, not in flight.
      const met = await start(cutShort.id, 'C6');
      assert.strictEqual(met.action, 'exists');
      assert.strictEqual(met.delivery.id, b.delivery.id);
      assert.deepStrictEqual(await restarted.claimDue(), [], 'interrupted deliveries wait a moment for the messages run again');
      now += 1000;
      const claimed = await restarted.claimDue();
      assert.deepStrictEqual(claimed.map((d) => d.id).sort(), [a.delivery.id, b.delivery.id].sort());
      assert.strictEqual(tasks.at(-1)!.resume.nodeId, 'delivery-node');
    });
  });
}
