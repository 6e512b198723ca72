import assert from 'assert';
import { describeFigures, JourneyFigures, runChangeOfAddressJourney } from './journey';

/**
 * Three hub instances on RabbitMQ and a Redis journal of the run's own (AOF, appendfsync
 * always) run the change-of-address journey with every fault, and these besides: one
 * instance killed with kill -9 and never restarted (a survivor must take over its work once
 * its lease lapses), one paused with SIGSTOP past its lease and resumed (it must step down;
 * it is restarted as a supervisor would), and Redis killed and restarted once. The
 * case-updates journey (planning polled under its lock) and the payments journey (payment
 * files claimed under the folder's lock, ledger batches) run alongside.
 */
describe('three hub instances: one lost for good, one paused past its lease, Redis restarted (RabbitMQ, Redis AOF)', function () {
  this.timeout(300000);
  let figures: JourneyFigures;

  before(async () => {
    figures = await runChangeOfAddressJourney({ instances: 3, leaseSeconds: 5, events: 80, properties: 4000, ratePerSecond: 10, planningDownMs: 6000, sftpDownMs: 3000, settleTimeoutMs: 150000 });
    console.log(describeFigures(figures).replace(/^/gm, '      '));
  });

  it('loses no event and leaves no work in flight, pending or failed', () => {
    assert.strictEqual(figures.events.raised, 80);
    assert.deepStrictEqual(figures.events.lost, []);
    assert.strictEqual(figures.open, 0, JSON.stringify(figures.deliveries));
  });

  it('takes over the dead instance\'s work once, within the lease and a sweep', () => {
    const f = figures.instanceFaults!;
    assert.ok(f.takeoverMs !== undefined, 'a survivor took over');
    assert.ok(f.takeoverMs < 60000, `took ${f.takeoverMs} ms`);
    assert.strictEqual(f.takeovers.filter((t) => t.instance === f.killed).length, 1, JSON.stringify(f.takeovers));
    assert.notStrictEqual(f.takeovers.find((t) => t.instance === f.killed)!.by, f.killed);
  });

  it('runs the case-updates and payments journeys alongside: every planning event on its CRM case once, every payment in Finance\'s ledger once', () => {
    const o = figures.instanceFaults!.otherJourneys!;
    assert.ok(o.planningEvents >= 50 && o.payments === 500, JSON.stringify({ events: o.planningEvents, payments: o.payments }));
    assert.deepStrictEqual(o.caseUpdatesMissing, []);
    assert.deepStrictEqual(o.caseUpdatesTwice, []);
    assert.deepStrictEqual(o.postingsMissing, []);
    assert.deepStrictEqual(o.postedTwice, []);
  });

  it('makes the instance paused past its lease step down (exit 75) instead of carrying on', () => {
    assert.strictEqual(figures.instanceFaults!.pausedExitCode, 75);
    assert.strictEqual(figures.instanceFaults!.redisRestarts, 1);
  });

  it('delivers no change twice to any system, and every system that knew a person holds the latest address (or asks a person)', () => {
    for (const target of ['planning', 'housing', 'revenues'] as const) {
      assert.deepStrictEqual(figures.appliedTwice[target], [], `${target}: applied twice`);
      assert.strictEqual(figures.unknownRequests[target], 0, `${target}: requests the journal does not know`);
      const c = figures.convergence[target];
      assert.deepStrictEqual(c.notConverged, [], `${target}: not converged`);
    }
  });
});
