import assert from 'assert';
import fs from 'fs';
import http from 'http';
import os from 'os';
import path from 'path';
import type { AddressInfo } from 'net';
import express from 'express';
import * as soap from 'soap';
import { createSoapClient, hostSoapService, soapRegistryFor, SoapCallError, SoapFault, type SoapPathRegistry, type SoapRequest } from '../../adapters/soap';
import { contactEventService, repairNotificationService } from '../../adapters/hub-services';

const SOAP_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const CONTACT_NS = 'urn:council-hub:ContactEventService';

const contactEvent = {
  eventType: 'ContactAddressChanged',
  eventId: '9b2f6a52-3f43-4c3e-9a53-0d3c1c7f6d11',
  raisedAt: '2026-11-18T09:30:00+00:00',
  contact: { contactId: 'C0012345', title: 'Ms', firstName: 'Ann', lastName: 'Smith', dateOfBirth: '1980-03-14', email: 'ann@example.org', phone: '07700900123' },
  oldAddress: { line1: '12 Rose Street', town: 'Northtown', postcode: 'NT1 1AA', uprn: '100023336956' },
  newAddress: { line1: 'Flat 2', line2: '3 Mill Lane', town: 'Northtown', postcode: 'NT2 2BB' },
  effectiveDate: '2026-11-18',
  source: 'ContactCentre',
};

function notifyEnvelope(inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP_NS}"><soap:Body><NotifyContactEvent xmlns="${CONTACT_NS}">${inner}</NotifyContactEvent></soap:Body></soap:Envelope>`;
}

/** POSTs a raw body and returns status and text (for what no soap client would send). */
async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${CONTACT_NS}#NotifyContactEvent"` } });
  return { status: response.status, text: await response.text() };
}

