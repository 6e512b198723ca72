import assert from 'assert';
import { randomBytes, randomUUID } from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Redis from 'ioredis';
import { openSqlite } from '../../hub/store';
import { SqliteJournalStore } from '../../hub/journal/sqlite-store';
import { RedisJournalStore } from '../../hub/journal/redis-store';
import { Journal, RefusedError, RetentionPeriods } from '../../hub/journal/journal';
import { dataKeyOf, DataKeyMissing, PersonalDataCodec } from '../../hub/journal/sealing';
import { defaultRetryPolicy } from '../../hub/journal/retry';
import type { AuditRecord, DeliveryRecord, JournalStore, MessageRecord } from '../../hub/journal/types';
import { CrossReferenceStore, RedisCrossReferences, SqliteCrossReferences } from '../../hub/xref';
import { PersonalData, personQuery } from '../../hub/privacy/people';
import { AccessLog, RedisAccessLog, SqliteAccessLog } from '../../hub/privacy/access-log';
import { runRetention } from '../../hub/privacy/retention';
import { REDIS_URL, deletePrefix, uniquePrefix } from './stores';

const DAY = 24 * 60 * 60 * 1000;
const keyA = dataKeyOf(randomBytes(32).toString('base64'));
const keyB = dataKeyOf(randomBytes(32).toString('base64'));

/** Everything a person's change of address carries that must never be readable at rest. */
const ANN = { contactId: 'C0012345', firstName: 'Annabel', lastName: 'Quixley', dateOfBirth: '1980-03-14' };
const ANN_ADDRESS = 'Rose Cottage, Ferndale Lane';
const BOB = { contactId: 'C0099999', firstName: 'Robert', lastName: 'Jonesworth', dateOfBirth: '1975-07-01' };

interface Opened {
  store: JournalStore;
  xref: CrossReferenceStore;
  access: AccessLog;
  /** Every byte the store keeps, as text: the SQLite files (with the WAL), or every Redis value under the prefix. */
  raw(): Promise<string>;
  /** The same data opened with another codec (another key, or after a rotation). */
  reopen(codec: PersonalDataCodec): JournalStore;
}

interface Backend {
  name: 'sqlite' | 'redis';
  open(codec: PersonalDataCodec, now?: () => number): Opened;
  close(): Promise<void>;
}

function sqliteBackend(): Backend {
  const cleanups: Array<() => void> = [];
  return {
    name: 'sqlite',
    open(codec, now) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'personal-data-'));
      const db = openSqlite(dir, 'hub.db');
      cleanups.push(() => {
        db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      });
      return {
        store: new SqliteJournalStore(db, codec),
        xref: new SqliteCrossReferences(db, codec),
        access: new SqliteAccessLog(db, now),
        async raw() {
          return fs
            .readdirSync(dir)
            .map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1'))
            .join('\n');
        },
        reopen: (other) => new SqliteJournalStore(db, other),
      };
    },
    async close() {
      for (const c of cleanups.splice(0)) c();
    },
  };
}

function redisBackend(): Backend {
  const client = new Redis(REDIS_URL);
  const prefixes: string[] = [];
  return {
    name: 'redis',
    open(codec, now) {
      const prefix = uniquePrefix('privacy');
      prefixes.push(prefix);
      return {
        store: new RedisJournalStore(client, { prefix, codec }),
        xref: new RedisCrossReferences(client, `${prefix}xref:`, codec),
        access: new RedisAccessLog(client, prefix, now),
        async raw() {
          const out: string[] = [];
          let cursor = '0';
          do {
            const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
            for (const key of keys) {
              const type = await client.type(key);
              if (type === 'string') out.push(key, (await client.get(key)) ?? '');
              else if (type === 'hash') out.push(key, JSON.stringify(await client.hgetall(key)));
              else if (type === 'list') out.push(key, ...(await client.lrange(key, 0, -1)));
              else if (type === 'set') out.push(key, ...(await client.smembers(key)));
              else if (type === 'zset') out.push(key, ...(await client.zrange(key, 0, -1)));
            }
            cursor = next;
          } while (cursor !== '0');
          return out.join('\n');
        },
        reopen: (other) => new RedisJournalStore(client, { prefix, codec: other }),
      };
    },
    async close() {
      for (const p of prefixes.splice(0)) await deletePrefix(client, p);
      client.disconnect();
    },
  };
}

