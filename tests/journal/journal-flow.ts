import fs from 'fs';
import os from 'os';
import path from 'path';

/**
 * A test flow that uses the journal nodes the way the change-of-address flows do:
 * POST /test/change -> journal (answers with the message id once stored) -> "map" (a core
 * function node; fails when payload.badMapping, holds the message without finishing when
 * payload.park and TEST_PARK=yes: its journey never ends before the hub is killed) -> delivery to "planning" per person -> "prepare" (function; a permanent
 * error when payload.invalid) -> http request to the target system -> delivery-outcome
 * delivered. No Catch node: the hub journals every failure itself, also the http request
 * node's, which reports connection errors with node.error(err, msg) and not done(err).
 */
export function writeJournalFlow(targetPort: number): string {
  const flow = [
    { id: 't', type: 'tab', label: 'journal test' },
    { id: 'in', type: 'http in', z: 't', url: '/test/change', method: 'post', wires: [['j']] },
    { id: 'j', type: 'journal', z: 't', source: 'test', sourceMessageId: 'payload.eventId', sourceMessageIdType: 'msg', key: 'payload.personId', keyType: 'msg', wires: [['ack', 'map'], ['ack']] },
    { id: 'ack', type: 'change', z: 't', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'journal.messageId', tot: 'msg' }], wires: [['resp']] },
    { id: 'resp', type: 'http response', z: 't', statusCode: '', wires: [] },
    {
      id: 'map', type: 'function', z: 't', name: 'map to planning', outputs: 1,
      // A parked message stays at work here (node.done() is never called): the hub dies with its journey unfinished.
      func: "if (msg.payload.badMapping) { throw new Error('mapping failed: no address'); }\nif (msg.payload.park && env.get('TEST_PARK') === 'yes') { return; }\nnode.send(msg);\nnode.done();",
      wires: [['d']],
    },
    { id: 'd', type: 'delivery', z: 't', target: 'planning', key: 'journal.key', keyType: 'msg', order: '', orderType: 'msg', maxAttempts: '3', initialDelay: '0.1', maxDelay: '0.3', unclassified: 'transient', wires: [['prep']] },
    {
      id: 'prep', type: 'function', z: 't', name: 'prepare request', outputs: 1,
      func: "if (msg.payload.invalid) { const e = new Error('InvalidAddress: no postcode'); e.transient = false; throw e; }\nmsg.payload = { requestId: msg.delivery.idempotencyKey, personId: msg.journal.key, address: msg.payload.address };\nreturn msg;",
      wires: [['send']],
    },
    { id: 'send', type: 'http request', z: 't', name: 'planning', method: 'POST', ret: 'obj', paytoqs: 'ignore', url: `http://127.0.0.1:${targetPort}/apply`, senderr: true, headers: [], wires: [['ok']] },
    { id: 'ok', type: 'delivery-outcome', z: 't', mode: 'delivered', wires: [[]] },
  ];
  // Node-RED takes a node without a position for a config node: place them in a row.
  flow.forEach((n, i) => Object.assign(n, n.type === 'tab' ? {} : { x: 120 + (i % 6) * 160, y: 60 + Math.floor(i / 6) * 80 }));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'journal-flow-')), 'flows.json');
  fs.writeFileSync(file, JSON.stringify(flow, null, 2));
  return file;
}
