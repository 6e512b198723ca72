import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import Database from 'better-sqlite3';
import Redis from 'ioredis';
import { CrossReferenceStore, SqliteCrossReferences, RedisCrossReferences } from '../../hub/xref';

function contract(name: string, open: () => Promise<{ store: CrossReferenceStore; close(): Promise<void> }>) {
  describe(`cross-references (${name})`, () => {
    let store: CrossReferenceStore;
    let close: () => Promise<void>;
    beforeEach(async () => ({ store, close } = await open()));
    afterEach(async () => close());

    it('finds nothing for a contact never seen', async () => {
      assert.strictEqual(await store.find('C0000001', 'planning'), undefined);
      assert.deepStrictEqual(await store.all('C0000001'), []);
    });

    it('remembers each system separately and keeps the latest ids', async () => {
      await store.remember('C0012345', 'planning', { partyId: 'P1' });
      await store.remember('C0012345', 'housing', { tenancyRef: 'T9', personRef: 'H2' });
      await store.remember('C0012345', 'planning', { partyId: 'P7' });
      assert.deepStrictEqual((await store.find('C0012345', 'planning'))?.ids, { partyId: 'P7' });
      assert.deepStrictEqual(
        (await store.all('C0012345')).map((x) => [x.system, x.ids]),
        [
          ['housing', { tenancyRef: 'T9', personRef: 'H2' }],
          ['planning', { partyId: 'P7' }],
        ],
      );
      assert.match((await store.find('C0012345', 'housing'))!.foundAt, /^\d{4}-\d\d-\d\dT/);
    });

    it('knows whose a record is (the first contact it was found for), whatever order its ids come in', async () => {
      await store.remember('C1', 'housing', { tenancyRef: 'T9', personRef: 'T9-1' });
      await store.remember('C2', 'housing', { personRef: 'T9-1', tenancyRef: 'T9' });
      assert.strictEqual(await store.owner('housing', { personRef: 'T9-1', tenancyRef: 'T9' }), 'C1');
      assert.strictEqual(await store.owner('planning', { tenancyRef: 'T9', personRef: 'T9-1' }), undefined, 'per system');
      assert.strictEqual(await store.owner('housing', { tenancyRef: 'T9', personRef: 'T9-2' }), undefined);
    });

    it('lists the records found at an address, with where and as whom', async () => {
      await store.remember('C1', 'planning', { partyId: 'P1' }, { uprn: '100', surname: 'Moore', forename: 'Mohammed' });
      await store.remember('C2', 'planning', { partyId: 'P2' }, { uprn: '100', surname: 'Khan' });
      await store.remember('C3', 'planning', { partyId: 'P3' }, { uprn: '200', surname: 'Moore' });
      await store.remember('C4', 'housing', { tenancyRef: 'T1', personRef: 'T1-1' }, { uprn: '100', surname: 'Moore' });
      const at = await store.foundAt('planning', '100');
      assert.deepStrictEqual(
        at.map((x) => [x.contactId, x.ids, x.where]).sort(),
        [
          ['C1', { partyId: 'P1' }, { uprn: '100', surname: 'Moore', forename: 'Mohammed' }],
          ['C2', { partyId: 'P2' }, { uprn: '100', surname: 'Khan' }],
        ],
      );
      assert.deepStrictEqual(await store.foundAt('planning', '300'), []);
    });
  });
}

contract('SQLite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xref-'));
  const db = new Database(path.join(dir, 'hub.db'));
  return { store: new SqliteCrossReferences(db), close: async () => void db.close() };
});

contract('Redis', async () => {
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefix = `test:xref:${process.pid}:${Date.now()}:`;
  return {
    store: new RedisCrossReferences(redis, prefix),
    close: async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    },
  };
});
