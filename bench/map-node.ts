import assert from 'assert';
import fs from 'fs';
import jsonata from 'jsonata';
import helper from 'node-red-node-test-helper';
import { MappingLibrary, standardFunctions } from '../adapters/mapping';
import { mappingsDir } from '../hub/paths';
import mapNode from '../nodes/map/map';
import type { Comparison, Measurement } from './harness';

/**
 * Scenario 4: the hub's `map` node running crm-event-to-canonical, against
 *   (a) the same mapping compiled once with the jsonata package (2.x, the hub's own) and
 *       evaluated per event with the bindings the MappingLibrary gives it: the floor;
 *   (b) Node-RED's core `change` node setting msg.payload to the same mapping text: what a
 *       flow author would do without the hub.
 * Fairness of (b): crm-event-to-canonical calls no hub-bound function ($text and $freeText
 * are defined in the mapping; the rest are JSONata built-ins), so the change node runs the
 * mapping's own text, only wrapped as `payload.( ... )` because a change node evaluates
 * against the whole msg while the map node hands the mapping msg.payload. Its output is
 * checked equal to the map node's before measuring. It runs on Node-RED's bundled jsonata
 * and, unlike the map node, checks nothing against the target schema.
 * Node-RED sides: messages/s through the node, `IN_FLIGHT` messages at a time, counted at a
 * helper node wired to its output; raw side: evaluations/s, one after another. (Not 100
 * at a time: jsonata 2.x evaluations interleaved by the hundred run at a third of the speed
 * of one after another, while Node-RED's delivery queue hardly overlaps them: sequential
 * is raw jsonata at its best.)
 */

const MAPPING = 'crm-event-to-canonical';
/** Messages in the flow at once: as many as an amqp-in with the broker's default prefetch would hand it. */
const IN_FLIGHT = 100;
/** A side that has not finished by then is stuck (a lost message): fail instead of hanging the run. */
const ROUND_LIMIT_MS = 5 * 60 * 1000;

/** A realistic CRM ContactAddressChanged event (the contact centre recorded a move), about 700 bytes as JSON. */
export function contactAddressChanged(i: number) {
  return {
    eventType: 'ContactAddressChanged',
    eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    raisedAt: '2026-11-23T10:00:00Z',
    contact: { contactId: `C${String(i).padStart(7, '0')}`, title: 'Ms', firstName: 'Siân', lastName: "O'Brien", dateOfBirth: '1980-03-14', email: 'a@example.org', phone: '07700 900000' },
    oldAddress: { line1: 'Flat 2', line2: '12 High Street', line3: '', town: 'Ashbury', postcode: 'xm1 1ab', uprn: '10009000001' },
    newAddress: { line1: 'Rose Cottage', line2: 'Mill Lane', line3: 'Northgate', town: 'Ashbury', postcode: 'XM1 2AB', uprn: '10009000002' },
    effectiveDate: '2026-11-18',
    source: 'ContactCentre',
  };
}

let helperReady = false;
/** node-red-node-test-helper runs one Node-RED runtime per process; point it at ours once. */
export function nodeRedTestRuntime(): typeof helper {
  if (!helperReady) {
    helper.init(require.resolve('node-red'));
    helperReady = true;
  }
  return helper;
}

/**
 * Loads a flow with the test helper, then takes the helper's own instrumentation off (it
 * records every send and status call in sinon spies, holding every message until unload):
 * the figure should be Node-RED's and the hub's, not the test helper's.
 */
export async function loadBenchFlow(nodes: unknown[], flow: unknown[], credentials: Record<string, unknown> = {}): Promise<void> {
  const h = nodeRedTestRuntime();
  await h.load(nodes, flow, credentials);
  h._sandbox?.restore();
}

/**
 * Sends `count` messages into `entry`, keeping `inFlight` of them in the flow, and resolves
 * when all have reached `exit`; a message caught on `failures` (a Catch node's helper) fails
 * the round at once.
 */
export function throughFlow(entryId: string, exitId: string, failuresId: string, count: number, message: (i: number) => Record<string, unknown>, inFlight = IN_FLIGHT): Promise<Measurement> {
  const entry = helper.getNode(entryId);
  const exit = helper.getNode(exitId);
  const failures = helper.getNode(failuresId);
  return new Promise<Measurement>((resolve, reject) => {
    let sent = 0;
    let arrived = 0;
    const finish = (error?: Error) => {
      clearTimeout(limit);
      exit.removeAllListeners('input');
      failures.removeAllListeners('input');
      if (error) reject(error);
      else {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        resolve({ value: count / seconds, extra: { seconds: Math.round(seconds * 1000) / 1000 } });
      }
    };
    const limit = setTimeout(() => finish(new Error(`${entryId}: only ${arrived} of ${count} messages came out within ${ROUND_LIMIT_MS / 1000} s`)), ROUND_LIMIT_MS);
    exit.on('input', () => {
      arrived++;
      if (sent < count) entry.receive(message(sent++));
      else if (arrived === count) finish();
    });
    failures.on('input', (msg: any) => finish(new Error(`${entryId} failed a message: ${msg.error?.message ?? 'no reason given'}`)));
    const started = process.hrtime.bigint();
    while (sent < Math.min(inFlight, count)) entry.receive(message(sent++));
  });
}

