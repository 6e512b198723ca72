import assert from 'assert';
import fs from 'fs';
import http from 'http';
import path from 'path';
import { randomUUID } from 'crypto';
import amqp from 'amqplib';
import * as soap from 'soap';
import { CrmSimulator, ContactAddressChangedEvent } from '../../simulators/crm';
import { repoRoot } from '../../hub/paths';
import { clientFor, expectFault, testPopulation, waitFor } from './helpers';

const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

describe('contract: CRM (CrmService)', function () {
  let crm: CrmSimulator;
  let client: soap.Client;
  const population = testPopulation();
  const contact = population.crmContacts.find((c) => c.accounts.some((a) => a.fund === 'CTX'))!;

  before(async function () {
    crm = await CrmSimulator.start({ population, port: 0 });
    client = await clientFor(crm.endpoint);
  });
  after(async function () {
    await crm?.stop();
  });

  it('serves its WSDL at <endpoint>?wsdl with namespace urn:council-hub:CrmService and every operation', async function () {
    const description = client.describe().CrmService.CrmPort;
    assert.deepStrictEqual(Object.keys(description).sort(), ['AddCaseUpdate', 'AddContactNote', 'CreateCase', 'FindCaseByExternalRef', 'FindContactByAccount', 'GetCase', 'GetContact']);
    assert.strictEqual(client.wsdl.definitions.$targetNamespace, 'urn:council-hub:CrmService');
  });

  it('CreateCase is idempotent on (externalSystem, externalRef) and FindCaseByExternalRef finds it', async function () {
    const ref = `J-${randomUUID()}`;
    const [first] = await client.CreateCaseAsync({ caseType: 'Repair', title: 'Leaking tap', externalSystem: 'housing', externalRef: ref, contactId: contact.contactId });
    const [again] = await client.CreateCaseAsync({ caseType: 'Repair', title: 'Leaking tap', externalSystem: 'housing', externalRef: ref });
    assert.match(first.caseRef, /^CAS-\d{6}$/);
    assert.strictEqual(again.caseRef, first.caseRef);
    const [other] = await client.CreateCaseAsync({ caseType: 'Planning', title: 'x', externalSystem: 'planning', externalRef: ref });
    assert.notStrictEqual(other.caseRef, first.caseRef, 'the same ref in another system is another case');
    const [found] = await client.FindCaseByExternalRefAsync({ externalSystem: 'housing', externalRef: ref });
    assert.strictEqual(found.caseRef, first.caseRef);
  });

  it('FindCaseByExternalRef and GetCase answer CaseNotFound for an unknown case (convention: soap:Client, "<name>: <reason>", detail)', async function () {
    const fault = await expectFault(client, 'FindCaseByExternalRef', { externalSystem: 'housing', externalRef: 'no-such-job' });
    assert.strictEqual(fault.faultcode, 'soap:Client');
    assert.strictEqual(fault.name, 'CaseNotFound');
    assert.strictEqual(fault.faultstring, `CaseNotFound: ${fault.reason}`);
    assert.strictEqual((await expectFault(client, 'GetCase', { caseRef: 'CAS-999999' })).name, 'CaseNotFound');
    assert.strictEqual((await expectFault(client, 'AddCaseUpdate', { caseRef: 'CAS-999999', status: 'Raised', summary: 's', occurredAt: '2026-11-18T10:00:00+00:00', sourceEventId: randomUUID() })).name, 'CaseNotFound');
  });

  it('AddCaseUpdate is idempotent on sourceEventId: a repeat returns the first updateId and adds nothing', async function () {
    const [created] = await client.CreateCaseAsync({ caseType: 'Repair', title: 't', externalSystem: 'housing', externalRef: `J-${randomUUID()}` });
    const sourceEventId = randomUUID();
    const update = { caseRef: created.caseRef, status: 'Scheduled', summary: 'Appointment 2026-11-20', occurredAt: '2026-11-18T10:00:00+00:00', sourceEventId };
    const [first] = await client.AddCaseUpdateAsync(update);
    const [repeat] = await client.AddCaseUpdateAsync({ ...update, summary: 'changed' });
    assert.strictEqual(repeat.updateId, first.updateId);
    const [got] = await client.GetCaseAsync({ caseRef: created.caseRef });
    const updates = [].concat(got.case.update);
    assert.strictEqual(updates.length, 1);
    assert.strictEqual(got.case.status, 'Scheduled');
    assert.strictEqual((updates[0] as any).occurredAt, '2026-11-18T10:00:00+00:00', 'times travel as given, offset kept');
  });

  it('FindContactByAccount finds the contact holding an account, ContactNotFound otherwise, InvalidRequest for an unknown fund', async function () {
    const account = contact.accounts.find((a) => a.fund === 'CTX')!;
    const [found] = await client.FindContactByAccountAsync({ fund: 'CTX', accountRef: account.accountRef });
    assert.strictEqual(found.contactId, contact.contactId);
    assert.strictEqual((await expectFault(client, 'FindContactByAccount', { fund: 'CTX', accountRef: 'NOPE' })).name, 'ContactNotFound');
    assert.strictEqual((await expectFault(client, 'FindContactByAccount', { fund: 'XYZ', accountRef: account.accountRef })).name, 'InvalidRequest');
  });

  it('AddContactNote is idempotent on sourceEventId and shows in GetContact', async function () {
    const sourceEventId = randomUUID();
    const [first] = await client.AddContactNoteAsync({ contactId: contact.contactId, text: 'Paid £12.00 by phone', sourceEventId });
    const [repeat] = await client.AddContactNoteAsync({ contactId: contact.contactId, text: 'Paid £12.00 by phone', sourceEventId });
    assert.strictEqual(repeat.noteId, first.noteId);
    const [got] = await client.GetContactAsync({ contactId: contact.contactId });
    const notes = [].concat(got.contact.note).filter((n: any) => n.sourceEventId === sourceEventId);
    assert.strictEqual(notes.length, 1);
    assert.strictEqual(got.contact.lastName, contact.lastName);
    assert.strictEqual((await expectFault(client, 'AddContactNote', { contactId: 'C9999999', text: 'x', sourceEventId: randomUUID() })).name, 'ContactNotFound');
    assert.strictEqual((await expectFault(client, 'GetContact', { contactId: 'C9999999' })).name, 'ContactNotFound');
  });

  it('a request missing a required element or with a malformed time gets InvalidRequest naming it', async function () {
    const missing = await expectFault(client, 'CreateCase', { caseType: 'Repair', externalSystem: 'housing', externalRef: 'x' });
    assert.strictEqual(missing.name, 'InvalidRequest');
    assert.match(missing.reason, /title/);
    const badTime = await expectFault(client, 'AddCaseUpdate', { caseRef: 'CAS-000001', status: 's', summary: 's', occurredAt: 'yesterday', sourceEventId: 'x' });
    assert.strictEqual(badTime.name, 'InvalidRequest');
    assert.match(badTime.reason, /occurredAt/);
  });

  describe('ContactAddressChanged events', function () {
    const expectedKeys = ['contact', 'effectiveDate', 'eventId', 'eventType', 'newAddress', 'oldAddress', 'raisedAt', 'source'];

    it('with a broker: published persistent JSON to the durable topic exchange crm.events, routing key contact.address.changed', async function () {
      const queue = `council-hub-test-crm-events-${randomUUID()}`;
      const connection = await amqp.connect(RABBITMQ_URL, { clientProperties: { connection_name: `council-hub-test-${queue}` } });
      const channel = await connection.createChannel();
      const publisher = await CrmSimulator.start({ population, port: 0, rabbitmqUrl: RABBITMQ_URL });
      try {
        await channel.assertExchange('crm.events', 'topic', { durable: true });
        await channel.assertQueue(queue, { durable: true });
        await channel.bindQueue(queue, 'crm.events', 'contact.address.changed');
        const newAddress = { line1: '4 Alder Road', town: 'ASHBURY', postcode: 'XM1 1AB', uprn: '10009000004' };
        const event = await publisher.changeContactAddress(contact.contactId, newAddress, '2026-11-18');
        assert.strictEqual(publisher.events()[0].status, 'delivered');
        const message = await waitFor(async () => {
          const got = await channel.get(queue, { noAck: true });
          return got && JSON.parse(got.content.toString()).eventId === event.eventId ? got : undefined;
        });
        assert.strictEqual(message.fields.exchange, 'crm.events');
        assert.strictEqual(message.fields.routingKey, 'contact.address.changed');
        assert.strictEqual(message.properties.deliveryMode, 2, 'persistent');
        assert.strictEqual(message.properties.contentType, 'application/json');
        const body = JSON.parse(message.content.toString()) as ContactAddressChangedEvent;
        assert.deepStrictEqual(Object.keys(body).sort(), expectedKeys);
        assert.strictEqual(body.eventType, 'ContactAddressChanged');
        assert.match(body.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.ok(!Number.isNaN(Date.parse(body.raisedAt)) && /(Z|[+-]\d\d:\d\d)$/.test(body.raisedAt));
        assert.strictEqual(body.contact.contactId, contact.contactId);
        assert.strictEqual(body.contact.lastName, contact.lastName);
        assert.deepStrictEqual(body.oldAddress, contact.address);
        assert.deepStrictEqual(body.newAddress, newAddress);
        assert.strictEqual(body.effectiveDate, '2026-11-18');
        assert.strictEqual(body.source, 'ContactCentre');
      } finally {
        await publisher.stop();
        await channel.deleteQueue(queue).catch(() => undefined);
        await connection.close();
      }
    });

    it('without a broker: pushed to the hub ContactEventService (NotifyContactEvent), retried until the hub answers', async function () {
      const wsdlFile = path.join(repoRoot, 'adapters/hub-services/ContactEventService.wsdl');
      assert.ok(fs.existsSync(wsdlFile), 'the hub ContactEventService WSDL is there');
      const received: any[] = [];
      const server = http.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/soap/contact-events`;
      let refuse = 1;
      soap.listen(server, '/soap/contact-events', {
        ContactEventService: {
          ContactEventPort: {
            NotifyContactEvent: (args: any) => {
              if (refuse-- > 0) throw { Fault: { faultcode: 'soap:Server', faultstring: 'ServiceUnavailable: hub starting' } };
              received.push(args);
              return { messageId: `M${received.length}` };
            },
          },
        },
      }, fs.readFileSync(wsdlFile, 'utf8').replace(/location="[^"]*"/, `location="${url}"`));
      const pusher = await CrmSimulator.start({ population, port: 0, hubContactEventsUrl: url, retryMs: 100 });
      try {
        const event = await pusher.changeContactAddress(contact.contactId, { line1: '9 Elm Way', postcode: 'XM2 1AB' }, '2026-11-19');
        assert.strictEqual(pusher.events()[0].status, 'pending', 'the first try met a fault');
        await waitFor(() => (received.length ? true : undefined));
        assert.strictEqual(received[0].eventId, event.eventId);
        assert.strictEqual(received[0].eventType, 'ContactAddressChanged');
        assert.strictEqual(received[0].contact.contactId, contact.contactId);
        assert.strictEqual(received[0].newAddress.line1, '9 Elm Way');
        assert.strictEqual(received[0].effectiveDate, '2026-11-19');
        await waitFor(() => (pusher.events()[0].status === 'delivered' ? true : undefined));
        assert.deepStrictEqual(pusher.events()[0].result, { messageId: 'M1' });
      } finally {
        await pusher.stop();
        server.close();
      }
    });
  });
});
