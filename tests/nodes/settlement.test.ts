import assert from 'assert';
import helper from 'node-red-node-test-helper';
import type { NodeAPI, Node, NodeMessage } from 'node-red';
import { hubPort, whenFlowsStarted } from '../../nodes/port';

helper.init(require.resolve('node-red'));

type Outcome = { outcome: 'settled' } | { outcome: 'failed'; error: Error };
let outcomes: Outcome[] = [];

/** A stand-in inbound node (like amqp-in): registers for settlement, then sends. */
function inboundNode(RED: NodeAPI) {
  function Inbound(this: Node & { emitOne(msg: NodeMessage): void }, config: any) {
    RED.nodes.createNode(this, config);
    this.emitOne = (msg: NodeMessage) => {
      hubPort(RED).settlement.await(msg, {
        settled: () => void outcomes.push({ outcome: 'settled' }),
        failed: (error: Error) => void outcomes.push({ outcome: 'failed', error }),
      }, { timeoutMs: config.timeoutMs ?? 5000 });
      this.send(msg);
    };
  }
  RED.nodes.registerType('test-inbound', Inbound as any);
}

/** Stands in for the journal node: acknowledges as soon as it has the message, then never finishes. */
function storingNode(RED: NodeAPI) {
  function Storing(this: Node, config: any) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg: NodeMessage, _send: unknown, _done: unknown) => hubPort(RED).settlement.stored(msg));
  }
  RED.nodes.registerType('test-storing', Storing as any);
}

/** Takes a message and never calls done: a node that hangs. */
function hangingNode(RED: NodeAPI) {
  function Hanging(this: Node, config: any) {
    RED.nodes.createNode(this, config);
    this.on('input', (_msg: NodeMessage, _send: unknown, _done: unknown) => undefined);
  }
  RED.nodes.registerType('test-hanging', Hanging as any);
}

/**
 * A source that sends one message as soon as it is made (config.wait false), or once the flows
 * have started (config.wait true), as sftp-watch, amqp-in and planning-poll do.
 */
function eagerSourceNode(RED: NodeAPI) {
  function EagerSource(this: Node, config: any) {
    RED.nodes.createNode(this, config);
    const emit = () => {
      const msg: NodeMessage = { payload: 'first' };
      hubPort(RED).settlement.await(msg, {
        settled: () => void outcomes.push({ outcome: 'settled' }),
        failed: (error: Error) => void outcomes.push({ outcome: 'failed', error }),
      }, { timeoutMs: 300 });
      this.send(msg);
    };
    if (config.wait) whenFlowsStarted(RED, this, emit);
    else emit();
  }
  RED.nodes.registerType('test-eager-source', EagerSource as any);
}

const functionNode = require('@node-red/nodes/core/function/10-function');
const catchNode = require('@node-red/nodes/core/common/25-catch');
const delayNode = require('@node-red/nodes/core/function/89-delay');
const nodes = [inboundNode, storingNode, hangingNode, eagerSourceNode, functionNode, catchNode, delayNode];

