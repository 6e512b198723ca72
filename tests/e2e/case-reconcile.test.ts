import assert from 'assert';
import { execFile } from 'child_process';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import express, { RequestHandler } from 'express';
import Redis from 'ioredis';
import { MappingLibrary } from '../../adapters/mapping';
import { createSoapClient, SoapClient } from '../../adapters/soap';
import { permanentError } from '../../adapters/errors';
import { startSimulators, RunningSimulators } from '../../simulators';
import { backOfficeEnvironment } from '../../hub/demo';
import { openSqlite } from '../../hub/store';
import { Journal, JournalStore, RedisJournalStore, SqliteJournalStore } from '../../hub/journal';
import { distDir, mappingsDir } from '../../hub/paths';
import { caseOfPayload, CaseReconciliation, CaseReconciliationReport, CrmCaseReader, crmCaseReaderFromEnv, everyMessageOf, newerEvent, reconcileCases } from '../../hub/reconcile/cases';
import { caseSummaryLine, formatCaseReport } from '../../hub/reconcile/table';
import { caseReconciliationApi } from '../../hub/api/case-reconciliation-api';
import { consoleOpenApi } from '../../hub/api/openapi';

/**
 * The case-update reconciliation (hub/reconcile/cases.ts) against the real CRM simulator,
 * with case updates journalled as the journey does (Journal.record, a timeline delivery to
 * the CRM) and CRM cases made through the CRM's own SOAP operations (CreateCase,
 * AddCaseUpdate with the arguments the hub's case-to-crm mapping gives), on a SQLite journal
 * and on a Redis one under a prefix of the run's own.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const mappings = new MappingLibrary({ mappingsDir });

const PLANNING_STATUS: Record<string, string> = { Received: 'Registered', Validated: 'Valid', ConsultationStarted: 'Under consultation', Decided: 'Decided' };
const planningEvent = (applicationRef: string, sequence: number, eventType: string, eventDate: string, extra: object = {}) => ({
  sequence,
  applicationRef,
  eventType,
  status: PLANNING_STATUS[eventType] ?? eventType,
  eventDate,
  officer: 'J Evans',
  applicantPartyId: 'P000123',
  ...extra,
});
const repairStatus = (jobRef: string, status: string, statusDate: string, extra: object = {}) => ({ jobRef, tenancyRef: 'T0000001', personRef: 'PR01', status, statusDate, ...extra });

type Outcome = 'delivered' | 'dead' | 'needs-attention' | 'in-flight';

/** The journey's side: the message journalled, mapped, and its delivery to the CRM ended as `outcome`. */
async function arrives(journal: Journal, source: 'planning' | 'housing', payload: object, outcome: Outcome) {
  const canonical = await mappings.run<any>(source === 'planning' ? 'planning-event-to-case' : 'repair-to-case', payload);
  const key = `${canonical.sourceSystem}:${canonical.sourceRef}`;
  const { message } = await journal.record({ source, sourceMessageId: canonical.sourceEventId, key, payload, entry: { nodeId: 'journal', how: 'send', msg: { payload } } });
  const started = await journal.startDelivery({ messageId: message.id, target: 'crm', key, mode: { timeline: true }, nodeId: 'delivery', msg: { payload: canonical } });
  assert.strictEqual(started.action, 'send', `delivery of ${canonical.sourceEventId} started`);
  const id = started.delivery.id;
  if (outcome === 'delivered') await journal.settle(id, 'delivered');
  if (outcome === 'needs-attention') await journal.settle(id, 'needs-attention', { reason: 'the applicant matches two CRM contacts' });
  if (outcome === 'dead') await journal.fail(id, permanentError('CRM_REFUSED', 'AddCaseUpdate: InvalidRequest'), { nodeId: 'crm-add', nodeType: 'soap-request' }, { nodeId: 'crm-add', how: 'receive', msg: { payload: canonical } }, started.delivery.attempts);
  return { canonical, message, deliveryId: id };
}

/** The CRM's side, through its own operations: the case (created if missing) and the update, as the hub would add it. */
async function crmAdds(crm: SoapClient, canonical: any, contactId?: string, override: object = {}) {
  const caseRef = await crmCase(crm, canonical, contactId);
  const args = { ...(await mappings.run<any>('case-to-crm', canonical, { caseRef })), ...override };
  await crm.call('AddCaseUpdate', args);
  return caseRef;
}

async function crmCase(crm: SoapClient, canonical: any, contactId?: string): Promise<string> {
  const created = await crm.call('CreateCase', { caseType: canonical.caseType, title: canonical.title, externalSystem: canonical.sourceSystem, externalRef: canonical.sourceRef, ...(contactId ? { contactId } : {}) });
  return created.caseRef;
}

const sqliteJournal = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'case-reconcile-'));
  const db = openSqlite(dir);
  return { dir, db, store: new SqliteJournalStore(db) };
};

