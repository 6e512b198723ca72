import assert from 'assert';
import { describeFigures, JourneyFigures, runChangeOfAddressJourney } from './journey';

/**
 * Two hub instances run the change-of-address journey together: the CRM's queue shared by
 * both, the journal, cross-references and the revenues ack poller's lock in Redis. One is
 * killed with kill -9 and restarted mid-run. No target may see a change twice.
 */
describe('two hub instances share the change-of-address journey (RabbitMQ and Redis)', function () {
  this.timeout(240000);
  let figures: JourneyFigures;

  before(async () => {
    figures = await runChangeOfAddressJourney({ instances: 2, events: 60, properties: 4000, ratePerSecond: 20, planningDownMs: 6000, sftpDownMs: 3000, hubDownMs: 2000, settleTimeoutMs: 120000 });
    console.log(describeFigures(figures).replace(/^/gm, '      '));
  });

  it('loses no event and leaves nothing open', () => {
    assert.strictEqual(figures.events.raised, 60);
    assert.deepStrictEqual(figures.events.lost, []);
    assert.strictEqual(figures.open, 0, JSON.stringify(figures.deliveries));
  });

  it('shares the CRM events between both instances', () => {
    const counts = Object.values(figures.takenBy);
    assert.ok(Object.keys(figures.takenBy).length >= 2 && counts.every((n) => n > 0), `events taken per instance: ${JSON.stringify(figures.takenBy)}`);
  });

  it('delivers no change twice to any system', () => {
    for (const target of ['planning', 'housing', 'revenues'] as const) {
      assert.deepStrictEqual(figures.appliedTwice[target], [], `${target} applied a change twice`);
    }
  });

  it('brings every system that knew a person to the latest CRM address (or asks a person, by design)', () => {
    for (const target of ['planning', 'housing', 'revenues'] as const) {
      const c = figures.convergence[target];
      assert.deepStrictEqual(c.notConverged, [], `${target}: not converged`);
      assert.strictEqual(c.converged + c.needsPerson.length, c.known);
    }
  });
});
