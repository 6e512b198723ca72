import assert from 'assert';
import { StartupWork } from '../../hub/startup-work';

/** What /healthz waits for after the flows start: every node's start-up work, hosted or failed. */
describe('start-up work (readiness)', () => {
  it('finishes only once every tracked piece has, including one tracked while it waited, and counts a failure as finished', async () => {
    const work = new StartupWork();
    const done: string[] = [];
    let hostFirst!: () => void;
    let failSecond!: (err: Error) => void;
    work.track(new Promise<void>((resolve) => (hostFirst = () => { done.push('first'); resolve(); })));
    const finished = work.finished().then(() => done.push('finished'));
    // tracked after finished() was asked: the hub must still wait for it
    work.track(new Promise<void>((_resolve, reject) => (failSecond = (err) => { done.push('second'); reject(err); })));
    await new Promise((r) => setImmediate(r));
    assert.deepStrictEqual(done, [], 'nothing finished before the work did');
    hostFirst();
    await new Promise((r) => setImmediate(r));
    assert.deepStrictEqual(done, ['first'], 'still waiting for the second piece');
    failSecond(new Error('WSDL not found'));
    await finished;
    assert.deepStrictEqual(done, ['first', 'second', 'finished']);
  });

  it('finishes at once when nothing is tracked', async () => {
    const work = new StartupWork();
    let finished = false;
    await work.finished().then(() => (finished = true));
    assert.strictEqual(finished, true);
  });
});
