import assert from 'assert';
import helper from 'node-red-node-test-helper';
import type { NodeAPI, Node, NodeMessage } from 'node-red';
import { hooksOf, observerFor, VERIFIED_NODE_RED, type Hop } from '../../hub/runtime/message-observer';

helper.init(require.resolve('node-red'));

/**
 * What the hub relies on in Node-RED's message runtime, checked against the Node-RED that
 * is installed. If an upgrade changes any of it, this fails, naming what changed, before
 * settlement, journey tracking or failure capture silently stop working.
 */
type Event = [string, string?, string?];
let events: Event[] = [];
let RED_: NodeAPI;

function recorder(RED: NodeAPI) {
  RED_ = RED;
  function Source(this: Node, config: any) {
    RED.nodes.createNode(this, config);
  }
  RED.nodes.registerType('test-source', Source as any);
  // A handler with done: onComplete fires.
  function WithDone(this: Node, config: any) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void, done: (e?: Error) => void) => {
      if ((msg as any).fail === 'done') return done(new Error('failed by done(err)'));
      if ((msg as any).fail === 'report') {
        this.error('failed by node.error', msg);
        return done();
      }
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('test-with-done', WithDone as any);
  // A handler without done (arity 2): no onComplete, the hop ends when the handler returns.
  function WithoutDone(this: Node, config: any) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void) => send(msg));
  }
  RED.nodes.registerType('test-without-done', WithoutDone as any);
  // No input handler at all: the message ends there.
  function NoHandler(this: Node, config: any) {
    RED.nodes.createNode(this, config);
  }
  RED.nodes.registerType('test-no-handler', NoHandler as any);
}

describe('the message observer (Node-RED internals the hub relies on)', () => {
  let unsubscribe: (() => void) | undefined;
  afterEach(async () => {
    unsubscribe?.();
    await helper.unload();
  });

  async function run(flow: any[], msg: Record<string, unknown>) {
    await helper.load([recorder], flow);
    const observer = observerFor(hooksOf(RED_ as never));
    events = [];
    const label = (hop: Hop) => hop.nodeId;
    unsubscribe = observer.subscribe({
      sent: () => events.push(['sent']),
      arrived: () => events.push(['arrived']),
      entered: (hop) => events.push(['entered', label(hop)]),
      failed: (hop, error) => events.push(['failed', label(hop), String((error as Error)?.message ?? error)]),
      finished: (hop) => events.push(['finished', label(hop)]),
    });
    helper.getNode('src').send({ _msgid: 'm1', ...msg });
    await new Promise((r) => setTimeout(r, 50));
    return events;
  }

  it(`runs on the Node-RED it was verified on (${VERIFIED_NODE_RED}), or one of the same minor version`, () => {
    const version = require('node-red/package.json').version as string;
    assert.strictEqual(version.split('.').slice(0, 2).join('.'), VERIFIED_NODE_RED.split('.').slice(0, 2).join('.'), `node-red ${version}: re-verify hub/runtime/message-observer.ts and update VERIFIED_NODE_RED`);
  });

  it('finds the private fields it reads on a runtime node', async () => {
    await helper.load([recorder], [{ id: 'a', type: 'test-with-done', wires: [] }, { id: 'b', type: 'test-without-done', wires: [] }, { id: 'c', type: 'test-no-handler', wires: [] }]);
    const a = helper.getNode('a') as any;
    const b = helper.getNode('b') as any;
    const c = helper.getNode('c') as any;
    assert.strictEqual(typeof a._inputCallback, 'function', 'Node#_inputCallback holds the input handler');
    assert.strictEqual(a._expectedDoneCount, 1, 'Node#_expectedDoneCount counts handlers that take done');
    assert.strictEqual(b._expectedDoneCount, 0);
    assert.ok(!c._inputCallback && !c._inputCallbacks, 'a node without a handler has neither field');
    const { Flow } = require('@node-red/runtime/lib/flows/Flow');
    assert.strictEqual(typeof Flow.prototype.handleError, 'function', 'Flow.prototype.handleError exists to observe');
    assert.strictEqual(typeof a._flow?.handleError, 'function', 'a node reports its errors to its flow');
  });

  it('sees a hop through a handler with done, then into one without done, then to a node without a handler', async () => {
    const seen = await run(
      [
        { id: 'src', type: 'test-source', wires: [] },
        { id: 'w', type: 'test-with-done', wires: [['wo']] },
        { id: 'wo', type: 'test-without-done', wires: [['end']] },
        { id: 'end', type: 'test-no-handler', wires: [] },
      ].map((n) => (n.id === 'src' ? { ...n, wires: [['w']] } : n)),
      {},
    );
    assert.deepStrictEqual(seen, [['sent'], ['entered', 'w'], ['sent'], ['finished', 'w'], ['entered', 'wo'], ['sent'], ['finished', 'wo'], ['arrived']]);
  });

  it('sees a failure by done(err) once, before the hop finishes', async () => {
    const seen = await run([{ id: 'src', type: 'test-source', wires: [['w']] }, { id: 'w', type: 'test-with-done', wires: [] }], { fail: 'done' });
    assert.deepStrictEqual(seen, [['sent'], ['entered', 'w'], ['failed', 'w', 'failed by done(err)'], ['finished', 'w']]);
  });

  it('sees a failure by node.error(err, msg) followed by done() (as the http request node does) once', async () => {
    const seen = await run([{ id: 'src', type: 'test-source', wires: [['w']] }, { id: 'w', type: 'test-with-done', wires: [] }], { fail: 'report' });
    assert.deepStrictEqual(seen, [['sent'], ['entered', 'w'], ['failed', 'w', 'failed by node.error'], ['finished', 'w']]);
  });
});