/** One line per case: what the report says of it. */
const verdictOf = (c: CaseReconciliation) => ({
  case: `${c.system}:${c.ref}`,
  exists: c.caseExists,
  verdict: c.verdict,
  expected: c.expected.length,
  onCase: c.updates.length,
  missing: c.missing,
  duplicated: c.duplicated.map((d) => [d.kind, d.sourceEventId, d.looksLike]),
  statusRight: c.status.right,
  withoutContact: c.withoutContact,
});

describe('case-update reconciliation', function () {
  this.timeout(120000);

  it('names the case of a payload from the fields the mappings take it from (every fixture that maps)', async () => {
    let compared = 0;
    for (const [mapping, source] of [['planning-event-to-case', 'planning'], ['repair-to-case', 'housing']] as const) {
      const dir = path.join(mappingsDir, 'fixtures', mapping);
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.input.json'))) {
        const input = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
        let mapped: any;
        try {
          mapped = await mappings.run(mapping, input);
        } catch {
          continue; // a fixture the mapping refuses (unknown event type...): reported as not mapped
        }
        assert.deepStrictEqual(caseOfPayload(source, input), { system: mapped.sourceSystem, ref: mapped.sourceRef, form: 'raw' }, `${mapping}/${file}`);
        assert.deepStrictEqual(caseOfPayload('anything', mapped), { system: mapped.sourceSystem, ref: mapped.sourceRef, form: 'canonical' }, `${mapping}/${file} mapped`);
        compared++;
      }
    }
    assert.ok(compared >= 7, `${compared} fixtures compared`);
  });

  it('orders events by occurredAt, then the planning sequence, then (housing, same day) the repair lifecycle', () => {
    const at = (occurredAt: string, status = 'x', sequence?: number, receivedAt = 0) => ({ occurredAt, status, sequence, receivedAt });
    assert.ok(newerEvent('planning', at('2026-11-03T00:00:00Z', 'a', 1), at('2026-11-02T23:00:00-02:00', 'b', 2)) < 0, 'occurredAt as instants (an offset counts)');
    assert.ok(newerEvent('planning', at('2026-11-03T00:00:00Z', 'a', 7), at('2026-11-03T00:00:00Z', 'b', 6)) > 0, 'then the sequence');
    assert.ok(newerEvent('housing', at('2026-11-03T00:00:00Z', 'Completed', undefined, 1), at('2026-11-03T00:00:00Z', 'Scheduled', undefined, 2)) > 0, 'same day: Completed after Scheduled');
    assert.ok(newerEvent('housing', at('2026-11-03T00:00:00Z', 'Scheduled', undefined, 1), at('2026-11-03T00:00:00Z', 'Scheduled', undefined, 2)) < 0, 'then the journal received it later');
  });

  it('describes both routes in the OpenAPI document', () => {
    const doc = consoleOpenApi as any;
    assert.ok(doc.paths['/reconciliation/cases'].get.responses['200']);
    assert.ok(doc.paths['/reconciliation/cases'].post.requestBody.content['application/json']);
    assert.strictEqual(doc.components.schemas.CaseReconciliationRequest.properties.externalRefs.items.properties.system.enum.join(','), 'planning,housing');
    assert.ok(doc.components.schemas.CaseReconciliationReport.properties.summary.properties.wrongStatus);
  });

  for (const kind of ['sqlite', 'redis'] as const) {
    describe(`the real CRM simulator, a ${kind} journal`, () => {
      let sims: RunningSimulators;
      let env: Record<string, string>;
      let crm: SoapClient;
      let reader: ReturnType<typeof crmCaseReaderFromEnv>;
      let store: JournalStore;
      let journal: Journal;
      let dataDir: string;
      let closeStore: () => Promise<void>;
      let prefix: string;
      let redis: Redis | undefined;
      let contactId: string;
      const caseRefs: Record<string, string> = {};
      const agreeing = [
        { system: 'planning' as const, ref: '26/90001/FUL' },
        { system: 'housing' as const, ref: 'R2026-900001' },
        { system: 'housing' as const, ref: 'R2026-900003' },
      ];

      before(async () => {
        sims = await startSimulators({ properties: 2000, sftp: false });
        env = backOfficeEnvironment(sims);
        crm = createSoapClient({ wsdl: `${sims.endpoints.crm}?wsdl`, timeoutMs: 15000 });
        reader = crmCaseReaderFromEnv(env);
        contactId = sims.population.crmContacts[0].contactId;
        if (kind === 'sqlite') {
          const opened = sqliteJournal();
          dataDir = opened.dir;
          store = opened.store;
          closeStore = async () => {
            opened.db.close();
          };
        } else {
          prefix = `council-hub:test:case-reconcile:${process.pid}:${Date.now()}:`;
          redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
          store = new RedisJournalStore(redis, { prefix });
          closeStore = async () => {
            let cursor = '0';
            do {
              const [next, keys] = await redis!.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
              cursor = next;
              if (keys.length) await redis!.del(...keys);
            } while (cursor !== '0');
            redis!.disconnect();
          };
        }
        journal = new Journal({ store, instance: `case-reconcile-${kind}` });

        // All agree: a planning application decided, a repair completed (both with the contact).
        for (const e of [planningEvent('26/90001/FUL', 101, 'Received', '2026-11-02'), planningEvent('26/90001/FUL', 102, 'Validated', '2026-11-03'), planningEvent('26/90001/FUL', 103, 'Decided', '2026-11-20', { decision: 'Approved' })]) {
          caseRefs.planningAgrees = await crmAdds(crm, (await arrives(journal, 'planning', e, 'delivered')).canonical, contactId);
        }
        for (const e of [repairStatus('R2026-900001', 'Raised', '2026-11-03'), repairStatus('R2026-900001', 'Scheduled', '2026-11-04', { appointmentDate: '2026-11-10' }), repairStatus('R2026-900001', 'Completed', '2026-11-10')]) {
          await crmAdds(crm, (await arrives(journal, 'housing', e, 'delivered')).canonical, contactId);
        }
        // One update missing: the CRM refused the middle one (dead in the journal), the others were added.
        const c1 = await arrives(journal, 'planning', planningEvent('26/90002/HOU', 201, 'Received', '2026-11-02'), 'delivered');
        await crmAdds(crm, c1.canonical, contactId);
        await arrives(journal, 'planning', planningEvent('26/90002/HOU', 202, 'Validated', '2026-11-03'), 'dead');
        await crmAdds(crm, (await arrives(journal, 'planning', planningEvent('26/90002/HOU', 203, 'ConsultationStarted', '2026-11-05'), 'delivered')).canonical, contactId);
        // Added twice: the CRM will not take a sourceEventId twice, so the second copy came under
        // another id (the one an older mapping gave, without the date), between the two real ones.
        const raised = await arrives(journal, 'housing', repairStatus('R2026-900002', 'Raised', '2026-11-03'), 'delivered');
        await crmAdds(crm, raised.canonical, contactId);
        await crmAdds(crm, raised.canonical, contactId, { sourceEventId: 'housing:R2026-900002:Raised' });
        await crmAdds(crm, (await arrives(journal, 'housing', repairStatus('R2026-900002', 'Completed', '2026-11-06'), 'delivered')).canonical, contactId);
        // An older event added last: the case's status is the older one's.
        const newer = await arrives(journal, 'planning', planningEvent('26/90004/FUL', 402, 'Validated', '2026-11-03'), 'delivered');
        const older = await arrives(journal, 'planning', planningEvent('26/90004/FUL', 401, 'Received', '2026-11-02'), 'delivered');
        await crmAdds(crm, newer.canonical, contactId);
        caseRefs.olderLast = await crmAdds(crm, older.canonical, contactId);
        // Without a contact: the hub did not know the tenant.
        caseRefs.noContact = await crmAdds(crm, (await arrives(journal, 'housing', repairStatus('R2026-900003', 'Raised', '2026-11-07'), 'delivered')).canonical);
        // Never created: the delivery waits for a person.
        await arrives(journal, 'planning', planningEvent('26/90006/FUL', 601, 'Received', '2026-11-08'), 'needs-attention');
      });
      after(async () => {
        await reader?.close();
        await crm?.close();
        await closeStore?.();
        await sims?.stop();
      });

      const sources = () => ({ crm: reader, journal: store, mappings });

      it('the CRM simulator holds the cases as made (preconditions)', async () => {
        const olderLast = (await crm.call('GetCase', { caseRef: caseRefs.olderLast })).case;
        assert.strictEqual(olderLast.status, 'Registered', 'the CRM simulator sets a case\'s status from the update added last');
        const noContact = (await crm.call('GetCase', { caseRef: caseRefs.noContact })).case;
        assert.strictEqual(noContact.contactId, undefined);
        await assert.rejects(crm.call('FindCaseByExternalRef', { externalSystem: 'planning', externalRef: '26/90006/FUL' }), /CaseNotFound/);
      });

      it('reports exactly what is off, per case and in the summary', async () => {
        const report = await reconcileCases(sources());
        assert.deepStrictEqual(report.cases.map(verdictOf), [
          { case: 'housing:R2026-900001', exists: true, verdict: 'agrees', expected: 3, onCase: 3, missing: [], duplicated: [], statusRight: true, withoutContact: false },
          {
            case: 'housing:R2026-900002',
            exists: true,
            verdict: 'differs',
            expected: 2,
            onCase: 3,
            missing: [],
            duplicated: [['unknown-to-journal', 'housing:R2026-900002:Raised', 'housing:R2026-900002:Raised:2026-11-03']],
            statusRight: true,
            withoutContact: false,
          },
          { case: 'housing:R2026-900003', exists: true, verdict: 'agrees', expected: 1, onCase: 1, missing: [], duplicated: [], statusRight: true, withoutContact: true },
          { case: 'planning:26/90001/FUL', exists: true, verdict: 'agrees', expected: 3, onCase: 3, missing: [], duplicated: [], statusRight: true, withoutContact: false },
          { case: 'planning:26/90002/HOU', exists: true, verdict: 'differs', expected: 3, onCase: 2, missing: ['planning:26/90002/HOU:202'], duplicated: [], statusRight: true, withoutContact: false },
          { case: 'planning:26/90004/FUL', exists: true, verdict: 'differs', expected: 2, onCase: 2, missing: [], duplicated: [], statusRight: false, withoutContact: false },
          { case: 'planning:26/90006/FUL', exists: false, verdict: 'differs', expected: 1, onCase: 0, missing: ['planning:26/90006/FUL:601'], duplicated: [], statusRight: undefined, withoutContact: false },
        ]);
        const byRef = new Map(report.cases.map((c) => [c.ref, c]));
        const olderLast = byRef.get('26/90004/FUL')!;
        assert.deepStrictEqual(olderLast.status, { onCase: 'Registered', expected: 'Valid', newestEvent: 'planning:26/90004/FUL:402', right: false });
        assert.deepStrictEqual(olderLast.expected.map((e) => e.sourceEventId), ['planning:26/90004/FUL:401', 'planning:26/90004/FUL:402'], 'oldest first, whatever order they arrived in');
        const missing = byRef.get('26/90002/HOU')!;
        assert.deepStrictEqual(missing.expected.map((e) => [e.sourceEventId, e.journal, e.onCase]), [
          ['planning:26/90002/HOU:201', 'delivered', true],
          ['planning:26/90002/HOU:202', 'dead', false],
          ['planning:26/90002/HOU:203', 'delivered', true],
        ]);
        assert.match(missing.expected[1].deliveries[0].error!, /InvalidRequest/);
        const never = byRef.get('26/90006/FUL')!;
        assert.strictEqual(never.caseRef, undefined);
        assert.strictEqual(never.expected[0].journal, 'needs-attention');
        assert.match(never.problems.join('\n'), /the CRM has no case for planning 26\/90006\/FUL/);
        assert.strictEqual(byRef.get('R2026-900003')!.caseRef, caseRefs.noContact);
        assert.strictEqual(byRef.get('26/90001/FUL')!.contactId, contactId);
        assert.strictEqual(byRef.get('26/90001/FUL')!.status.onCase, 'Decided');

        assert.deepStrictEqual(report.summary, {
          cases: 7,
          events: 15,
          discarded: 0,
          updatesOnCases: 14,
          missing: 2,
          duplicated: 1,
          mismatched: 0,
          wrongStatus: 1,
          notCreated: 1,
          createdTwice: 0,
          withoutContact: { count: 1, cases: [{ system: 'housing', ref: 'R2026-900003', caseRef: caseRefs.noContact }] },
          unreadable: 0,
          deliveries: { dead: 1, needsAttention: 1, beforeDelivery: { dead: 0, needsAttention: 0 } },
          unmappedMessages: 0,
          byVerdict: { agrees: 3, differs: 4, 'in-progress': 0, unreadable: 0 },
          casesNotAgreeing: 4,
          allAgree: false,
        });
        assert.deepStrictEqual(report.unmapped, []);

        const table = formatCaseReport(report);
        assert.match(table, /planning:26\/90002\/HOU .*differs .*1 missing: planning:26\/90002\/HOU:202 \(journal: dead\)/);
        assert.match(table, /planning:26\/90004\/FUL .*Registered \/ Valid \(wrong\)/);
        assert.match(table, /housing:R2026-900002 .*1 added more than once: housing:R2026-900002:Raised unknown to the journal \(same as housing:R2026-900002:Raised:2026-11-03\)/);
        assert.match(table, /planning:26\/90006\/FUL +none +differs/);
        assert.doesNotMatch(table, /planning:26\/90001\/FUL/, 'an agreeing case is not listed without --all');
        assert.match(table, /cases without a contact \(not an error\): housing:R2026-900003/);
        assert.match(caseSummaryLine(report), /^case reconciliation: 4 of 7 cases do not agree; 15 events, 2 missing, 1 added more than once, 1 wrong status, 1 case not created; 1 case without a contact; CRM deliveries: 1 dead, 1 need attention$/);
      });

      it('says all agree for the cases that do, named by external ref or by CRM case ref', async () => {
        const report = await reconcileCases(sources(), { externalRefs: agreeing });
        assert.deepStrictEqual(report.cases.map((c) => [c.ref, c.verdict]), [['R2026-900001', 'agrees'], ['R2026-900003', 'agrees'], ['26/90001/FUL', 'agrees']]);
        assert.strictEqual(report.summary.allAgree, true);
        assert.strictEqual(report.summary.events, 7);
        assert.strictEqual(report.summary.withoutContact.count, 1);
        assert.match(caseSummaryLine(report), /^case reconciliation: all 3 cases agree; 7 events, 0 missing/);
        const byCaseRef = await reconcileCases(sources(), { caseRefs: [caseRefs.planningAgrees, 'CAS-999999'] });
        assert.deepStrictEqual(byCaseRef.cases.map((c) => [c.caseRef, c.ref, c.verdict]), [[caseRefs.planningAgrees, '26/90001/FUL', 'agrees'], ['CAS-999999', '', 'unreadable']]);
        assert.match(byCaseRef.cases[1].error!, /the CRM has no case CAS-999999/);
        assert.strictEqual(byCaseRef.summary.allAgree, false);
        const unknownToJournal = await reconcileCases(sources(), { externalRefs: [{ system: 'planning', ref: '26/99999/FUL' }] });
        assert.deepStrictEqual(unknownToJournal.cases.map(verdictOf), [{ case: 'planning:26/99999/FUL', exists: false, verdict: 'agrees', expected: 0, onCase: 0, missing: [], duplicated: [], statusRight: undefined, withoutContact: false }]);
      });

      it('runs as a command: exit 1 and the table when anything is off, 0 when all agree, 2 when it cannot run', async () => {
        const storeEnv = kind === 'sqlite' ? { HUB_STORE: 'sqlite', HUB_DATA_DIR: dataDir } : { HUB_STORE: 'redis', REDIS_URL, HUB_JOURNAL_PREFIX: prefix, HUB_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'case-reconcile-empty-')) };
        const run = (extra: Record<string, string>, args: string[]) =>
          new Promise<{ code: number; out: string; stdout: string }>((resolve) => {
            execFile(process.execPath, [path.join(distDir, 'hub', 'reconcile', 'main.js'), '--cases', ...args], { env: { ...process.env, HUB_URL: '', ...env, ...storeEnv, ...extra } }, (err, stdout, stderr) =>
              resolve({ code: err ? Number((err as any).code) : 0, out: stdout + stderr, stdout }),
            );
          });
        const off = await run({}, []);
        assert.strictEqual(off.code, 1, off.out);
        assert.match(off.out, /case reconciliation: 4 of 7 cases do not agree; 15 events, 2 missing, 1 added more than once, 1 wrong status/);
        assert.match(off.out, /planning:26\/90004\/FUL .*\(wrong\)/);
        const agree = await run({}, ['--json', ...agreeing.map((r) => `${r.system}:${r.ref}`)]);
        assert.strictEqual(agree.code, 0, agree.out);
        const report = JSON.parse(agree.stdout) as CaseReconciliationReport;
        assert.deepStrictEqual(report.cases.map((c) => c.verdict), ['agrees', 'agrees', 'agrees']);
        const byCaseRef = await run({}, [caseRefs.olderLast]);
        assert.strictEqual(byCaseRef.code, 1, byCaseRef.out);
        assert.match(byCaseRef.out, /1 of 1 case does not agree/);
        const noCrm = await run({ CRM_WSDL: '' }, []);
        assert.strictEqual(noCrm.code, 2, noCrm.out);
        assert.match(noCrm.out, /CRM_WSDL is not set/);
        const badRef = await run({}, ['revenues:X1']);
        assert.strictEqual(badRef.code, 2, badRef.out);
        assert.match(badRef.out, /system must be "planning" or "housing"/);
      });

      if (kind === 'redis') {
        it('reads every case update past the 10,000 newest messages of the Redis journal (no cap)', async function () {
          this.timeout(180000);
          // 10,050 newer messages of another source: the Redis store looks at the newest 10,000 per listing.
          const later = new Journal({ store, instance: 'case-reconcile-crm', now: () => Date.now() + 60000 });
          for (let i = 0; i < 10050; i += 500) {
            await Promise.all(Array.from({ length: Math.min(500, 10050 - i) }, (_, j) => later.record({ source: 'crm', sourceMessageId: `crm-${i + j}`, key: `C${i + j}`, payload: {}, entry: { nodeId: 'journal', how: 'send', msg: {} } })));
          }
          const messages = await everyMessageOf(store, ['planning', 'housing']);
          assert.strictEqual(messages.length, 15);
          const report = await reconcileCases(sources());
          assert.strictEqual(report.summary.cases, 7);
          assert.strictEqual(report.summary.events, 15);
          assert.strictEqual(report.summary.missing, 2);
        });
      }

      if (kind === 'sqlite') {
        describe('the API routes', () => {
          let server: http.Server;
          let base: string;
          const allow: RequestHandler = (req, res, next) => (req.headers.authorization === 'Bearer support' ? next() : void res.status(401).json({ error: 'login' }));
          before(async () => {
            const app = express();
            // As in the hub: Node-RED's admin app parses JSON bodies before any route.
            app.use('/hub', express.json({ limit: '5mb' }), ...caseReconciliationApi(allow, { journal: store, mappings, environment: () => env }));
            app.use('/alone', ...caseReconciliationApi(allow, { journal: store, mappings, environment: () => env }));
            app.use('/nocrm', ...caseReconciliationApi(allow, { journal: store, mappings, environment: () => ({}) }));
            server = http.createServer(app);
            await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
            base = `http://127.0.0.1:${(server.address() as any).port}`;
          });
          after(() => server?.close());

          const get = (mount: string, query = '', auth = true) => fetch(`${base}/${mount}/reconciliation/cases${query}`, { headers: auth ? { authorization: 'Bearer support' } : {} });
          const post = (mount: string, body: string, { auth = true, type = 'application/json' } = {}) =>
            fetch(`${base}/${mount}/reconciliation/cases`, { method: 'POST', headers: { ...(auth ? { authorization: 'Bearer support' } : {}), ...(type ? { 'content-type': type } : {}) }, body });

          it('answers the report: GET for every case or a few in the query, POST for those in the body', async () => {
            const all = await get('hub');
            assert.strictEqual(all.status, 200);
            const report = (await all.json()) as CaseReconciliationReport;
            assert.strictEqual(report.summary.cases, 7);
            assert.strictEqual(report.summary.casesNotAgreeing, 4);
            const few = await get('hub', `?externalRef=planning:26/90004/FUL,housing:R2026-900003&caseRef=${caseRefs.planningAgrees}`);
            assert.strictEqual(few.status, 200);
            assert.deepStrictEqual(((await few.json()) as CaseReconciliationReport).cases.map((c) => [c.ref, c.verdict]), [['R2026-900003', 'agrees'], ['26/90001/FUL', 'agrees'], ['26/90004/FUL', 'differs']]);
            for (const mount of ['hub', 'alone']) {
              const body = await post(mount, JSON.stringify({ externalRefs: agreeing.slice(0, 2), caseRefs: [caseRefs.noContact] }));
              assert.strictEqual(body.status, 200, mount);
              const r = (await body.json()) as CaseReconciliationReport;
              assert.strictEqual(r.summary.cases, 3, mount);
              assert.strictEqual(r.summary.allAgree, true, mount);
              const everything = await post(mount, '{}');
              assert.strictEqual(((await everything.json()) as CaseReconciliationReport).summary.cases, 7, `${mount}: {} is every case`);
              const none = await post(mount, '{"caseRefs": []}');
              assert.strictEqual(((await none.json()) as CaseReconciliationReport).summary.cases, 0, `${mount}: [] is no case`);
            }
          });

          it('answers a malformed request with 400 naming the problem, after the login; 503 without CRM_WSDL', async () => {
            const refused = async (response: Promise<Response>, status: number, error: RegExp) => {
              const r = await response;
              assert.strictEqual(r.status, status);
              const body = await r.json();
              assert.match(body.error, error);
            };
            for (const mount of ['hub', 'alone']) {
              await refused(post(mount, '{"caseRefs": ['), 400, /^the body is not JSON/);
              await refused(post(mount, '[]'), 400, /must be a JSON object/);
              await refused(post(mount, '{"caseRef": ["CAS-000001"]}'), 400, /unknown field "caseRef"/);
              await refused(post(mount, '{"caseRefs": "CAS-000001"}'), 400, /caseRefs must be an array/);
              await refused(post(mount, '{"caseRefs": [7]}'), 400, /caseRefs\[0\] is number, not a string/);
              await refused(post(mount, '{"caseRefs": ["<script>"]}'), 400, /caseRefs\[0\]: "<script>" is not a CRM case ref/);
              await refused(post(mount, '{"externalRefs": [{"system": "revenues", "ref": "X"}]}'), 400, /externalRefs\[0\]\.system must be "planning" or "housing"/);
              await refused(post(mount, '{"externalRefs": [{"system": "planning"}]}'), 400, /externalRefs\[0\]\.ref is missing/);
              await refused(post(mount, '{"externalRefs": ["planning:26/90001/FUL"]}'), 400, /externalRefs\[0\] must be an object/);
              await refused(post(mount, '{"externalRefs": [{"system": "planning", "ref": "26/1", "x": 1}]}'), 400, /unknown field "x"/);
              await refused(post(mount, '', {}), 400, /the body is empty/);
              await refused(post(mount, '{"caseRefs": []}', { type: 'text/plain' }), 400, /Content-Type: application\/json/);
              await refused(post(mount, JSON.stringify({ caseRefs: Array.from({ length: 100001 }, (_, i) => `C${i}`) })), 400, /at most 100000 cases/);
              await refused(post(mount, JSON.stringify({ caseRefs: Array.from({ length: 500000 }, (_, i) => `CAS-${String(i).padStart(10, '0')}`) })), 413, /larger than 5242880 bytes/);
              assert.strictEqual((await post(mount, '{"caseRefs": [', { auth: false })).status, 401, `${mount}: the login is asked before a malformed body is judged`);
              assert.strictEqual((await post(mount, '{}', { auth: false })).status, 401);
            }
            await refused(get('hub', '?externalRef=planning'), 400, /is not <system>:<ref>/);
            await refused(get('hub', '?caseRef=A&caseRef=B'), 400, /caseRef may be given once/);
            await refused(get('hub', '?contactId=C1'), 400, /unknown query parameter "contactId"/);
            assert.strictEqual((await get('hub', '', false)).status, 401);
            await refused(get('nocrm'), 503, /CRM_WSDL is not set/);
            await refused(post('nocrm', '{}'), 503, /CRM_WSDL is not set/);
          });
        });
      }
    });
  }

  describe('what the CRM simulator cannot show (a stand-in CRM), and the journal\'s own cases', () => {
    let opened: ReturnType<typeof sqliteJournal>;
    let journal: Journal;
    /** A stand-in for the CRM's contract: FindCaseByExternalRef may name several cases. */
    const cases = new Map<string, any>();
    const byExternal = new Map<string, string[]>();
    const crm: CrmCaseReader = {
      findCases: async (system, ref) => byExternal.get(`${system}:${ref}`) ?? [],
      getCase: async (caseRef) => cases.get(caseRef),
    };
    const addCase = (caseRef: string, system: string, ref: string, updates: any[], status?: string, contactId = 'C0000001') => {
      cases.set(caseRef, { caseRef, externalSystem: system, externalRef: ref, contactId, ...(status ? { status } : {}), update: updates.length === 1 ? updates[0] : updates });
      byExternal.set(`${system}:${ref}`, [...(byExternal.get(`${system}:${ref}`) ?? []), caseRef]);
    };
    const updateOf = (canonical: any, updateId: string) => ({ updateId, sourceEventId: canonical.sourceEventId, status: canonical.status, occurredAt: canonical.occurredAt, summary: canonical.summary });

    before(() => {
      opened = sqliteJournal();
      journal = new Journal({ store: opened.store, instance: 'case-reconcile-stand-in' });
    });
    after(() => opened?.db.close());

    it('finds a case created twice, the same sourceEventId twice, an edited copy standing for its original, a discarded event, one in progress and a message the mapping refuses', async () => {
      // Created twice: the CRM names two cases for one application; each holds one of its events.
      const a1 = (await arrives(journal, 'planning', planningEvent('26/80001/FUL', 1, 'Received', '2026-11-02'), 'delivered')).canonical;
      const a2 = (await arrives(journal, 'planning', planningEvent('26/80001/FUL', 2, 'Validated', '2026-11-03'), 'delivered')).canonical;
      addCase('CAS-1', 'planning', '26/80001/FUL', [updateOf(a1, 'U1')], 'Registered');
      addCase('CAS-2', 'planning', '26/80001/FUL', [updateOf(a2, 'U2')], 'Valid');
      // The same sourceEventId twice on one case (a CRM that breaks its idempotency).
      const b1 = (await arrives(journal, 'housing', repairStatus('R2026-800001', 'Raised', '2026-11-03'), 'delivered')).canonical;
      addCase('CAS-3', 'housing', 'R2026-800001', [updateOf(b1, 'U3'), updateOf(b1, 'U4')], 'Raised');
      // An edited copy: the original died at the CRM call, a person replayed it with the status corrected.
      const dead = await arrives(journal, 'planning', planningEvent('26/80002/FUL', 5, 'Received', '2026-11-04', { status: 'Registred' }), 'dead');
      const corrected = { ...dead.canonical, status: 'Registered' };
      const replay = await journal.replay(dead.deliveryId, { from: 'failed-node', actor: 'support', reason: 'status misspelt by planning', payload: corrected });
      await journal.settle(replay.runs!, 'delivered');
      addCase('CAS-4', 'planning', '26/80002/FUL', [updateOf(corrected, 'U5')], 'Registered');
      // A discarded event (a person gave up on it): not expected on the case.
      const c1 = (await arrives(journal, 'housing', repairStatus('R2026-800002', 'Raised', '2026-11-05'), 'delivered')).canonical;
      const c2 = await arrives(journal, 'housing', repairStatus('R2026-800002', 'Cancelled', '2026-11-06'), 'dead');
      await journal.discard(c2.deliveryId, { actor: 'support', reason: 'housing sent it in error' });
      addCase('CAS-5', 'housing', 'R2026-800002', [updateOf(c1, 'U6')], 'Raised');
      // In progress: the newest event is still on its way to the CRM.
      const d1 = (await arrives(journal, 'housing', repairStatus('R2026-800003', 'Raised', '2026-11-05'), 'delivered')).canonical;
      await arrives(journal, 'housing', repairStatus('R2026-800003', 'Scheduled', '2026-11-06', { appointmentDate: '2026-11-09' }), 'in-flight');
      addCase('CAS-6', 'housing', 'R2026-800003', [updateOf(d1, 'U7')], 'Raised');
      // The mapping refuses an event type planning does not have: failed before any delivery.
      const { message: refused } = await journal.record({ source: 'planning', sourceMessageId: 'bad-1', payload: planningEvent('26/80004/FUL', 9, 'Granted', '2026-11-07'), entry: { nodeId: 'journal', how: 'send', msg: {} } });
      const hubStage = await journal.failBeforeDelivery(refused.id, permanentError('D3137', 'unknown planning eventType "Granted"'), { nodeId: 'map' }, { nodeId: 'map', how: 'receive', msg: {} });

      const report = await reconcileCases({ crm, journal: opened.store, mappings });
      const row = new Map(report.cases.map((c) => [c.ref, c]));
      const twice = row.get('26/80001/FUL')!;
      assert.strictEqual(twice.createdTwice, true);
      assert.deepStrictEqual([twice.caseRef, twice.otherCaseRefs], ['CAS-1', ['CAS-2']]);
      assert.deepStrictEqual(twice.missing, [], 'both events are on one of the two cases');
      assert.strictEqual(twice.verdict, 'differs');
      const sameId = row.get('R2026-800001')!;
      assert.deepStrictEqual(sameId.duplicated.map((d) => [d.kind, d.sourceEventId, d.updates.map((u) => u.updateId)]), [['same-source-event-id', b1.sourceEventId, ['U4']]]);
      const edited = row.get('26/80002/FUL')!;
      assert.deepStrictEqual(edited.expected.map((e) => [e.sourceEventId, e.status, e.journal]), [[corrected.sourceEventId, 'Registered', 'delivered']], 'the copy stands for the original');
      assert.deepStrictEqual([edited.verdict, edited.mismatched], ['agrees', []]);
      const discarded = row.get('R2026-800002')!;
      assert.deepStrictEqual([discarded.verdict, discarded.missing, discarded.status.right, discarded.expected[1].journal], ['agrees', [], true, 'discarded']);
      const underWay = row.get('R2026-800003')!;
      assert.deepStrictEqual([underWay.verdict, underWay.missing, underWay.status.right], ['in-progress', [`housing:R2026-800003:Scheduled:2026-11-06:2026-11-09`], false]);
      const unmappedRow = row.get('26/80004/FUL')!;
      assert.deepStrictEqual([unmappedRow.verdict, unmappedRow.unmapped, unmappedRow.expected.length], ['differs', [refused.id], 0]);
      assert.deepStrictEqual(report.unmapped.map((u) => [u.messageId, u.system, u.ref, u.deliveries]), [[refused.id, 'planning', '26/80004/FUL', ['dead']]]);
      assert.match(report.unmapped[0].error, /unknown planning eventType "Granted"/);
      assert.deepStrictEqual(
        (({ cases: n, events, discarded: d, duplicated, missing, createdTwice, wrongStatus, unmappedMessages, deliveries }) => ({ n, events, d, duplicated, missing, createdTwice, wrongStatus, unmappedMessages, deliveries }))(report.summary),
        { n: 6, events: 8, d: 1, duplicated: 1, missing: 1, createdTwice: 1, wrongStatus: 2, unmappedMessages: 1, deliveries: { dead: 0, needsAttention: 0, beforeDelivery: { dead: 1, needsAttention: 0 } } },
      );
      assert.deepStrictEqual(report.summary.byVerdict, { agrees: 2, differs: 3, 'in-progress': 1, unreadable: 0 });

      // Asked for by its case ref, a case the CRM's lookup of its external ref does not name: a second case.
      const d2 = (await arrives(journal, 'housing', repairStatus('R2026-800009', 'Raised', '2026-11-05'), 'delivered')).canonical;
      addCase('CAS-8', 'housing', 'R2026-800009', [updateOf(d2, 'U8')], 'Raised');
      cases.set('CAS-9', { caseRef: 'CAS-9', externalSystem: 'housing', externalRef: 'R2026-800009', createdAt: '2026-11-05T10:00:00Z' });
      const second = await reconcileCases({ crm, journal: opened.store, mappings }, { caseRefs: ['CAS-9'] });
      assert.deepStrictEqual(second.cases.map((c) => [c.caseRef, c.createdTwice, c.otherCaseRefs, c.missing, c.verdict]), [['CAS-9', true, ['CAS-8'], [], 'differs']]);
      assert.match(second.cases[0].problems.join('\n'), /created twice: CAS-9, CAS-8/);

      // A person discards the refused message: it no longer counts.
      await journal.discard(hubStage!.id, { actor: 'support', reason: 'planning withdrew the event' });
      const after = await reconcileCases({ crm, journal: opened.store, mappings }, { externalRefs: [{ system: 'planning', ref: '26/80004/FUL' }] });
      assert.deepStrictEqual([after.summary.unmappedMessages, after.cases[0].verdict, after.unmapped[0].deliveries], [0, 'agrees', ['discarded']]);
    });
  });
});
