import assert from 'assert';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import express from 'express';
import { peopleApi } from '../../hub/api/people-api';
import { Journal, RunTask } from '../../hub/journal/journal';
import { SqliteJournalStore } from '../../hub/journal/sqlite-store';
import { openSqlite } from '../../hub/store';
import { SqliteCrossReferences } from '../../hub/xref';

/**
 * Needs attention, resolved in place: a person lookup that found several candidates in
 * planning. Support picks one: it is remembered as the cross-reference, and the delivery runs
 * again from its start (where the lookup now finds the person by it). The console API on a
 * real journal and cross-reference store (SQLite); the page's part is in people.test.ts.
 */
describe('console: a lookup with several candidates resolved by picking one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resolve-person-'));
  const db = openSqlite(dir, 'hub.db');
  const journal = new Journal({ store: new SqliteJournalStore(db), instance: 'hub-test' });
  const crossReferences = new SqliteCrossReferences(db);
  const runs: RunTask[] = [];
  journal.on('run', (t: RunTask) => runs.push(t));
  const app = express();
  const pass: express.RequestHandler = (req, _res, next) => {
    (req as { user?: unknown }).user = { username: 'support.officer' };
    next();
  };
  app.use('/api/console', peopleApi({ read: pass, write: pass }, { journal, crossReferences, environment: () => ({}) }));
  const server = http.createServer(app);
  let base = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/console`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const post = async (p: string, body: unknown) => {
    const res = await fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('remembers the chosen candidate as the cross-reference and runs the delivery again from its start; refuses a bad choice clearly', async () => {
    const entry = { nodeId: 'journal-node', how: 'send' as const, msg: { payload: { eventId: 'evt-7' } } };
    const { message } = await journal.record({ source: 'crm', sourceMessageId: 'evt-7', key: 'C0000007', payload: { eventId: 'evt-7' }, entry });
    const started = await journal.startDelivery({ messageId: message.id, target: 'planning', key: 'C0000007', nodeId: 'delivery', msg: { payload: {} } });
    const candidates = [
      { partyId: 'PTY-1', forename: 'Ann', surname: 'Cox' },
      { partyId: 'PTY-2', forename: 'Ann', surname: 'Cox' },
    ];
    await journal.settle(started.delivery.id, 'needs-attention', { reason: 'planning has 2 candidates for party "Cox": not guessed', candidates });

    assert.strictEqual((await post(`/deliveries/${started.delivery.id}/resolve`, { reason: 'checked the date of birth', candidate: 2 })).status, 400, 'no third candidate');
    assert.strictEqual((await post(`/deliveries/${started.delivery.id}/resolve`, { candidate: 1 })).status, 400, 'a reason is required');
    assert.strictEqual(await crossReferences.find('C0000007', 'planning'), undefined, 'nothing remembered by a refused choice');

    const chosen = await post(`/deliveries/${started.delivery.id}/resolve`, { reason: 'checked the date of birth with the resident', candidate: 1 });
    assert.strictEqual(chosen.status, 202, JSON.stringify(chosen.body));
    assert.strictEqual(chosen.body.resolved, 'person');
    assert.deepStrictEqual(chosen.body.ids, { partyId: 'PTY-2' });
    assert.deepStrictEqual((await crossReferences.find('C0000007', 'planning'))?.ids, { partyId: 'PTY-2' });
    const again = (await journal.store.getDelivery(started.delivery.id))!;
    assert.strictEqual(again.status, 'in-flight');
    assert.strictEqual(again.runFromStart, true, 'from the start, where the lookup finds the person by the cross-reference');
    assert.strictEqual(runs.at(-1)?.delivery?.id, started.delivery.id);
    const [audit] = await journal.store.listAudit({ deliveryId: started.delivery.id });
    assert.strictEqual(audit.actor, 'support.officer');
    assert.match(audit.reason, /checked the date of birth with the resident \(chose \{"partyId":"PTY-2"\}\)/);

    const twice = await post(`/deliveries/${started.delivery.id}/resolve`, { reason: 'again', candidate: 0 });
    assert.strictEqual(twice.status, 409, 'only a needs-attention delivery is resolved by a choice');
  });
});
