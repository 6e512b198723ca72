import fs from 'fs';
import os from 'os';
import path from 'path';
import { SAMPLE_ROWS, writeExtract } from '../gazetteer/extract-fixture';

/**
 * The people console test's flow, with the hub's real nodes:
 *
 * - amqp-in (a queue of the run's own on the real RabbitMQ) -> journal (source crm, key the
 *   contact id, of a CRM event or a canonical person.address.changed) -> gazetteer (a small LLPG extract; resolves payload.newAddress) ->
 *   delivery to "planning" -> "send to planning" (fails for a person named Unreachable)
 *   -> delivered; an address the gazetteer cannot resolve ->
 *   delivery "gazetteer" -> needs attention with the candidates.
 * - POST /test/people/payment-file (text body) -> payment-file (refuses a bad file whole,
 *   kept in the journal as an inbound failure).
 * - POST /test/people/planning-event -> journal (source planning) -> delivery to the CRM case
 *   "planning:<applicationRef>" (a timeline) -> delivered.
 * - soap-in ContactEventService on /soap/test-contact-events (a request refused with a fault
 *   is kept as an inbound failure).
 * - POST /test/people/revenues-ack?name=<file> (text body) -> revenues-ack (a faulty ack file
 *   is kept as an inbound failure).
 */
export interface PeopleFlow {
  file: string;
  queue: string;
  exchange: string;
  routingKey: string;
}

