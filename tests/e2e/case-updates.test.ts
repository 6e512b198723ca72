import assert from 'assert';
import { caseProblems, describeCaseFigures, CaseJourneyFigures, runCaseUpdatesJourney } from './case-journey';

/**
 * The case-updates journey end to end, smaller than `npm run e2e:case-updates` (150 planning
 * events, 80 repair statuses) but with every fault: the CRM down and then failing 30 % of
 * calls, planning's sessions expired, housing pushing duplicates and statuses out of order,
 * the hub killed with kill -9 while it polls; the dead letters replayed by a support officer.
 */
describe('case-updates journey end to end, with every fault (real hub, SOAP peers, planning poller)', function () {
  this.timeout(300000);
  let figures: CaseJourneyFigures;

  before(async () => {
    figures = await runCaseUpdatesJourney({ planningEvents: 150, repairStatuses: 80, properties: 4000, movers: 25, crmDownMs: 6000, hubDownMs: 2000, settleTimeoutMs: 150000 });
    console.log(describeCaseFigures(figures).replace(/^/gm, '      '));
  });

  it('loses no event: every planning event and repair status is in the journal', () => {
    assert.ok(figures.planning.raised >= 150);
    assert.deepStrictEqual(figures.planning.lost, []);
    assert.strictEqual(figures.housing.raised, 80);
    assert.deepStrictEqual(figures.housing.lost, []);
  });

  it('puts every event on its CRM case exactly once, and nothing else', () => {
    for (const system of ['planning', 'housing'] as const) {
      assert.deepStrictEqual(figures[system].missing, [], `${system}: missing`);
      assert.strictEqual(figures[system].onceOnCase, figures[system].raised, system);
      assert.deepStrictEqual(figures[system].unknownOnCase, [], `${system}: unexplained updates`);
    }
    assert.ok(figures.housing.duplicatesPushed > 0, 'housing pushed duplicates');
  });

  it('answers a malformed repair status with a SOAP fault naming the problem, and stores nothing', () => {
    assert.strictEqual(figures.malformedRepair.httpStatus, 500);
    assert.match(figures.malformedRepair.faultstring, /^InvalidRequest: /);
    assert.strictEqual(figures.malformedRepair.stored, false);
  });

  it('creates no case twice, and gives each case the status of its newest event', () => {
    for (const system of ['planning', 'housing'] as const) {
      assert.deepStrictEqual(figures[system].createdTwice, [], system);
      assert.deepStrictEqual(figures[system].wrongStatus, [], system);
    }
    assert.ok(figures.housing.outOfOrder > 0, 'housing pushed statuses out of order');
  });

  it('links the case to the contact when the hub knows whose party or tenancy it is', () => {
    assert.ok(figures.planning.withContact + figures.housing.withContact > 0, 'some cases have a contact');
    assert.deepStrictEqual([...figures.planning.contactMissed, ...figures.housing.contactMissed], []);
    assert.ok(figures.withoutContact.onCrm > 0, 'some cases have nobody the hub knows');
    assert.strictEqual(figures.withoutContact.inConsole, figures.withoutContact.onCrm, 'the console lists every case created without a contact');
  });

  it('leaves nothing open once support replayed the dead letters, and the reconciliation report agrees', () => {
    assert.strictEqual(figures.replay.refused, 0);
    assert.strictEqual(figures.open, 0, JSON.stringify(figures.deliveries));
    assert.deepStrictEqual(figures.reconciliation?.problems, []);
    assert.deepStrictEqual(caseProblems(figures), []);
  });
});
