import assert from 'assert';
import { execFile } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import express from 'express';
import { startSimulators, RunningSimulators } from '../../simulators';
import { backOfficeEnvironment } from '../../hub/demo';
import { toCrmAddress } from '../../simulators/addresses';
import type { Resident } from '../../simulators/population';
import { openSqlite } from '../../hub/store';
import { SqliteCrossReferences } from '../../hub/xref';
import { Journal, SqliteJournalStore } from '../../hub/journal';
import { distDir } from '../../hub/paths';
import { compareAddresses, fromBs7666, fromCrm, fromLines } from '../../hub/reconcile/address';
import { reconcile } from '../../hub/reconcile/reconcile';
import { reconcileSources, systemReadersFromEnv, SystemReaders } from '../../hub/reconcile/sources';
import { formatReport } from '../../hub/reconcile/table';
import { reconciliationApi } from '../../hub/api/reconciliation-api';

describe('reconciliation report (real CRM, planning and housing simulators; SQLite journal and cross-references)', function () {
  this.timeout(60000);
  let sims: RunningSimulators;
  let dataDir: string;
  let env: Record<string, string>;
  let readers: SystemReaders;
  let sqlite: ReturnType<typeof openSqlite>;
  let journal: Journal;
  let xref: SqliteCrossReferences;
  let everywhere: Resident;
  let crmOnly: Resident;

  /** Journals a CRM change and settles its revenues delivery as the ack would. */
  const revenuesOutcome = async (contactId: string, newAddress: object, outcome: 'delivered' | 'skipped', reason?: string) => {
    const { message } = await journal.record({ source: 'crm', sourceMessageId: `${contactId}-${Date.now()}-${Math.random()}`, key: contactId, payload: { newAddress }, entry: { nodeId: 'test', how: 'send', msg: {} } });
    const started = await journal.startDelivery({ messageId: message.id, target: 'revenues', key: contactId, nodeId: 'test', msg: {} });
    await journal.settle(started.delivery.id, outcome, { reason });
  };

  before(async () => {
    sims = await startSimulators({ properties: 2000, sftp: false });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reconcile-'));
    env = backOfficeEnvironment(sims);
    readers = systemReadersFromEnv(env);
    sqlite = openSqlite(dataDir);
    xref = new SqliteCrossReferences(sqlite);
    journal = new Journal({ store: new SqliteJournalStore(sqlite), instance: 'reconcile-test' });
    everywhere = sims.population.residents.find((r) => r.crmContactId && r.planningPartyId && r.tenancyRef && r.councilTaxAccountRef)!;
    crmOnly = sims.population.residents.find((r) => r.crmContactId && !r.planningPartyId && !r.tenancyRef && !r.councilTaxAccountRef)!;
    await xref.remember(everywhere.crmContactId!, 'planning', { partyId: everywhere.planningPartyId! });
    await xref.remember(everywhere.crmContactId!, 'housing', { tenancyRef: everywhere.tenancyRef!, personRef: everywhere.personRef! });
    await revenuesOutcome(everywhere.crmContactId!, sims.crm.getContact(everywhere.crmContactId!)!.address, 'delivered');
    await revenuesOutcome(crmOnly.crmContactId!, sims.crm.getContact(crmOnly.crmContactId!)!.address, 'skipped', 'NO_MATCH: no council tax account for this person at the previous address');
  });
  after(async () => {
    await readers?.close();
    sqlite?.close();
    await sims?.stop();
  });

  const sources = () => reconcileSources(readers, xref, journal.store);

  it('compares by UPRN where both have one, else by postcode and the words and numbers of the lines', () => {
    const crm = fromCrm({ line1: 'Flat 2', line2: '12 Alder Road', town: 'ASHBURY', postcode: 'xm1 1ab' });
    const bs = { uprn: '1', saon: 'Flat 2', paon: '12', streetDescription: 'Alder Road', townName: 'Ashbury', postTown: 'ASHBURY', postcode: 'XM1 1AB' };
    assert.strictEqual(compareAddresses(crm, fromBs7666(bs)).same, true);
    assert.strictEqual(compareAddresses(crm, fromBs7666({ ...bs, saon: 'Flat 3' })).same, false, 'another flat');
    assert.strictEqual(compareAddresses(crm, fromLines({ addressLine1: 'Flat 2', addressLine2: '12 Alder Road', addressLine3: 'Coldharbour Green', postcode: 'XM1 1AB' })).same, true, 'a town written differently');
    assert.strictEqual(compareAddresses(crm, fromLines({ addressLine1: 'Flat 2', addressLine2: '12 Alder Road', postcode: 'XM1 1AD' })).same, false, 'another postcode');
    assert.deepStrictEqual(compareAddresses({ ...crm, uprn: '5' }, fromBs7666(bs)), { same: false, by: 'uprn' });
  });

  it('says every system agrees before anyone moves, with revenues from the journal, and nothing known of a CRM-only person', async () => {
    const report = await reconcile(sources(), { contactIds: [everywhere.crmContactId!, crmOnly.crmContactId!] });
    const a = report.people.find((p) => p.contactId === everywhere.crmContactId)!;
    const b = report.people.find((p) => p.contactId === crmOnly.crmContactId)!;
    assert.deepStrictEqual(a.systems.map((s) => [s.system, s.verdict]), [['planning', 'agrees'], ['housing', 'agrees'], ['revenues', 'agrees']], JSON.stringify(a));
    assert.deepStrictEqual(b.systems.map((s) => s.verdict), ['not-known', 'not-known', 'not-known']);
    assert.match(b.systems[2].detail, /NO_MATCH/);
    assert.strictEqual(report.summary.allAgree, true);
    assert.ok(report.notes.some((n) => /revenues has no read API/.test(n)));
  });

  it('finds where a system holds another address than the CRM, and a contact the CRM does not have', async () => {
    const home = sims.population.gazetteer.find((g) => g.logicalStatus === 1 && g.uprn !== everywhere.uprn)!;
    await sims.crm.changeContactAddress(everywhere.crmContactId!, toCrmAddress(home, false)).catch(() => undefined); // no broker, no hub: the event waits, the contact changed
    const report = await reconcile(sources(), { contactIds: [everywhere.crmContactId!, 'C9999999'] });
    const moved = report.people.find((p) => p.contactId === everywhere.crmContactId)!;
    assert.deepStrictEqual(moved.systems.map((s) => s.verdict), ['differs', 'differs', 'differs'], JSON.stringify(moved));
    assert.match(moved.systems[2].detail, /no longer the CRM's/);
    const missing = report.people.find((p) => p.contactId === 'C9999999')!;
    assert.match(missing.error!, /ContactNotFound/);
    assert.strictEqual(report.summary.allAgree, false);
    assert.strictEqual(report.summary.peopleNotAgreeing, 2);
    const table = formatReport(report);
    assert.match(table, new RegExp(`${everywhere.crmContactId}.*planning.*differs`));
    assert.match(table, /reconciliation: 2 of 2 people do not agree; planning: 1 differs/);
  });

  it('runs as a command: exit code 1 and the table when a system differs, 2 when it cannot run', async () => {
    const run = (extra: Record<string, string | undefined>, args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile(process.execPath, [path.join(distDir, 'hub', 'reconcile', 'main.js'), ...args], { env: { ...process.env, HUB_URL: '', HUB_STORE: 'sqlite', HUB_DATA_DIR: dataDir, ...env, ...extra } }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as any).code) : 0, out: stdout + stderr }),
        );
      });
    const differs = await run({}, []);
    assert.strictEqual(differs.code, 1, differs.out);
    assert.match(differs.out, /1 of 2 people do not agree/);
    const agrees = await run({}, [crmOnly.crmContactId!]);
    assert.strictEqual(agrees.code, 0, agrees.out);
    const broken = await run({ CRM_WSDL: '' }, []);
    assert.strictEqual(broken.code, 2);
    assert.match(broken.out, /CRM_WSDL is not set/);
  });

  it('refuses a malformed contact id or body on the API routes, and says so when the CRM is not configured', async () => {
    const app = express();
    // No CRM_WSDL in the flows' environment: the report cannot read anyone's address (the stores are never reached).
    app.use('/api/console', reconciliationApi((_req, _res, next) => next(), { journal: {} as never, crossReferences: {} as never, environment: () => ({}) }));
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as any).port}/api/console/reconciliation`;
    try {
      const bad = await fetch(`${url}?contactId=C1,${encodeURIComponent('<script>')}`);
      assert.strictEqual(bad.status, 400);
      assert.match((await bad.json()).error, /is not a CRM contact id/);
      const twice = await fetch(`${url}?contactId=C1&contactId=C2`);
      assert.strictEqual(twice.status, 400);
      const noCrm = await fetch(url);
      assert.strictEqual(noCrm.status, 503);
      assert.match((await noCrm.json()).error, /CRM_WSDL is not set/);
      // The POST on its own (no Node-RED parsing the body first): the route's own parser and checks.
      const postJson = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const notJson = await postJson('{"contactIds": [');
      assert.strictEqual(notJson.status, 400);
      assert.match((await notJson.json()).error, /^the body is not JSON/);
      const wrongType = await postJson('{"contactIds": [42]}');
      assert.strictEqual(wrongType.status, 400);
      assert.match((await wrongType.json()).error, /contactIds\[0\] is number, not a string/);
      const tooLarge = await postJson(JSON.stringify({ contactIds: Array.from({ length: 600000 }, (_, i) => `C${String(i).padStart(7, '0')}`) }));
      assert.strictEqual(tooLarge.status, 413);
      assert.match((await tooLarge.json()).error, /larger than 5242880 bytes/);
      const postNoJournal = await postJson('{"contactIds": ["C0000001"]}');
      assert.strictEqual(postNoJournal.status, 503);
    } finally {
      server.close();
    }
  });
});