export function writePeopleFlow(run: string): PeopleFlow {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'people-flow-'));
  const extract = writeExtract(path.join(dir, 'llpg.csv'), SAMPLE_ROWS);
  const queue = `council-hub.test.${run}.crm-events`;
  const exchange = `council-hub.test.${run}.crm`;
  const routingKey = 'contact.address.changed';
  const flow: Array<Record<string, unknown>> = [
    { id: 'p', type: 'tab', label: 'people console test' },
    { id: 'broker', type: 'amqp-broker', name: 'RabbitMQ', url: '${RABBITMQ_URL}', heartbeat: 5, prefetch: 20 },
    { id: 'amqp', type: 'amqp-in', z: 'p', name: 'CRM events', broker: 'broker', queue, exchange, exchangeType: 'topic', routingKeys: routingKey, format: 'json', wires: [['j']] },
    { id: 'j', type: 'journal', z: 'p', name: 'journal: CRM event', source: 'crm', sourceMessageId: 'payload.eventId', sourceMessageIdType: 'msg', key: '$exists(payload.contact.contactId) ? payload.contact.contactId : payload.person.ids.crmContactId', keyType: 'jsonata', wires: [['gaz'], []] },
    { id: 'gaz', type: 'gazetteer', z: 'p', name: 'resolve addresses', file: extract, addresses: 'payload.newAddress', wires: [['d.planning'], ['d.check']] },
    { id: 'd.planning', type: 'delivery', z: 'p', name: 'planning', target: 'planning', key: 'journal.key', keyType: 'msg', order: '', orderType: 'msg', maxAttempts: '2', initialDelay: '0.1', maxDelay: '0.2', unclassified: 'transient', wires: [['send']] },
    {
      // Stands in for planning: it does not answer for a person named Unreachable (transient, then dead).
      id: 'send', type: 'function', z: 'p', name: 'send to planning', outputs: 1,
      func: "if ((msg.payload.contact && msg.payload.contact.lastName === 'Unreachable') || (msg.payload.person && msg.payload.person.surname === 'Unreachable')) { const e = new Error('planning system unavailable'); e.code = 'PlanningUnavailable'; e.transient = true; throw e; }\nreturn msg;",
      wires: [['ok']],
    },
    { id: 'ok', type: 'delivery-outcome', z: 'p', name: 'delivered', mode: 'delivered', wires: [[]] },
    { id: 'd.check', type: 'delivery', z: 'p', name: 'address check', target: 'gazetteer', key: 'journal.key', keyType: 'msg', order: '', orderType: 'msg', maxAttempts: '2', initialDelay: '0.1', maxDelay: '0.2', unclassified: 'transient', wires: [['attention']] },
    { id: 'attention', type: 'delivery-outcome', z: 'p', name: 'address needs attention', mode: 'needs-attention', reason: 'attention.reason', reasonType: 'msg', candidates: 'attention.candidates', candidatesType: 'msg', wires: [[]] },
    { id: 'file.in', type: 'http in', z: 'p', url: '/test/people/payment-file', method: 'post', wires: [['file.name']] },
    {
      id: 'file.name', type: 'function', z: 'p', name: 'as a dropped file', outputs: 1,
      func: "msg.filename = msg.req.query.name || 'PAY-test.csv';\nmsg.payload = String(msg.payload);\nreturn msg;",
      wires: [['file', 'file.ack']],
    },
    { id: 'file.ack', type: 'change', z: 'p', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'taken', tot: 'str' }], wires: [['file.resp']] },
    { id: 'file.resp', type: 'http response', z: 'p', statusCode: '', wires: [] },
    { id: 'ack.in', type: 'http in', z: 'p', url: '/test/people/revenues-ack', method: 'post', wires: [['ack.name']] },
    {
      id: 'ack.name', type: 'function', z: 'p', name: 'as a dropped ack file', outputs: 1,
      func: "msg.filename = msg.req.query.name;\nmsg.payload = String(msg.payload);\nreturn msg;",
      wires: [['ack', 'ack.ack']],
    },
    { id: 'ack.ack', type: 'change', z: 'p', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'taken', tot: 'str' }], wires: [['ack.resp']] },
    { id: 'ack.resp', type: 'http response', z: 'p', statusCode: '', wires: [] },
    { id: 'ack', type: 'revenues-ack', z: 'p', name: 'revenues acks', wires: [[]] },
    { id: 'soap', type: 'soap-in', z: 'p', name: 'ContactEventService', wsdl: 'adapters/hub-services/ContactEventService.wsdl', path: '/soap/test-contact-events', operations: '', replyTimeout: 5, maxBodyKb: 64, outputs: 1, wires: [[]] },
    { id: 'case.in', type: 'http in', z: 'p', url: '/test/people/planning-event', method: 'post', wires: [['case.j']] },
    { id: 'case.j', type: 'journal', z: 'p', name: 'journal: planning event', source: 'planning', sourceMessageId: 'payload.eventId', sourceMessageIdType: 'msg', key: 'payload.applicationRef', keyType: 'msg', wires: [['case.d', 'case.ack'], ['case.ack']] },
    { id: 'case.ack', type: 'change', z: 'p', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'stored', tot: 'str' }], wires: [['case.resp']] },
    { id: 'case.resp', type: 'http response', z: 'p', statusCode: '', wires: [] },
    { id: 'case.d', type: 'delivery', z: 'p', name: 'CRM case', target: 'crm', key: '"planning:" & payload.applicationRef', keyType: 'jsonata', mode: 'timeline', order: '', orderType: 'msg', maxAttempts: '2', initialDelay: '0.1', maxDelay: '0.2', unclassified: 'transient', wires: [['case.ok']] },
    { id: 'case.ok', type: 'delivery-outcome', z: 'p', name: 'on the case', mode: 'delivered', wires: [[]] },
    { id: 'file', type: 'payment-file', z: 'p', name: 'payment file', window: '10', wires: [[], []] },
  ];
  flow.forEach((n, i) => Object.assign(n, n.type === 'tab' || n.type === 'amqp-broker' ? {} : { x: 140 + (i % 5) * 180, y: 60 + Math.floor(i / 5) * 80 }));
  const file = path.join(dir, 'flows.json');
  fs.writeFileSync(file, JSON.stringify(flow, null, 2));
  return { file, queue, exchange, routingKey };
}
