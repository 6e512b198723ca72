import fs from 'fs';
import os from 'os';
import path from 'path';

/**
 * The console test's flow: POST /test/console/change {eventId, personId, address} ->
 * journal (answers with the message id once stored) -> delivery to "planning" per person ->
 * "send to planning" (a function standing in for the target system) -> delivered.
 *
 * "send to planning" refuses an address containing REJECT with a permanent error (code
 * InvalidAddress, the address in its message: dead at once), and fails every change with a
 * transient PlanningUnavailable while the planning system is "down" (POST
 * /test/console/planning {down: true|false}): two attempts, then dead.
 */
export const REJECT = 'REJECT';

export function writeConsoleFlow(): string {
  const flow = [
    { id: 'c', type: 'tab', label: 'console test' },
    { id: 'in', type: 'http in', z: 'c', url: '/test/console/change', method: 'post', wires: [['j']] },
    { id: 'j', type: 'journal', z: 'c', source: 'residents', sourceMessageId: 'payload.eventId', sourceMessageIdType: 'msg', key: 'payload.personId', keyType: 'msg', wires: [['ack', 'd'], ['ack']] },
    { id: 'ack', type: 'change', z: 'c', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'journal.messageId', tot: 'msg' }], wires: [['resp']] },
    { id: 'resp', type: 'http response', z: 'c', statusCode: '', wires: [] },
    { id: 'd', type: 'delivery', z: 'c', name: 'to planning', target: 'planning', key: 'journal.key', keyType: 'msg', order: '', orderType: 'msg', maxAttempts: '2', initialDelay: '0.1', maxDelay: '0.2', unclassified: 'transient', wires: [['send']] },
    {
      id: 'send', type: 'function', z: 'c', name: 'send to planning', outputs: 1,
      func: [
        "if (global.get('planningDown')) { const e = new Error('planning system unavailable'); e.code = 'PlanningUnavailable'; e.transient = true; throw e; }",
        `if (String(msg.payload.address || '').includes('${REJECT}')) { const e = new Error('InvalidAddress: planning refused the address ' + msg.payload.address); e.code = 'InvalidAddress'; e.transient = false; throw e; }`,
        'return msg;',
      ].join('\n'),
      wires: [['ok']],
    },
    { id: 'ok', type: 'delivery-outcome', z: 'c', mode: 'delivered', wires: [[]] },
    { id: 'switch', type: 'http in', z: 'c', url: '/test/console/planning', method: 'post', wires: [['toggle']] },
    { id: 'toggle', type: 'function', z: 'c', name: 'planning up or down', outputs: 1, func: "global.set('planningDown', msg.payload.down === true);\nmsg.payload = { down: global.get('planningDown') };\nreturn msg;", wires: [['switched']] },
    { id: 'switched', type: 'http response', z: 'c', statusCode: '', wires: [] },
  ];
  // Node-RED takes a node without a position for a config node: place them in a row.
  flow.forEach((n, i) => Object.assign(n, n.type === 'tab' ? {} : { x: 120 + (i % 6) * 160, y: 60 + Math.floor(i / 6) * 80 }));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'console-flow-')), 'flows.json');
  fs.writeFileSync(file, JSON.stringify(flow, null, 2));
  return file;
}