const changeNode = require('@node-red/nodes/core/function/15-change');
const catchNode = require('@node-red/nodes/core/common/25-catch');

function flowWith(withChange: boolean, changeExpression: string) {
  return [
    { id: 'bench.map', type: 'map', mapping: MAPPING, property: 'payload', wires: [['bench.map.out']] },
    { id: 'bench.map.out', type: 'helper' },
    ...(withChange
      ? [
          { id: 'bench.change', type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: changeExpression, tot: 'jsonata' }], wires: [['bench.change.out']] },
          { id: 'bench.change.out', type: 'helper' },
        ]
      : []),
    { id: 'bench.catch', type: 'catch', scope: null, uncaught: false, wires: [['bench.failed']] },
    { id: 'bench.failed', type: 'helper' },
  ];
}

/** One message through a loaded flow, for the equality check before measuring. */
async function once(entryId: string, exitId: string, payload: unknown): Promise<unknown> {
  const exit = helper.getNode(exitId);
  const failures = helper.getNode('bench.failed');
  try {
    const out = new Promise<any>((resolve, reject) => {
      exit.on('input', resolve);
      failures.on('input', (msg: any) => reject(new Error(`${entryId} failed the first event: ${msg.error?.message}`)));
    });
    helper.getNode(entryId).receive({ payload });
    return (await out).payload;
  } finally {
    exit.removeAllListeners('input');
    failures.removeAllListeners('input');
  }
}

/** map node vs raw jsonata (goal ≥ 0.9) and map node vs change node (goal ≥ 1.5). */
export async function mapNodeComparisons(quick: boolean): Promise<Comparison[]> {
  const count = quick ? 500 : 5000;
  const events = Array.from({ length: count }, (_, i) => contactAddressChanged(i));
  const library = new MappingLibrary({ mappingsDir });
  const source = library.load(MAPPING).source;
  // The bindings MappingLibrary.run gives every mapping: the standard functions and the config tables.
  const bindings: Record<string, unknown> = { ...standardFunctions };
  for (const file of fs.readdirSync(library.configDir).filter((f) => f.endsWith('.json'))) {
    const table = file.slice(0, -'.json'.length);
    bindings[table.replace(/[-_.]+([a-z0-9])/gi, (_m, c: string) => c.toUpperCase())] = library.table(table);
  }
  const compiled = jsonata(source);
  const changeExpression = `payload.(\n${source}\n)`;
  const nodes = [mapNode as any, changeNode, catchNode];

  const mapSide = {
    label: 'map node',
    round: () => throughFlow('bench.map', 'bench.map.out', 'bench.failed', count, (i) => ({ payload: events[i] })),
  };
  let loaded = false;
  // compare() runs tearDown only once setUp has succeeded: a failed set-up unloads itself.
  const load = async (withChange: boolean) => {
    await unload();
    loaded = true;
    try {
      await loadBenchFlow(nodes, flowWith(withChange, changeExpression));
      // Same output on every side, else the comparison means nothing.
      const expected = JSON.parse(JSON.stringify(await compiled.evaluate(events[0], bindings)));
      assert.deepStrictEqual(await once('bench.map', 'bench.map.out', events[0]), expected, 'map node and raw jsonata disagree');
      if (withChange) assert.deepStrictEqual(JSON.parse(JSON.stringify(await once('bench.change', 'bench.change.out', events[0]))), expected, 'change node and map node disagree');
      // Warm every side up (JIT, caches) before the first measured round.
      const warmUp = Math.min(500, count);
      for (let i = 0; i < warmUp; i++) await compiled.evaluate(events[i], bindings);
      await throughFlow('bench.map', 'bench.map.out', 'bench.failed', warmUp, (i) => ({ payload: events[i] }));
      if (withChange) await throughFlow('bench.change', 'bench.change.out', 'bench.failed', warmUp, (i) => ({ payload: events[i] }));
    } catch (err) {
      await unload();
      throw err;
    }
  };
  const unload = async () => {
    if (loaded) await helper.unload();
    loaded = false;
  };

  const rawJsonata: Comparison = {
    scenario: `4a map node vs raw jsonata (${MAPPING}, ${count} events)`,
    unit: 'events/s',
    higherIsBetter: true,
    subject: mapSide,
    reference: {
      label: 'raw jsonata 2.x',
      async round() {
        const started = process.hrtime.bigint();
        for (const event of events) await compiled.evaluate(event, bindings);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        return { value: count / seconds, extra: { seconds: Math.round(seconds * 1000) / 1000 } };
      },
    },
    goal: { ratioAtLeast: 0.9, text: 'map node at least 0.9 of raw jsonata' },
    setUp: () => load(false),
    tearDown: unload,
  };

  const coreChange: Comparison = {
    scenario: `4b map node vs change node (${MAPPING}, ${count} events)`,
    unit: 'messages/s',
    higherIsBetter: true,
    subject: mapSide,
    reference: {
      label: 'change node (JSONata)',
      round: () => throughFlow('bench.change', 'bench.change.out', 'bench.failed', count, (i) => ({ payload: events[i] })),
    },
    goal: { ratioAtLeast: 1.5, text: 'map node at least 1.5 times the change node' },
    setUp: () => load(true),
    tearDown: unload,
  };
  return [rawJsonata, coreChange];
}