async function waitForOutcome(): Promise<Outcome> {
  for (let i = 0; i < 200 && outcomes.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  assert.strictEqual(outcomes.length, 1, 'exactly one outcome');
  const first = outcomes[0] as any;
  if (first.error) first.error.message = String(first.error.message);
  return outcomes[0];
}

describe('settlement of inbound messages (Node-RED hooks)', () => {
  beforeEach(() => {
    outcomes = [];
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('settles once every node downstream has finished without error', async () => {
    await helper.load(nodes, [
      { id: 'in', type: 'test-inbound', wires: [['f1', 'd']] },
      { id: 'f1', type: 'function', func: 'return msg;', wires: [['out']] },
      { id: 'd', type: 'delay', pauseType: 'delay', timeout: '200', timeoutUnits: 'milliseconds', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const received: unknown[] = [];
    helper.getNode('out').on('input', (m: unknown) => received.push(m));
    (helper.getNode('in') as any).emitOne({ payload: 1 });
    await new Promise((r) => setTimeout(r, 60));
    assert.strictEqual(outcomes.length, 0, 'not settled while the delay node still holds the message');
    const outcome = await waitForOutcome();
    assert.deepStrictEqual(outcome, { outcome: 'settled' });
    assert.strictEqual(received.length, 2);
    assert.strictEqual(hubPort(helper._RED as any).settlement.unsettled, 0);
  });

  it('fails with the error of the node that failed, even when a Catch handles it', async () => {
    await helper.load(nodes, [
      { id: 'in', type: 'test-inbound', wires: [['bad']] },
      { id: 'bad', type: 'function', func: 'throw new Error("address has no postcode");', wires: [[]] },
      { id: 'c', type: 'catch', scope: null, wires: [['log']] },
      { id: 'log', type: 'helper' },
    ]);
    let caught = false;
    helper.getNode('log').on('input', () => (caught = true));
    (helper.getNode('in') as any).emitOne({ payload: 1 });
    const outcome = await waitForOutcome();
    assert.strictEqual(outcome.outcome, 'failed');
    assert.match((outcome as any).error.message, /address has no postcode/);
    assert.ok(caught, 'the catch branch ran before settlement');
  });

  it('fails with an error a node reports with node.error(err, msg) and then finishes without one (as core nodes do)', async () => {
    await helper.load(nodes, [
      { id: 'in', type: 'test-inbound', wires: [['reporter']] },
      { id: 'reporter', type: 'function', func: 'node.error("planning answered 503", msg); return null;', wires: [[]] },
    ]);
    (helper.getNode('in') as any).emitOne({ payload: 1 });
    const outcome = await waitForOutcome();
    assert.strictEqual(outcome.outcome, 'failed');
    assert.match((outcome as any).error.message, /planning answered 503/);
  });

  it('settles as soon as the journal acknowledges, before the flow finishes', async () => {
    await helper.load(nodes, [
      { id: 'in', type: 'test-inbound', wires: [['store']] },
      { id: 'store', type: 'test-storing', wires: [] },
    ]);
    (helper.getNode('in') as any).emitOne({ payload: 1 });
    assert.strictEqual((await waitForOutcome()).outcome, 'settled');
  });

  it('fails a message sent nowhere instead of acknowledging it', async () => {
    await helper.load(nodes, [{ id: 'in', type: 'test-inbound', wires: [] }]);
    (helper.getNode('in') as any).emitOne({ payload: 1 });
    const outcome = await waitForOutcome();
    assert.strictEqual(outcome.outcome, 'failed');
    assert.match((outcome as any).error.message, /not wired/);
  });

  it('fails a message the flow never finishes with, after the time limit', async () => {
    await helper.load(nodes, [
      { id: 'in', type: 'test-inbound', timeoutMs: 300, wires: [['hang']] },
      { id: 'hang', type: 'test-hanging', wires: [] },
    ]);
    (helper.getNode('in') as any).emitOne({ payload: 1 });
    const outcome = await waitForOutcome();
    assert.strictEqual(outcome.outcome, 'failed');
    assert.match((outcome as any).error.message, /did not finish .* within 300 ms/);
  });

  it('fails as FLOW_TIMEOUT, transient, a message the flow never finished with, so that its sender offers it again', async () => {
    // Sent from the constructor, before Node-RED has made the node it is wired to: Node-RED drops it without a word.
    await helper.load(nodes, [
      { id: 'source', type: 'test-eager-source', wait: false, wires: [['store']] },
      { id: 'store', type: 'test-storing', wires: [] },
    ]);
    const outcome = await waitForOutcome();
    assert.strictEqual(outcome.outcome, 'failed');
    const error = (outcome as any).error;
    assert.strictEqual(error.code, 'FLOW_TIMEOUT');
    assert.strictEqual(error.transient, true);
  });

  it('holds a source until the flows have started (whenFlowsStarted): its first message reaches the node made after it', async () => {
    await helper.load(nodes, [
      { id: 'source', type: 'test-eager-source', wait: true, wires: [['store']] },
      { id: 'store', type: 'test-storing', wires: [] },
    ]);
    const outcome = await waitForOutcome();
    assert.strictEqual(outcome.outcome, 'settled');
  });
});
