import assert from 'assert';
import Redis from 'ioredis';
import { PLANNING_POLL_CODES, PlanningPoller, type PlanningApplicationEvent, type PlanningPollerOptions, type PollerState, type SequenceReport } from '../../adapters/planning/poller';
import type { HubError } from '../../adapters/errors';
import type { SoapClient } from '../../adapters/soap';
import { RedisCursors } from '../../hub/cursors';
import { startSimulators, type RunningSimulators } from '../../simulators';
import { gate, planningClient, range, sleep, sqliteCursors, until } from './support';

/**
 * The planning poller against the real planning simulator (its SOAP service, its session,
 * its event stream) through the hub's SoapClient, with the hub's real cursor stores and,
 * for the lock, real Redis on 127.0.0.1:6379.
 */
describe('planning poller (real planning simulator)', function () {
  this.timeout(30000);
  let sims: RunningSimulators;
  const clients: SoapClient[] = [];
  const pollers: PlanningPoller[] = [];

  before(async () => {
    sims = await startSimulators({ properties: 2000, sftp: false });
  });
  after(async () => sims?.stop());
  afterEach(async () => {
    for (const p of pollers.splice(0)) await p.stop();
    for (const c of clients.splice(0)) await c.close();
    sims.planning.setSessionIdleMs(20 * 60 * 1000);
  });

  const lastSequence = () => sims.planning.state().lastSequence;

  /** A poller on its own SoapClient; stopped and logged off after the test. */
  function poller(options: Partial<PlanningPollerOptions> & Pick<PlanningPollerOptions, 'cursors' | 'onEvent'>, client = planningClient(sims)): PlanningPoller {
    clients.push(client);
    const p = new PlanningPoller({ call: (op, args) => client.call(op, args), cursorName: 'planning:test', maxEvents: 25, intervalMs: 50, ...options });
    pollers.push(p);
    return p;
  }

  it('hands every event in order, as planning gives it, and advances the cursor only once each is stored', async () => {
    const cursors = sqliteCursors();
    const handed: PlanningApplicationEvent[] = [];
    const cursorWhenHanded: number[] = [];
    const p = poller({
      cursors,
      onEvent: async (event) => {
        cursorWhenHanded.push(Number((await cursors.get('planning:test')) ?? 0));
        handed.push(event);
        await sleep(1);
      },
    });
    const last = lastSequence();
    assert.ok(last > 30, 'the simulator has a history of more than one page');
    const result = await p.pollNow();
    assert.strictEqual(result.outcome, 'polled');
    assert.strictEqual(result.error, undefined);
    assert.deepStrictEqual(handed.map((e) => e.sequence), range(1, last));
    assert.deepStrictEqual(JSON.parse(JSON.stringify(handed)), sims.planning.events(), 'each event as GetApplicationEvents gives it');
    cursorWhenHanded.forEach((cursor, i) => assert.ok(cursor < handed[i].sequence, `the cursor (${cursor}) was not past event ${handed[i].sequence} before it was stored`));
    assert.ok(cursorWhenHanded.some((c) => c > 0), 'the cursor advances page by page, not only at the end');
    assert.strictEqual(await cursors.get('planning:test'), String(last));
    assert.deepStrictEqual([result.from, result.cursor, result.taken, result.first, result.last], [0, last, last, 1, last]);
    assert.strictEqual(result.calls, Math.floor(last / 25) + 1, 'pages of 25 until a short page');
    assert.strictEqual(p.cursor, last);
  });

  it('does not advance the cursor past an event whose store is still pending', async () => {
    const cursors = sqliteCursors();
    await cursors.set('planning:test', '10');
    const held = gate();
    let handed = 0;
    const p = poller({
      cursors,
      maxEvents: 5,
      onEvent: async (event) => {
        handed += 1;
        if (event.sequence === 17) await held.promise;
      },
    });
    const polling = p.pollNow();
    await until(() => handed === 7, 'event 17 handed');
    await sleep(50);
    assert.strictEqual(await cursors.get('planning:test'), '15', 'the page 11..15 is stored; 16 is stored but 17 is not, so the cursor stays');
    assert.strictEqual(handed, 7, 'nothing after 17 is handed while 17 is not stored');
    held.open();
    const result = await polling;
    assert.strictEqual(await cursors.get('planning:test'), String(lastSequence()));
    assert.strictEqual(result.first, 11);
  });

  it('stops the advance at an event that is not stored, and the next poll takes it again', async () => {
    const cursors = sqliteCursors();
    const handed: number[] = [];
    let failed = false;
    const p = poller({
      cursors,
      onEvent: async (event) => {
        handed.push(event.sequence);
        if (event.sequence === 5 && !failed) {
          failed = true;
          throw new Error('the journal is not reachable');
        }
      },
    });
    const first = await p.pollNow();
    assert.deepStrictEqual(handed, [1, 2, 3, 4, 5], 'nothing after the failed event is handed');
    assert.deepStrictEqual(first.notStored, { sequence: 5, applicationRef: sims.planning.events()[4].applicationRef, reason: 'the journal is not reachable' });
    assert.strictEqual(first.taken, 4);
    assert.strictEqual(await cursors.get('planning:test'), '4');
    assert.strictEqual(first.error, undefined, 'a store failure is not a poll failure');

    const second = await p.pollNow();
    assert.strictEqual(second.from, 4);
    assert.deepStrictEqual(handed.slice(5), range(5, lastSequence()), 'the next poll reads from the cursor again');
    assert.strictEqual(await cursors.get('planning:test'), String(lastSequence()));
  });

  it('carries on from the cursor after a restart (a new poller on the same cursor store)', async () => {
    const cursors = sqliteCursors();
    const before: number[] = [];
    const firstPoller = poller({ cursors, onEvent: async (e) => void before.push(e.sequence) });
    await firstPoller.pollNow();
    await firstPoller.stop();
    const stoppedAt = lastSequence();
    assert.strictEqual(before.at(-1), stoppedAt);

    const raised = sims.planning.actions['raise-events']({ count: 3 }) as PlanningApplicationEvent[];
    const after: PlanningApplicationEvent[] = [];
    const restarted = poller({ cursors, onEvent: async (e) => void after.push(e) });
    const result = await restarted.pollNow();
    assert.strictEqual(result.from, stoppedAt);
    assert.deepStrictEqual(after.map((e) => e.sequence), [stoppedAt + 1, stoppedAt + 2, stoppedAt + 3]);
    assert.deepStrictEqual(after.map((e) => e.applicationRef), raised.map((e) => e.applicationRef));
  });

  it('starts after the initial cursor while none is stored (go-live)', async () => {
    const cursors = sqliteCursors();
    const handed: number[] = [];
    const p = poller({ cursors, initialCursor: lastSequence() - 2, onEvent: async (e) => void handed.push(e.sequence) });
    await p.pollNow();
    assert.deepStrictEqual(handed, [lastSequence() - 1, lastSequence()]);
  });

  it('reports a gap and takes the events after it; reports a backwards sequence and does not hand it on', async () => {
    const cursors = sqliteCursors();
    const events = sims.planning.events();
    const dropped = 8; // planning never sends 8: a gap between 7 and 9
    const client = planningClient(sims);
    const handed: number[] = [];
    const told: SequenceReport[] = [];
    const p = poller(
      {
        cursors,
        maxEvents: 1000,
        // The real simulator's answer, with 8 left out and event 3 sent again after 10.
        call: async (op, args) => {
          const result = (await client.call(op, args)) as { event?: PlanningApplicationEvent[] };
          if (op !== 'GetApplicationEvents' || !result.event) return result;
          const list = result.event.filter((e) => e.sequence !== dropped);
          list.splice(list.findIndex((e) => e.sequence === 10) + 1, 0, { ...events[2] });
          return { event: list };
        },
        onEvent: async (e) => void handed.push(e.sequence),
        onReport: (report) => void told.push(report),
      },
      client,
    );
    const result = await p.pollNow();
    const expected: SequenceReport[] = [
      { kind: 'gap', expected: 8, got: 9, applicationRef: events[8].applicationRef },
      { kind: 'backwards', expected: 11, got: 3, applicationRef: events[2].applicationRef },
    ];
    assert.deepStrictEqual(told, expected);
    assert.deepStrictEqual(result.reports, expected);
    assert.deepStrictEqual(handed, range(1, lastSequence()).filter((s) => s !== dropped), 'after the gap events are still taken; the repeated 3 is not handed again');
    assert.strictEqual(await cursors.get('planning:test'), String(lastSequence()), 'the cursor moves on past the gap');

    // Read again from the start (a person rewinds the cursor): the same reports are in the result but told once only.
    await cursors.rewind('planning:test', '0');
    const again = await p.pollNow();
    assert.deepStrictEqual(again.reports, expected);
    assert.strictEqual(told.length, 2, 'a report is told once per poller, not at every poll');
  });

  it('survives the session ending mid-run (ended by planning, or by its idle time) by logging on again', async () => {
    const cursors = sqliteCursors();
    const client = planningClient(sims);
    let logons = 0;
    client.on('state', (state: string) => {
      if (state === 'logged-on') logons += 1;
    });
    let expired = 0;
    let calls = 0;
    const handed: number[] = [];
    const p = poller(
      {
        cursors,
        maxEvents: 4,
        call: async (op, args) => {
          const result = await client.call(op, args);
          // the page read after the idle session expired: planning's usual idle time again
          if (op === 'GetApplicationEvents' && ++calls === 3) sims.planning.setSessionIdleMs(20 * 60 * 1000);
          return result;
        },
        onEvent: async (event) => {
          handed.push(event.sequence);
          if (event.sequence === 2) expired = (sims.planning.actions['expire-sessions']({}) as { expired: number }).expired;
          if (event.sequence === 6) {
            sims.planning.setSessionIdleMs(40);
            await sleep(120); // the session is idle longer than planning allows
          }
        },
      },
      client,
    );
    const result = await p.pollNow();
    assert.ok(expired >= 1, 'planning ended the live session');
    assert.strictEqual(result.error, undefined);
    assert.deepStrictEqual(handed, range(1, lastSequence()), 'every event taken in the one run');
    assert.strictEqual(logons, 3, 'logged on at the start, after the session was ended and after it expired');
  });

  it('makes no call outside the working hours (Europe/London), and polls inside them', async () => {
    const cursors = sqliteCursors();
    let now = new Date('2026-07-05T11:00:00Z'); // Sunday 12:00 BST
    let calls = 0;
    const client = planningClient(sims);
    const states: PollerState[] = [];
    const p = poller(
      {
        cursors,
        intervalMs: 20,
        outsideHoursCheckMs: 20,
        hours: { start: '07:00', end: '19:00', days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'] },
        now: () => now,
        call: (op, args) => {
          calls += 1;
          return client.call(op, args);
        },
        onEvent: async () => undefined,
        onStatus: (s) => void states.push(s.state),
      },
      client,
    );
    p.start();
    await sleep(150);
    assert.strictEqual(calls, 0, 'no call on a Sunday');
    assert.ok(states.includes('outside-hours'));
    now = new Date('2026-07-06T05:59:00Z'); // Monday 06:59 BST
    await sleep(150);
    assert.strictEqual(calls, 0, 'no call before 07:00 London time (05:59 UTC in summer)');
    now = new Date('2026-07-06T06:00:00Z'); // Monday 07:00 BST
    await until(() => calls > 0, 'a call at 07:00 London time');
    await until(async () => (await cursors.get('planning:test')) === String(lastSequence()), 'the events taken');
    now = new Date('2026-07-06T18:00:00Z'); // Monday 19:00 BST: the hours have ended
    await sleep(60);
    const atClose = calls;
    await sleep(150);
    assert.strictEqual(calls, atClose, 'no call after 19:00');
    assert.strictEqual(states.at(-1), 'outside-hours');

    // Support may still poll now outside the hours.
    sims.planning.actions['raise-events']({ count: 1 });
    const support = await p.pollNow();
    assert.strictEqual(support.taken, 1);
  });

  it('pollNow answers busy while a poll is under way, and stop() waits for it to finish', async () => {
    const cursors = sqliteCursors();
    const held = gate();
    const handed: number[] = [];
    const p = poller({
      cursors,
      onEvent: async (event) => {
        handed.push(event.sequence);
        if (event.sequence === 1) await held.promise;
      },
    });
    const polling = p.pollNow();
    await until(() => handed.length === 1, 'the first event handed');
    assert.strictEqual((await p.pollNow()).outcome, 'busy');
    let stopped = false;
    const stopping = p.stop().then(() => (stopped = true));
    await sleep(100);
    assert.strictEqual(stopped, false, 'stop() waits for the event in hand');
    held.open();
    await stopping;
    const result = await polling;
    assert.deepStrictEqual(handed, [1], 'nothing more is handed once stopping');
    assert.strictEqual(result.taken, 1);
    assert.strictEqual(await cursors.get('planning:test'), '1', 'what was stored is kept');
    assert.strictEqual((await p.pollNow()).outcome, 'stopped');
  });

  it('stop() gives up an event whose store never ends after stopWaitMs: the cursor stays before it', async () => {
    const cursors = sqliteCursors();
    const handed: number[] = [];
    const p = poller({
      cursors,
      maxEvents: 5,
      stopWaitMs: 100,
      onEvent: (event) => {
        handed.push(event.sequence);
        return event.sequence === 7 ? new Promise<void>(() => undefined) : Promise.resolve(); // the flow never finishes with 7
      },
    });
    const polling = p.pollNow();
    await until(() => handed.length === 7, 'event 7 handed');
    const started = Date.now();
    await p.stop();
    assert.ok(Date.now() - started >= 90, 'it waited for the event first');
    const result = await polling;
    assert.deepStrictEqual(result.notStored, { sequence: 7, applicationRef: sims.planning.events()[6].applicationRef, reason: 'the poller stopped before the event was stored' });
    assert.strictEqual(await cursors.get('planning:test'), '6', 'the events stored before it are kept');
    assert.deepStrictEqual(handed, range(1, 7));
  });

  it('reports a cursor the store holds that is not a sequence, and hands nothing', async () => {
    const cursors = sqliteCursors();
    await cursors.set('planning:test', 'twelve');
    const errors: HubError[] = [];
    let handed = 0;
    const p = poller({ cursors, onEvent: async () => void (handed += 1), onError: (e) => void errors.push(e) });
    const result = await p.pollNow();
    assert.strictEqual(result.error?.code, PLANNING_POLL_CODES.cursorInvalid);
    assert.strictEqual(result.error?.transient, false);
    assert.deepStrictEqual(errors.map((e) => e.code), [PLANNING_POLL_CODES.cursorInvalid]);
    assert.strictEqual(handed, 0);
  });

  describe('one poller at a time across hub instances (real Redis)', () => {
    let redis: Redis;
    let prefix: string;
    before(() => {
      redis = new Redis('redis://127.0.0.1:6379');
    });
    beforeEach(() => {
      prefix = `test:planning-poll:${process.pid}:${Date.now()}:`;
    });
    afterEach(async () => {
      for (const p of pollers.splice(0)) await p.stop(); // before the keys go: a running poller would write them again
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
    });
    after(() => redis.disconnect());

    it('lets only one of two pollers poll at a time; when the holder stops, the other takes over from its cursor', async () => {
      sims.planning.actions['raise-events']({ count: 40 });
      const cursors = new RedisCursors(redis, prefix);
      const handedBy: Array<{ who: 'a' | 'b'; sequence: number }> = [];
      const states = { a: [] as PollerState[], b: [] as PollerState[] };
      let active = 0;
      let maxActive = 0;
      const make = (who: 'a' | 'b') =>
        poller({
          cursors,
          redis,
          lockKeyPrefix: `${prefix}lock:`,
          lockTtlMs: 1000,
          intervalMs: 20,
          maxEvents: 10,
          onEvent: async (event) => {
            active += 1;
            maxActive = Math.max(maxActive, active);
            handedBy.push({ who, sequence: event.sequence });
            await sleep(8);
            active -= 1;
          },
          onStatus: (s) => void states[who].push(s.state),
        });
      const pollers_ = { a: make('a'), b: make('b') };
      pollers_.a.start();
      pollers_.b.start();
      await until(() => handedBy.length >= 15, '15 events handed');
      const holder = handedBy[0].who;
      const other = holder === 'a' ? 'b' : 'a';
      assert.ok(handedBy.every((h) => h.who === holder), 'one poller holds the lock for its whole poll');
      await until(() => states[other].includes('standby'), 'the other poller on standby');
      assert.ok(await redis.get(`${prefix}lock:planning:test`), 'the lock is in Redis while the holder polls');

      await pollers_[holder].stop();
      const holderLast = Math.max(...handedBy.filter((h) => h.who === holder).map((h) => h.sequence));
      await until(async () => (await cursors.get('planning:test')) === String(lastSequence()), 'every event taken', 20000);
      const otherFirst = handedBy.find((h) => h.who === other)!.sequence;
      assert.strictEqual(otherFirst, holderLast + 1, 'the other poller carries on from the cursor the holder left');
      assert.deepStrictEqual(handedBy.map((h) => h.sequence), range(1, lastSequence()), 'every event once, in order, across the two');
      assert.strictEqual(maxActive, 1, 'never two pollers handing events at once');
    });

    it('stays on standby while a lock left by a dead instance lasts, then polls', async () => {
      const cursors = new RedisCursors(redis, prefix);
      await redis.set(`${prefix}lock:planning:test`, 'an instance that died', 'PX', 400);
      let calls = 0;
      const client = planningClient(sims);
      const p = poller(
        {
          cursors,
          redis,
          lockKeyPrefix: `${prefix}lock:`,
          call: (op, args) => {
            calls += 1;
            return client.call(op, args);
          },
          onEvent: async () => undefined,
        },
        client,
      );
      const standby = await p.pollNow();
      assert.strictEqual(standby.outcome, 'standby');
      assert.strictEqual(calls, 0, 'no call while another instance holds the lock');
      await sleep(450);
      const polled = await p.pollNow();
      assert.strictEqual(polled.outcome, 'polled');
      assert.strictEqual(polled.taken, lastSequence());
      assert.strictEqual(await redis.exists(`${prefix}lock:planning:test`), 0, 'released after the poll');
    });

    it('reports a lock lost while polling, stops handing events and leaves the cursor to the new holder', async () => {
      const cursors = new RedisCursors(redis, prefix);
      const lockKey = `${prefix}lock:planning:test`;
      const errors: HubError[] = [];
      const handed: number[] = [];
      const p = poller({
        cursors,
        redis,
        lockKeyPrefix: `${prefix}lock:`,
        lockTtlMs: 300,
        maxEvents: 50,
        onEvent: async (event) => {
          handed.push(event.sequence);
          if (event.sequence === 3) {
            await redis.set(lockKey, 'another instance', 'PX', 5000); // the lease ran out and another instance took it
            await sleep(250); // the next renewal finds it gone
          }
        },
        onError: (e) => void errors.push(e),
      });
      const result = await p.pollNow();
      assert.deepStrictEqual(handed, [1, 2, 3]);
      assert.strictEqual(result.error?.code, PLANNING_POLL_CODES.lockLost);
      assert.strictEqual(result.error?.transient, true);
      assert.deepStrictEqual(errors.map((e) => e.code), [PLANNING_POLL_CODES.lockLost], 'the loss is reported, not swallowed');
      assert.match(errors[0].message, /expired and was taken by another instance/);
      assert.strictEqual(await cursors.get('planning:test'), undefined, 'the cursor is not written by a poller that lost the lock');
      assert.strictEqual(await redis.get(lockKey), 'another instance', "the other instance's lock is not released");
    });
  });
});
