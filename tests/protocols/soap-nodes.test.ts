import assert from 'assert';
import http from 'http';
import type { AddressInfo } from 'net';
import helper from 'node-red-node-test-helper';
import * as soap from 'soap';
import soapEndpointNode from '../../nodes/soap-endpoint/soap-endpoint';
import soapRequestNode from '../../nodes/soap-request/soap-request';
import soapInNode from '../../nodes/soap-in/soap-in';
import soapResponseNode from '../../nodes/soap-response/soap-response';
import { soapRegistryFor, pendingSoapReplies } from '../../adapters/soap';
import { KNOWN_PARTY, PLANNING_DATABASE, PLANNING_PASSWORD, PLANNING_USER, startPlanningPeer, type PlanningPeer } from './support-soap-planning';

helper.init(require.resolve('node-red'));
const catchNode = require('@node-red/nodes/core/common/25-catch');

/** The next message a helper node receives. */
function next(id: string): Promise<any> {
  return new Promise((resolve) => helper.getNode(id).once('input', resolve));
}

/** Records every status a node shows. */
function statuses(id: string): Array<{ text?: string; fill?: string }> {
  const node = helper.getNode(id);
  const seen: Array<{ text?: string; fill?: string }> = [];
  const original = node.status.bind(node);
  node.status = (status: { text?: string; fill?: string }) => {
    seen.push(status);
    return original(status);
  };
  return seen;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

describe('soap-endpoint + soap-request nodes against a real planning-like soap server', () => {
  let peer: PlanningPeer;

  beforeEach(async () => {
    peer = await startPlanningPeer();
  });
  afterEach(async () => {
    await helper.unload();
    await peer.stop();
  });

  const flow = (requestNodes: Array<{ id: string; operation?: string }> = [{ id: 'req' }]) => [
    { id: 'ep', type: 'soap-endpoint', wsdl: peer.wsdlUrl, endpoint: peer.url, auth: 'session', databaseId: PLANNING_DATABASE, timeout: 5 },
    ...requestNodes.map((r) => ({ id: r.id, type: 'soap-request', endpoint: 'ep', operation: r.operation ?? '', wires: [['out']] })),
    { id: 'out', type: 'helper' },
    { id: 'c', type: 'catch', scope: requestNodes.map((r) => r.id), wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
  const credentials = { ep: { username: PLANNING_USER, password: PLANNING_PASSWORD } };
  const load = (requestNodes?: Array<{ id: string; operation?: string }>) =>
    helper.load([soapEndpointNode as any, soapRequestNode as any, catchNode], flow(requestNodes), credentials);

  it('calls msg.operation with msg.payload, logs on by itself, and outputs the result', async () => {
    await load();
    const seen = statuses('req');
    const out = next('out');
    helper.getNode('req').receive({ operation: 'GetParty', payload: { partyId: 'P1001' } });
    const msg = await out;
    assert.deepStrictEqual(msg.payload, KNOWN_PARTY);
    assert.strictEqual(msg.operation, 'GetParty');
    assert.strictEqual(peer.logons, 1);
    assert.ok(seen.some((s) => s.text === 'calling GetParty'));
    assert.strictEqual(seen.at(-1)?.text, 'logged on');
  });

  it('uses the operation fixed in the node, and logs on again after the session expired', async () => {
    await load([{ id: 'req', operation: 'GetParty' }]);
    let out = next('out');
    helper.getNode('req').receive({ payload: { partyId: 'P1001' } });
    await out;
    peer.expireSessions();
    out = next('out');
    helper.getNode('req').receive({ operation: 'SomethingElse', payload: { partyId: 'P1001' } });
    assert.strictEqual((await out).payload.partyId, 'P1001');
    assert.strictEqual(peer.logons, 2);
  });

  it('shares one client (one WSDL read, one logon) among the nodes using the endpoint, and logs off on redeploy', async () => {
    await load([{ id: 'a' }, { id: 'b' }]);
    const outs: any[] = [];
    const both = new Promise<void>((resolve) =>
      helper.getNode('out').on('input', (msg: any) => {
        outs.push(msg);
        if (outs.length === 2) resolve();
      }),
    );
    helper.getNode('a').receive({ operation: 'GetParty', payload: { partyId: 'P1001' } });
    helper.getNode('b').receive({ operation: 'GetParty', payload: { partyId: 'P1001' } });
    await both;
    assert.strictEqual(peer.wsdlDownloads, 1);
    assert.strictEqual(peer.logons, 1);
    await helper.unload();
    assert.strictEqual(peer.logoffs, 1);
  });

  it('makes ServiceUnavailable an error Catch sees as transient, and sends nothing on', async () => {
    await load();
    const seen = statuses('req');
    let sentOn = false;
    helper.getNode('out').on('input', () => (sentOn = true));
    peer.failNext(1);
    const caught = next('caught');
    helper.getNode('req').receive({ operation: 'GetParty', payload: { partyId: 'P1001' } });
    const msg = await caught;
    assert.strictEqual(msg.error.message, 'SoapCallError: GetParty: ServiceUnavailable: planning is being backed up');
    assert.strictEqual(msg.error.source.id, 'req');
    assert.strictEqual(msg.error.cause.transient, true);
    assert.strictEqual(msg.error.cause.faultName, 'ServiceUnavailable');
    assert.strictEqual(msg.error.cause.faultcode, 'soap:Server');
    assert.strictEqual(msg.error.cause.kind, 'fault');
    assert.deepStrictEqual(msg.payload, { partyId: 'P1001' }); // the message is kept, for a retry
    assert.strictEqual(sentOn, false);
    assert.strictEqual(seen.at(-1)?.text, 'ServiceUnavailable (transient)');
    assert.strictEqual(seen.at(-1)?.fill, 'red');
  });

  it('makes any other fault a permanent error, with faultcode and faultstring', async () => {
    await load();
    const caught = next('caught');
    helper.getNode('req').receive({ operation: 'GetParty', payload: { partyId: 'P404' } });
    const msg = await caught;
    assert.strictEqual(msg.error.cause.transient, false);
    assert.strictEqual(msg.error.cause.faultName, 'PartyNotFound');
    assert.strictEqual(msg.error.cause.faultstring, 'PartyNotFound: no party P404');
    assert.strictEqual(msg.error.cause.faultcode, 'soap:Client');
  });

  it('gives a clear permanent error for a message without an operation or with a non-object payload', async () => {
    await load();
    let caught = next('caught');
    helper.getNode('req').receive({ payload: { partyId: 'P1001' } });
    let msg = await caught;
    assert.match(msg.error.message, /no operation \(set one in the node or in msg\.operation\)/);
    assert.strictEqual(msg.error.cause.transient, false);
    caught = next('caught');
    helper.getNode('req').receive({ operation: 'GetParty', payload: 'P1001' });
    msg = await caught;
    assert.match(msg.error.message, /msg\.payload must be an object of GetParty's arguments, not string/);
    assert.strictEqual(peer.calls.filter((c) => c.operation === 'GetParty').length, 0);
  });
});

describe('soap-in + soap-response nodes hosted on the helper httpNode, called by a real soap client', () => {
  let httpNode: any;
  let server: http.Server | undefined;
  let base: string;

  /** soap-in, remembering the RED.httpNode the helper gives it (a fresh express app per load). */
  const soapInCapturingHttpNode = (RED: any) => {
    httpNode = RED.httpNode;
    return (soapInNode as any)(RED);
  };

  async function load(soapIn: Record<string, unknown>) {
    const flow = [
      { id: 'in', type: 'soap-in', wsdl: 'adapters/hub-services/ContactEventService.wsdl', path: '/soap/contact-events', operations: '', replyTimeout: 30, maxBodyKb: 1024, wires: [['h']], ...soapIn },
      { id: 'h', type: 'helper' },
      { id: 'resp', type: 'soap-response' },
      { id: 'c', type: 'catch', scope: ['resp'], wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ];
    await helper.load([soapInCapturingHttpNode, soapResponseNode as any, catchNode], flow);
    const path = String(soapIn.path ?? '/soap/contact-events');
    await until(() => soapRegistryFor(httpNode).paths().includes(path), `soap-in to host ${path}`);
    server = http.createServer(httpNode);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterEach(async () => {
    await helper.unload();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
  });

  const event = {
    eventType: 'ContactAddressChanged',
    eventId: 'e-0001',
    raisedAt: '2026-11-18T09:30:00+00:00',
    contact: { contactId: 'C0012345', firstName: 'Ann', lastName: 'Smith' },
    newAddress: { line1: '3 Mill Lane', postcode: 'NT2 2BB' },
    effectiveDate: '2026-11-18',
    source: 'ContactCentre',
  };

  it('turns a request into a message and answers the caller with the soap-response payload', async () => {
    await load({});
    const client = await soap.createClientAsync(`${base}/soap/contact-events?wsdl`);
    const request = next('h');
    const call = client.NotifyContactEventAsync(event);
    const msg = await request;
    assert.deepStrictEqual(msg.payload, event);
    assert.strictEqual(msg.operation, 'NotifyContactEvent');
    assert.strictEqual(msg.soap.service, 'ContactEventService');
    assert.strictEqual(msg.soap.path, '/soap/contact-events');
    assert.ok(msg.soap.correlationId);
    helper.getNode('resp').receive({ ...msg, payload: { messageId: 'M-42' } });
    assert.deepStrictEqual((await call)[0], { messageId: 'M-42' });
    assert.strictEqual(pendingSoapReplies.size, 0);
  });

  it('answers with a fault when msg.fault is set', async () => {
    await load({});
    const client = await soap.createClientAsync(`${base}/soap/contact-events?wsdl`);
    const request = next('h');
    const call = client.NotifyContactEventAsync(event);
    const msg = await request;
    helper.getNode('resp').receive({ ...msg, fault: { name: 'DuplicateEvent', reason: 'e-0001 was sent with another payload' } });
    await assert.rejects(call, (err: any) => {
      const fault = err.root.Envelope.Body.Fault;
      assert.strictEqual(fault.faultcode, 'soap:Client');
      assert.strictEqual(fault.faultstring, 'DuplicateEvent: e-0001 was sent with another payload');
      return true;
    });
  });

  it('answers a msg.error (as a Catch node sets it) with ServiceUnavailable from soap:Server', async () => {
    await load({});
    const client = await soap.createClientAsync(`${base}/soap/contact-events?wsdl`);
    const request = next('h');
    const call = client.NotifyContactEventAsync(event);
    const msg = await request;
    helper.getNode('resp').receive({ ...msg, error: { message: 'journal store is not reachable', source: { id: 'journal' } } });
    await assert.rejects(call, (err: any) => {
      assert.strictEqual(err.root.Envelope.Body.Fault.faultcode, 'soap:Server');
      assert.strictEqual(err.root.Envelope.Body.Fault.faultstring, 'ServiceUnavailable: journal store is not reachable');
      return true;
    });
  });

  it('answers ServiceUnavailable when no reply comes in time; a late reply is an error Catch sees', async () => {
    await load({ replyTimeout: 1 });
    const client = await soap.createClientAsync(`${base}/soap/contact-events?wsdl`);
    const request = next('h');
    const call = client.NotifyContactEventAsync(event);
    const msg = await request;
    await assert.rejects(call, (err: any) => {
      assert.strictEqual(err.root.Envelope.Body.Fault.faultstring, "ServiceUnavailable: no reply from the hub's flow within 1 s");
      return true;
    });
    const caught = next('caught');
    helper.getNode('resp').receive({ ...msg, payload: { messageId: 'too-late' } });
    assert.match((await caught).error.message, /no SOAP request waits for this reply/);
  });

  it('fails waiting callers with ServiceUnavailable on redeploy, and removes its path', async () => {
    await load({});
    const client = await soap.createClientAsync(`${base}/soap/contact-events?wsdl`);
    const request = next('h');
    const call = client.NotifyContactEventAsync(event);
    await request;
    const registry = soapRegistryFor(httpNode);
    await helper.unload();
    await assert.rejects(call, (err: any) => {
      assert.strictEqual(err.root.Envelope.Body.Fault.faultstring, 'ServiceUnavailable: the hub is redeploying its flows: try again');
      return true;
    });
    assert.deepStrictEqual(registry.paths(), []);
    assert.strictEqual((await fetch(`${base}/soap/contact-events?wsdl`)).status, 404);
  });

  it('answers malformed XML, an XXE payload and an oversized body with faults, and sends no message', async () => {
    await load({ maxBodyKb: 4 });
    let messages = 0;
    helper.getNode('h').on('input', () => messages++);
    const postXml = async (body: string) => {
      const response = await fetch(`${base}/soap/contact-events`, { method: 'POST', body, headers: { 'Content-Type': 'text/xml' } });
      const text = await response.text();
      assert.strictEqual(response.status, 500);
      return /<faultstring>([\s\S]*?)<\/faultstring>/.exec(text)?.[1];
    };
    const envelope = (inner: string) => `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><NotifyContactEvent xmlns="urn:council-hub:ContactEventService">${inner}</NotifyContactEvent></soap:Body></soap:Envelope>`;
    assert.match(String(await postXml(envelope('<eventId>e1</eventType>'))), /^InvalidRequest: the body is not well-formed XML: Unexpected close tag/);
    assert.match(String(await postXml(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${envelope('<eventId>&e;</eventId>')}`)), /^InvalidRequest: DOCTYPE and ENTITY declarations are not accepted/);
    assert.strictEqual(await postXml(envelope(`<notes>${'x'.repeat(5000)}</notes>`)), 'InvalidRequest: the body is larger than 4096 bytes');
    assert.strictEqual(messages, 0);
  });

  it('sends each operation to its own output when the operations are listed', async () => {
    await load({ wsdl: 'adapters/hub-services/RepairNotificationService.wsdl', path: '/soap/repair-notifications', operations: 'NotifyRepairStatus', wires: [['h']] });
    const client = await soap.createClientAsync(`${base}/soap/repair-notifications?wsdl`);
    const request = next('h');
    const call = client.NotifyRepairStatusAsync({ jobRef: 'J1', tenancyRef: 'T1', personRef: 'P1', status: 'Scheduled', statusDate: '2026-11-20', appointmentDate: '2026-11-25' });
    const msg = await request;
    assert.strictEqual(msg.operation, 'NotifyRepairStatus');
    assert.strictEqual(msg.payload.appointmentDate, '2026-11-25');
    helper.getNode('resp').receive({ ...msg, payload: { messageId: 'R-7' } });
    assert.deepStrictEqual((await call)[0], { messageId: 'R-7' });
  });
});
