import assert from 'assert';
import { describeFigures, JourneyFigures, runChangeOfAddressJourney } from './journey';

/**
 * The change-of-address journey end to end, smaller than `npm run e2e:change-of-address`
 * (80 events) but with every fault: planning down, housing failing 30 % of calls, revenues
 * rejecting rows, the SFTP server dropped, the hub killed with kill -9; then the dead
 * letters replayed by a support officer and everything reconciled against the simulators.
 */
describe('change-of-address journey end to end, with every fault (real hub, RabbitMQ, SOAP and SFTP)', function () {
  this.timeout(240000);
  let figures: JourneyFigures;

  before(async () => {
    figures = await runChangeOfAddressJourney({ events: 80, properties: 4000, ratePerSecond: 20, planningDownMs: 12000, sftpDownMs: 4000, hubDownMs: 2000, settleTimeoutMs: 120000 });
    console.log(describeFigures(figures).replace(/^/gm, '      '));
  });

  it('loses no CRM event: every event raised is in the journal', () => {
    assert.strictEqual(figures.events.raised, 80);
    assert.deepStrictEqual(figures.events.lost, []);
    assert.strictEqual(figures.events.publishPending, 0);
  });

  it('leaves nothing pending, in flight, failed or dead once support replayed the dead letters', () => {
    assert.ok(figures.replay.deadBeforeReplay > 0, 'the faults made dead letters to replay');
    assert.strictEqual(figures.replay.refused, 0);
    assert.strictEqual(figures.open, 0, JSON.stringify(figures.deliveries));
  });

  it('brings every system that knew a person to the CRM\'s latest address (or asks a person, by design)', () => {
    for (const target of ['planning', 'housing', 'revenues'] as const) {
      const c = figures.convergence[target];
      assert.ok(c.known > 0, `some movers are known to ${target}`);
      assert.deepStrictEqual(c.notConverged, [], `${target}: not converged`);
      assert.strictEqual(c.converged + c.needsPerson.length, c.known);
    }
  });

  it('touches no record of a person the system did not know', () => {
    assert.ok(figures.untouched.recordsChecked > 1000);
    assert.deepStrictEqual(figures.untouched.changedWithoutRelationship, []);
  });

  it('applies no change twice in any system, and sends nothing the journal does not know', () => {
    assert.deepStrictEqual(figures.appliedTwice, { planning: [], housing: [], revenues: [] });
    assert.deepStrictEqual(figures.unknownRequests, { planning: 0, housing: 0, revenues: 0 });
  });

  it('has a reconciliation report that says what the simulators hold', () => {
    assert.strictEqual(figures.reconciliation.summary.people, figures.people.movers);
    assert.deepStrictEqual(figures.reconciliation.disagreementsWithSimulators, []);
  });
});