const entry = (payload: unknown) => ({ nodeId: 'journal-node', how: 'send' as const, msg: { payload, topic: 'contact.address.changed' } });
const permanent = (text: string) => Object.assign(new Error(text), { transient: false });

function addressChange(person: typeof ANN, address: string) {
  const payload = { eventType: 'ContactAddressChanged', eventId: randomUUID(), contact: person, newAddress: { line1: address, postcode: 'XM1 2AB' } };
  return { source: 'crm', sourceMessageId: payload.eventId, key: person.contactId, payload, entry: entry(payload) };
}

for (const backend of [sqliteBackend(), redisBackend()]) {
  describe(`personal data: encryption at rest, retention, erasure, access log (${backend.name})`, function () {
    this.timeout(20000);
    let now: number;
    after(() => backend.close());
    beforeEach(() => {
      now = 100 * DAY;
    });

    /** A journal with Ann and Bob's changes: each delivered to planning, Ann's also dead at housing. */
    async function twoPeople(o: Opened) {
      const journal = new Journal({ store: o.store, instance: 'hub-a', codec: new PersonalDataCodec(keyA), now: () => now });
      const people = new PersonalData(journal, o.xref);
      const ids: Record<string, { message: MessageRecord; planning: DeliveryRecord; housing: DeliveryRecord }> = {};
      for (const [person, address] of [
        [ANN, ANN_ADDRESS],
        [BOB, '12 Mill Street'],
      ] as const) {
        now += 1000;
        const { message } = await journal.record(addressChange(person, address));
        const planning = await journal.startDelivery({ messageId: message.id, target: 'planning', key: person.contactId, nodeId: 'd1', msg: message.entry.msg });
        await journal.settle(planning.delivery.id, 'delivered');
        const housing = await journal.startDelivery({ messageId: message.id, target: 'housing', key: person.contactId, nodeId: 'd2', msg: message.entry.msg });
        await journal.fail(housing.delivery.id, permanent(`TenantNotFound: no tenant ${person.lastName} at UPRN 100023`), { nodeId: 'soap' }, { nodeId: 'soap', how: 'receive', msg: message.entry.msg }, 1);
        await journal.journeyComplete(message.id);
        await o.xref.remember(person.contactId, 'planning', { partyId: `P-${person.contactId}` }, { uprn: '100023', surname: person.lastName });
        ids[person.contactId] = { message: (await o.store.getMessage(message.id))!, planning: (await o.store.getDelivery(planning.delivery.id))!, housing: (await o.store.getDelivery(housing.delivery.id))! };
      }
      return { journal, people, ids };
    }

    it('keeps payloads, stored messages and errors sealed: the store read without the key shows no personal data', async () => {
      const o = backend.open(new PersonalDataCodec(keyA));
      const { journal, ids } = await twoPeople(o);
      // A replay with an edited payload and an audited reason: stored too.
      await journal.replay(ids[ANN.contactId].housing.id, { from: 'failed-node', actor: 'support', reason: 'fixed the tenancy', payload: { ...ids[ANN.contactId].message.payload as object } });
      await o.store.appendHops([{ messageId: ids[ANN.contactId].message.id, msgid: 'x', nodeId: 'soap', startedAt: now, error: 'TenantNotFound: Quixley' }]);
      const raw = await o.raw();
      assert.ok(raw.includes(ANN.contactId), 'the key (a pseudonymous contact id) is in clear, for the indexes');
      assert.ok(raw.includes('enc1:'), 'sealed values are there');
      for (const secret of [ANN.firstName, ANN.lastName, ANN.dateOfBirth, 'Rose Cottage', 'XM1 2AB', BOB.lastName, 'TenantNotFound', 'fixed the tenancy']) {
        assert.ok(!raw.includes(secret), `"${secret}" is not readable at rest`);
      }
      // With the key, everything reads back as it was.
      const m = (await o.store.getMessage(ids[ANN.contactId].message.id))!;
      assert.strictEqual((m.payload as any).contact.lastName, ANN.lastName);
      assert.strictEqual((m.entry.msg as any).payload.newAddress.line1, ANN_ADDRESS);
      const dead = (await o.store.getDelivery(ids[BOB.contactId].housing.id))!;
      assert.strictEqual(dead.status, 'dead');
      assert.match(dead.lastError!.message, /Jonesworth/);
      assert.strictEqual(((dead.resume!.msg as any).payload.contact.firstName), BOB.firstName);
      assert.strictEqual((await o.store.hops(m.id))[0].error, 'TenantNotFound: Quixley', 'a hop\'s error is sealed, and reads back');
      assert.deepStrictEqual((await o.xref.find(ANN.contactId, 'planning'))?.where, { uprn: '100023', surname: ANN.lastName }, 'the cross-reference\'s surname is sealed, and reads back');
      // Search still finds text inside payloads (opened in the hub).
      assert.strictEqual((await o.store.listMessages({ text: 'rose cottage' })).total, 2, 'the message and its edited copy');
      assert.strictEqual((await o.store.listDeliveries({ text: 'jonesworth', status: ['dead'] })).total, 1);
      // Another key cannot read it; after a rotation, the old key still reads and new writes use the new one.
      await assert.rejects(() => o.reopen(new PersonalDataCodec(keyB)).getMessage(m.id), DataKeyMissing);
      const rotated = o.reopen(new PersonalDataCodec(keyB, [keyA]));
      assert.strictEqual(((await rotated.getMessage(m.id))!.payload as any).contact.dateOfBirth, ANN.dateOfBirth);
      const again = await new Journal({ store: rotated, instance: 'hub-a', codec: new PersonalDataCodec(keyB, [keyA]) }).record(addressChange(BOB, '1 New Street'));
      assert.ok((await o.raw()).includes(`enc1:${keyB.id}:`), 'new records are sealed with the new key');
      await assert.rejects(() => o.reopen(new PersonalDataCodec(keyA)).getMessage(again.message.id), /neither HUB_DATA_KEY nor one of HUB_DATA_KEYS/);
    });

    it('a retention run removes exactly what is due, kind by kind, never open work, and pseudonymises old audit', async () => {
      const o = backend.open(new PersonalDataCodec(keyA));
      const store = o.store;
      const at = (days: number) => now - days * DAY;
      const msgs: Record<string, MessageRecord> = {};
      const ds: Record<string, DeliveryRecord> = {};
      const add = async (name: string, status: DeliveryRecord['status'], settledDaysAgo: number, target = 'planning') => {
        const id = randomUUID();
        const m: MessageRecord = { id, source: 'crm', key: `C-${name}`, payload: { name }, receivedAt: at(settledDaysAgo + 1), status: 'routed', entry: entry({ name }), instance: 'hub-a', version: 1 };
        await store.insertMessage(m);
        const d: DeliveryRecord = {
          id: randomUUID(), messageId: id, target, key: target === 'hub' ? id : `C-${name}`, order: 1, seq: 1, status, idempotencyKey: id, attempts: 1, retry: defaultRetryPolicy,
          createdAt: at(settledDaysAgo), updatedAt: at(settledDaysAgo), ...(['delivered', 'skipped', 'superseded', 'discarded'].includes(status) ? { settledAt: at(settledDaysAgo) } : {}), version: 1,
        };
        await store.commit({ deliveries: [d] });
        msgs[name] = m;
        ds[name] = d;
      };
      await add('deliveredOld', 'delivered', 31);
      await add('skippedOld', 'skipped', 40);
      await add('supersededOld', 'superseded', 35);
      await add('deliveredRecent', 'delivered', 5);
      await add('deadOld', 'dead', 400);
      await add('failedOld', 'failed', 400);
      await add('needsAttentionOld', 'needs-attention', 400);
      await add('discardedOld', 'discarded', 200);
      await add('discardedRecent', 'discarded', 100);
      await add('refusedOld', 'discarded', 100, 'hub');
      await add('refusedRecent', 'discarded', 10, 'hub');
      await add('refusedOpen', 'dead', 400, 'hub');
      const oldAudit: AuditRecord = { id: randomUUID(), at: at(3000), actor: 'jsmith', action: 'discard', reason: 'Mrs Quixley asked us to stop', deliveryId: ds.discardedOld.id, messageId: msgs.discardedOld.id, detail: { previousStatus: 'dead' } };
      const newAudit: AuditRecord = { id: randomUUID(), at: at(10), actor: 'jsmith', action: 'replay', reason: 'fixed', deliveryId: ds.deadOld.id };
      await store.commit({ audit: [oldAudit, newAudit] });
      await o.access.recordAccess({ actor: 'jsmith', what: 'message x', subject: 'C-x' });
      const journal = new Journal({ store, instance: 'hub-a', codec: new PersonalDataCodec(keyA), now: () => now });
      const periods: RetentionPeriods = { settledMs: 30 * DAY, discardedMs: 180 * DAY, refusedMs: 90 * DAY, auditMs: 2190 * DAY };
      const report = await runRetention(journal, periods, o.access);
      assert.deepStrictEqual(
        { settled: report.settled, discarded: report.discarded, refused: report.refused, messages: report.messages, audit: report.auditPseudonymised, access: report.accessEntries },
        { settled: 3, discarded: 1, refused: 1, messages: 5, audit: 1, access: 0 },
      );
      const gone = ['deliveredOld', 'skippedOld', 'supersededOld', 'discardedOld', 'refusedOld'];
      for (const name of Object.keys(ds)) {
        const kept = !gone.includes(name);
        assert.strictEqual(!!(await store.getDelivery(ds[name].id)), kept, `${name} ${kept ? 'kept' : 'removed'} (delivery)`);
        assert.strictEqual(!!(await store.getMessage(msgs[name].id)), kept, `${name} ${kept ? 'kept' : 'removed'} (message)`);
      }
      const [pseudonymised] = await store.listAudit({ deliveryId: ds.discardedOld.id });
      assert.ok(pseudonymised.pseudonymisedAt, 'old audit kept, pseudonymised');
      assert.strictEqual(pseudonymised.action, 'discard');
      assert.match(pseudonymised.actor, /^staff-[0-9a-f]{16}$/);
      assert.ok(!JSON.stringify(pseudonymised).includes('Quixley') && !JSON.stringify(pseudonymised).includes('jsmith'));
      assert.deepStrictEqual((await store.listAudit({ deliveryId: ds.deadOld.id }))[0], newAudit, 'recent audit untouched');
      assert.strictEqual((await o.access.list()).length, 1, 'recent access entries kept');
      const counts = (await store.counts()).byStatus;
      assert.deepStrictEqual(counts, { delivered: 1, dead: 2, failed: 1, 'needs-attention': 1, discarded: 2 });
      // A second run finds nothing more to do.
      const second = await runRetention(journal, periods, o.access);
      assert.deepStrictEqual([second.settled, second.discarded, second.refused, second.messages, second.auditPseudonymised], [0, 0, 0, 0, 0]);
    });

    it('finds and exports everything about one person by contact id, by name and date of birth, or by a system\'s id', async () => {
      const o = backend.open(new PersonalDataCodec(keyA));
      const { people, ids } = await twoPeople(o);
      const byContact = await people.find(personQuery({ contactId: ANN.contactId }));
      assert.deepStrictEqual(byContact.messages.map((m) => m.id), [ids[ANN.contactId].message.id]);
      assert.deepStrictEqual(byContact.deliveries.map((d) => d.id).sort(), [ids[ANN.contactId].planning.id, ids[ANN.contactId].housing.id].sort());
      assert.deepStrictEqual(byContact.crossReferences.map((x) => x.ids), [{ partyId: `P-${ANN.contactId}` }]);
      assert.deepStrictEqual(byContact.open, [{ id: ids[ANN.contactId].housing.id, target: 'housing', status: 'dead' }]);
      const byName = await people.find(personQuery({ surname: 'quixley', dateOfBirth: ANN.dateOfBirth }));
      assert.deepStrictEqual(byName.contacts, [ANN.contactId]);
      assert.strictEqual(byName.deliveries.length, 2);
      const bySystemId = await people.find(personQuery({ id: `P-${ANN.contactId}` }));
      assert.deepStrictEqual(bySystemId.contacts, [ANN.contactId], 'the planning party id leads to the contact through the cross-references');
      assert.deepStrictEqual((await people.find(personQuery({ surname: 'Quixley', dateOfBirth: '1999-01-01' }))).messages, [], 'the wrong date of birth is not the person');
      const exported = await people.export(personQuery({ contactId: ANN.contactId }));
      assert.strictEqual((exported.messages[0].payload as any).contact.firstName, ANN.firstName, 'the export holds the content');
      assert.ok(!JSON.stringify(exported).includes(BOB.lastName), 'and nothing of anyone else');
      assert.throws(() => personQuery({ surname: 'Quixley' }), /by contactId, by surname and dateOfBirth, or by id/);
      assert.throws(() => personQuery({ surname: 'Quixley', dateOfBirth: '14/03/1980' }), /YYYY-MM-DD/);
    });

    it('erases one person (open work blocks it unless forced), leaves everyone else untouched, and refuses a replay or a late answer for them', async () => {
      const o = backend.open(new PersonalDataCodec(keyA));
      const { journal, people, ids } = await twoPeople(o);
      const ann = ids[ANN.contactId];
      const bob = ids[BOB.contactId];
      await journal.replay(ann.housing.id, { from: 'failed-node', actor: 'support', reason: 'Annabel Quixley rang' });
      await journal.fail(ann.housing.id, permanent('TenantNotFound again'), { nodeId: 'soap' }, { nodeId: 'soap', how: 'receive', msg: {} }, 2);
      const bobBefore = { message: await o.store.getMessage(bob.message.id), planning: await o.store.getDelivery(bob.planning.id), housing: await o.store.getDelivery(bob.housing.id), xref: await o.xref.all(BOB.contactId) };
      const countsBefore = (await o.store.counts()).byStatus;

      await assert.rejects(() => people.erase(personQuery({ contactId: ANN.contactId }), { actor: 'dpo', reason: 'SAR-2026-114' }), (err: Error) => {
        assert.ok(err instanceof RefusedError);
        assert.match(err.message, /1 delivery\(ies\) for this person are still open \(housing dead /);
        return true;
      });
      assert.ok(await o.store.getMessage(ann.message.id), 'nothing erased when refused');
      await assert.rejects(() => people.erase(personQuery({ contactId: ANN.contactId }), { actor: 'dpo', reason: ' ' }), /needs a reason/);

      now += 1000;
      const erasure = await people.erase(personQuery({ contactId: ANN.contactId }), { actor: 'dpo', reason: 'SAR-2026-114', force: true });
      assert.deepStrictEqual(erasure.messageIds, [ann.message.id]);
      assert.deepStrictEqual([...erasure.deliveryIds].sort(), [ann.planning.id, ann.housing.id].sort());
      assert.deepStrictEqual(erasure.forced, [{ deliveryId: ann.housing.id, status: 'dead' }]);
      assert.strictEqual(erasure.crossReferences, 1);
      assert.ok(!JSON.stringify(erasure).includes(ANN.contactId), 'the tombstone holds a pseudonym, not the contact id');

      assert.strictEqual(await o.store.getMessage(ann.message.id), undefined);
      assert.strictEqual(await o.store.getDelivery(ann.planning.id), undefined);
      assert.strictEqual(await o.store.getDelivery(ann.housing.id), undefined);
      assert.deepStrictEqual(await o.store.hops(ann.message.id), []);
      assert.deepStrictEqual(await o.xref.all(ANN.contactId), []);
      assert.strictEqual(await o.xref.owner('planning', { partyId: `P-${ANN.contactId}` }), undefined);
      assert.deepStrictEqual((await people.find(personQuery({ contactId: ANN.contactId }))).messages, []);
      const raw = await o.raw();
      for (const secret of [ANN.lastName, 'Rose Cottage']) assert.ok(!raw.includes(secret));

      // Everyone else, and every other delivery, as they were.
      assert.deepStrictEqual(
        { message: await o.store.getMessage(bob.message.id), planning: await o.store.getDelivery(bob.planning.id), housing: await o.store.getDelivery(bob.housing.id), xref: await o.xref.all(BOB.contactId) },
        bobBefore,
      );
      assert.deepStrictEqual((await o.store.counts()).byStatus, { ...countsBefore, delivered: countsBefore.delivered! - 1, dead: countsBefore.dead! - 1 });

      // A replay, a late answer, a settle of an erased delivery: refused, nothing re-created.
      await assert.rejects(() => journal.replay(ann.housing.id, { from: 'start', actor: 'support', reason: 'try again' }), (err: Error) => {
        assert.ok(err instanceof RefusedError);
        assert.match(err.message, new RegExp(`${ann.housing.id} belonged to a person whose data was erased on .* \\(erasure ${erasure.id}\\)`));
        return true;
      });
      const late = await journal.answer(ann.housing.id, { outcome: 'delivered' });
      assert.strictEqual(late.changed, false);
      assert.match(late.erased!, /erased/);
      await assert.rejects(() => journal.settle(ann.planning.id, 'delivered'), /erased/);
      assert.strictEqual(await o.store.getDelivery(ann.housing.id), undefined, 'still gone');

      // Audit: the earlier replay about Ann pseudonymised; the erasure itself audited.
      const [replayAudit] = await o.store.listAudit({ deliveryId: ann.housing.id });
      assert.ok(replayAudit.pseudonymisedAt);
      assert.ok(!JSON.stringify(replayAudit).includes('Quixley'));
      const erasedAudit = (await o.store.listAudit({})).find((a) => a.action === 'erase')!;
      assert.deepStrictEqual([erasedAudit.actor, erasedAudit.reason, erasedAudit.detail?.erasureId], ['dpo', 'SAR-2026-114', erasure.id]);
      assert.deepStrictEqual((await o.store.listErasures()).map((e) => e.id), [erasure.id]);
      assert.strictEqual((await o.store.erasureOf(ann.message.id))?.id, erasure.id);
      assert.strictEqual(await o.store.erasureOf(bob.message.id), undefined);
    });

    it('the access log records who read what about whom, newest first, and lists by subject', async () => {
      const o = backend.open(new PersonalDataCodec(keyA), () => (now += 1));
      await o.access.recordAccess({ actor: 'support', what: 'delivery d-1', subject: ANN.contactId });
      await o.access.recordAccess({ actor: 'dpo', what: 'person export', subject: BOB.contactId });
      await o.access.recordAccess({ actor: 'support', what: 'deliveries list (3)' });
      const all = await o.access.list();
      assert.deepStrictEqual(all.map((e) => [e.actor, e.what, e.subject]), [['support', 'deliveries list (3)', undefined], ['dpo', 'person export', BOB.contactId], ['support', 'delivery d-1', ANN.contactId]]);
      assert.deepStrictEqual((await o.access.list({ subject: ANN.contactId })).map((e) => e.what), ['delivery d-1']);
      assert.deepStrictEqual((await o.access.list({ actor: 'dpo' })).map((e) => e.what), ['person export']);
      assert.ok(all.every((e) => typeof e.at === 'number' && e.id));
    });
  });
}