function faultstringOf(xml: string): string {
  const match = /<faultstring>([\s\S]*?)<\/faultstring>/.exec(xml);
  assert.ok(match, `no SOAP fault in: ${xml.slice(0, 300)}`);
  return match[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

describe('SOAP hosting (adapters/soap server): the hub as a SOAP server', () => {
  let server: http.Server;
  let base: string;
  let registry: SoapPathRegistry;
  let received: SoapRequest[];
  let answer: (request: SoapRequest) => Promise<Record<string, unknown>>;

  beforeEach(async () => {
    const app = express();
    registry = soapRegistryFor(app);
    app.use((_req, res) => res.status(404).send('no such route'));
    received = [];
    answer = async () => ({ messageId: 'M-0001' });
    await hostSoapService(registry, {
      wsdl: contactEventService.wsdl,
      path: contactEventService.path,
      handler: async (request) => {
        received.push(request);
        return answer(request);
      },
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('serves its WSDL at ?wsdl, pointing at itself, and a real soap client built from it calls the operation', async () => {
    const client = await soap.createClientAsync(`${base}/soap/contact-events?wsdl`);
    const [result] = await client.NotifyContactEventAsync(contactEvent);
    assert.deepStrictEqual(result, { messageId: 'M-0001' });
    assert.strictEqual(received.length, 1);
    assert.strictEqual(received[0].operation, 'NotifyContactEvent');
    // dates and times arrive as the text that was sent: no time zone shifts them
    assert.deepStrictEqual(received[0].args, contactEvent);
  });

  it('answers through the hub client too, and a handler SoapFault reaches the caller by name (permanent)', async () => {
    answer = async () => {
      throw new SoapFault('DuplicateEvent', 'event seen with another payload');
    };
    const client = createSoapClient({ wsdl: contactEventService.wsdl, endpoint: `${base}/soap/contact-events` });
    const err = await client.call('NotifyContactEvent', contactEvent).then(
      () => assert.fail('no fault'),
      (e: SoapCallError) => e,
    );
    assert.strictEqual(err.faultName, 'DuplicateEvent');
    assert.strictEqual(err.faultcode, 'soap:Client');
    assert.strictEqual(err.faultstring, 'DuplicateEvent: event seen with another payload');
    assert.strictEqual(err.transient, false);
    await client.close();
  });

  it('answers a handler that fails (e.g. the store is down) with ServiceUnavailable, which the hub client sees as transient', async () => {
    answer = async () => {
      throw new Error('journal store is not reachable');
    };
    const client = createSoapClient({ wsdl: contactEventService.wsdl, endpoint: `${base}/soap/contact-events` });
    const err = await client.call('NotifyContactEvent', contactEvent).then(
      () => assert.fail('no fault'),
      (e: SoapCallError) => e,
    );
    assert.strictEqual(err.faultName, 'ServiceUnavailable');
    assert.strictEqual(err.faultcode, 'soap:Server');
    assert.strictEqual(err.transient, true);
    await client.close();
  });

  it('refuses a request that breaks the WSDL, naming each element, without calling the handler', async () => {
    const client = await soap.createClientAsync(`${base}/soap/contact-events?wsdl`);
    const { eventId: _eventId, ...withoutEventId } = contactEvent;
    await assert.rejects(client.NotifyContactEventAsync({ ...withoutEventId, raisedAt: '18/11/2026' }), (err: any) => {
      const fault = err.root.Envelope.Body.Fault;
      assert.strictEqual(fault.faultcode, 'soap:Client');
      assert.match(fault.faultstring, /^InvalidRequest: /);
      assert.match(fault.faultstring, /NotifyContactEvent\.eventId is required/);
      assert.match(fault.faultstring, /NotifyContactEvent\.raisedAt is not valid \(IsoDateTime, pattern .*; got "18\/11\/2026"\)/);
      assert.deepStrictEqual(Object.keys(fault.detail.fault), ['name', 'reason']);
      return true;
    });
    const missingLastName = notifyEnvelope(
      `<eventType>ContactAddressChanged</eventType><eventId>e1</eventId><raisedAt>2026-11-18T09:30:00Z</raisedAt><contact><contactId>C1</contactId><firstName>Ann</firstName><middleName>X</middleName></contact><source>ContactCentre</source>`,
    );
    const { status, text } = await post(`${base}/soap/contact-events`, missingLastName);
    assert.strictEqual(status, 500);
    assert.strictEqual(faultstringOf(text), 'InvalidRequest: NotifyContactEvent.contact.lastName is required; NotifyContactEvent.contact.middleName is not an element of NotifyContactEvent.contact');
    assert.strictEqual(received.length, 0);
  });

  it('refuses a value outside an enumeration (RepairNotificationService status)', async () => {
    await hostSoapService(registry, { wsdl: repairNotificationService.wsdl, path: repairNotificationService.path, handler: async () => ({ messageId: 'R-1' }) });
    const client = await soap.createClientAsync(`${base}/soap/repair-notifications?wsdl`);
    const repair = { jobRef: 'J123', tenancyRef: 'T9', personRef: 'P1', status: 'Completed', statusDate: '2026-11-20' };
    assert.deepStrictEqual((await client.NotifyRepairStatusAsync(repair))[0], { messageId: 'R-1' });
    await assert.rejects(client.NotifyRepairStatusAsync({ ...repair, status: 'Done' }), (err: any) => {
      assert.strictEqual(err.root.Envelope.Body.Fault.faultstring, 'InvalidRequest: NotifyRepairStatus.status must be one of Raised, Scheduled, Completed, Cancelled (got "Done")');
      return true;
    });
  });

  it('answers malformed XML with a fault saying where', async () => {
    const { status, text } = await post(`${base}/soap/contact-events`, notifyEnvelope('<eventType>ContactAddressChanged</eventId>'));
    assert.strictEqual(status, 500);
    assert.match(faultstringOf(text), /^InvalidRequest: the body is not well-formed XML: Unexpected close tag \(line 1, column \d+\)$/);
    assert.match(text, /<faultcode>soap:Client<\/faultcode>/);
    assert.strictEqual(received.length, 0);
  });

  it('refuses an XXE payload (DOCTYPE with an external entity to a local file) and never reads the file', async () => {
    const secretFile = path.join(os.tmpdir(), `council-hub-xxe-${process.pid}.txt`);
    fs.writeFileSync(secretFile, 'TOP-SECRET-CONTENT');
    try {
      const xxe = `<?xml version="1.0"?><!DOCTYPE NotifyContactEvent [<!ENTITY secret SYSTEM "file://${secretFile}">]>${notifyEnvelope('<eventType>&secret;</eventType>').replace(/^<\?xml[^>]*\?>/, '')}`;
      const { status, text } = await post(`${base}/soap/contact-events`, xxe);
      assert.strictEqual(status, 500);
      assert.strictEqual(faultstringOf(text), 'InvalidRequest: DOCTYPE and ENTITY declarations are not accepted (external entities and entity expansion are refused)');
      assert.ok(!text.includes('TOP-SECRET-CONTENT'));
      assert.strictEqual(received.length, 0);
    } finally {
      fs.unlinkSync(secretFile);
    }
  });

  it('refuses entity expansion (billion laughs) the same way', async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><soap:Envelope xmlns:soap="${SOAP_NS}"><soap:Body><x>&lol2;</x></soap:Body></soap:Envelope>`;
    const { text } = await post(`${base}/soap/contact-events`, laughs);
    assert.match(faultstringOf(text), /DOCTYPE and ENTITY declarations are not accepted/);
  });

  it('refuses a SOAPAction that does not name the Body\'s operation, saying which it should be', async () => {
    const response = await fetch(`${base}/soap/contact-events`, {
      method: 'POST',
      body: notifyEnvelope('<eventType>ContactAddressChanged</eventType>'),
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: 'NotifyRepairStatus' },
    });
    assert.strictEqual(response.status, 500);
    assert.strictEqual(faultstringOf(await response.text()), `InvalidRequest: SOAPAction "NotifyRepairStatus" does not match the operation in the Body, NotifyContactEvent (expected "${CONTACT_NS}#NotifyContactEvent")`);
    assert.strictEqual(received.length, 0);
  });

  it('refuses a request nested deeper than the bound with a fault naming it', async () => {
    const deep = notifyEnvelope(`<eventType>ContactAddressChanged</eventType>${'<x>'.repeat(3000)}${'</x>'.repeat(3000)}`);
    const { status, text } = await post(`${base}/soap/contact-events`, deep);
    assert.strictEqual(status, 500);
    assert.strictEqual(faultstringOf(text), 'InvalidRequest: the XML nests elements more than 100 deep');
    assert.strictEqual(received.length, 0);
  });

  it('refuses a body over the size bound (default 1 MiB) before parsing it', async () => {
    const big = notifyEnvelope(`<eventType>${'x'.repeat(1024 * 1024 + 10)}</eventType>`);
    const { status, text } = await post(`${base}/soap/contact-events`, big);
    assert.strictEqual(status, 500);
    assert.strictEqual(faultstringOf(text), 'InvalidRequest: the body is larger than 1048576 bytes');
    assert.strictEqual(received.length, 0);
  });

  it('refuses hostile element names in a request, leaving Object.prototype untouched', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const { text } = await post(`${base}/soap/contact-events`, notifyEnvelope('<__proto__><polluted>yes</polluted></__proto__><eventId>e1</eventId>'));
    assert.strictEqual(faultstringOf(text), 'InvalidRequest: the XML uses the reserved name "__proto__"');
    assert.strictEqual(({} as any).polluted, undefined);
    assert.deepStrictEqual(Object.getOwnPropertyNames(Object.prototype).sort(), before);
    assert.strictEqual(received.length, 0);
  });

  it('answers a body that is not a SOAP envelope, an empty Body and an unknown operation with clear faults', async () => {
    assert.strictEqual(faultstringOf((await post(`${base}/soap/contact-events`, '<NotifyContactEvent/>')).text), 'InvalidRequest: the body is not a SOAP envelope (root element "NotifyContactEvent")');
    assert.strictEqual(faultstringOf((await post(`${base}/soap/contact-events`, '')).text), 'InvalidRequest: the body is empty');
    assert.strictEqual(
      faultstringOf((await post(`${base}/soap/contact-events`, `<soap:Envelope xmlns:soap="${SOAP_NS}"><soap:Body/></soap:Envelope>`)).text),
      'InvalidRequest: the SOAP Body is empty (ContactEventService offers NotifyContactEvent)',
    );
    assert.strictEqual(
      faultstringOf((await post(`${base}/soap/contact-events`, `<soap:Envelope xmlns:soap="${SOAP_NS}"><soap:Body><DeleteContact/></soap:Body></soap:Envelope>`)).text),
      'InvalidRequest: DeleteContact is not an operation of ContactEventService (it offers NotifyContactEvent)',
    );
    assert.strictEqual(received.length, 0);
  });

  it('answers a GET without ?wsdl with 405', async () => {
    const response = await fetch(`${base}/soap/contact-events`);
    assert.strictEqual(response.status, 405);
    assert.match(await response.text(), /POST SOAP 1\.1 requests here; the WSDL is at \/soap\/contact-events\?wsdl/);
  });

  it('removes a service on close (the path falls through), hosts a new one on the same path, and refuses a second holder', async () => {
    const again = () => hostSoapService(registry, { wsdl: contactEventService.wsdl, path: '/soap/contact-events/', handler: async () => ({ messageId: 'M-NEW' }) });
    await assert.rejects(again(), /SOAP path \/soap\/contact-events is already hosted \(ContactEventService\)/);
    assert.deepStrictEqual(registry.paths(), ['/soap/contact-events']);
    const hosted = await hostSoapService(registry, { wsdl: contactEventService.wsdl, path: '/soap/other', handler: async () => ({ messageId: 'x' }) });
    hosted.close();
    assert.strictEqual((await fetch(`${base}/soap/other?wsdl`)).status, 404);
    assert.deepStrictEqual(registry.paths(), ['/soap/contact-events']);
    const redeployed = await hostSoapService(registry, { wsdl: contactEventService.wsdl, path: '/soap/other', handler: async () => ({ messageId: 'M-NEW' }) });
    const client = await soap.createClientAsync(`${base}/soap/other?wsdl`);
    assert.deepStrictEqual((await client.NotifyContactEventAsync(contactEvent))[0], { messageId: 'M-NEW' });
    redeployed.close();
  });
});
