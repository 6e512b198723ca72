import assert from 'assert';
import { Counter, Histogram, Registry } from 'prom-client';
import { deadLetterRecord, resubmissionBody } from '../../adapters/amqp/dead-letters';
import { dereferencedSchema, schemasOf } from '../../adapters/canonical/schemas';
import { addressInPayload, contactIdOf } from '../../hub/api/people-api';
import { ResponseTimes } from '../../hub/api/response-times';
import type { MessageRecord } from '../../hub/journal/types';

/** The console's parts on their own: no hub, no broker, no browser. */
describe('the console parts', () => {
  describe('AMQP dead letters', () => {
    const base = { queue: 'q', deadLetterQueue: 'q.dead-letter', routingKey: 'r', reason: 'bad', withReason: true, deadLetterId: 'm1', at: '2026-12-02T10:00:00.000Z' };

    it('keeps a body that is not JSON as its text, and headers that are bytes as text', () => {
      const record = deadLetterRecord({ ...base, content: Buffer.from('{"half": '), headers: { 'x-trace': Buffer.from('abc'), n: 1 } });
      assert.strictEqual(record.msg.payload, '{"half": ');
      assert.deepStrictEqual(record.msg.amqp.headers, { 'x-trace': 'abc', n: 1 });
      assert.strictEqual(record.sourceMessageId, 'dead-letter:q:m1');
      assert.match(record.reason, /dead-lettered from q: bad/);
    });

    it('keeps a JSON body parsed, and a very large one cut short and marked', () => {
      assert.deepStrictEqual(deadLetterRecord({ ...base, content: Buffer.from('{"a":1}'), headers: {} }).msg.payload, { a: 1 });
      const big = deadLetterRecord({ ...base, content: Buffer.alloc(300 * 1024, 'x'), headers: {} });
      assert.strictEqual((big.msg.payload as string).length, 256 * 1024);
      assert.strictEqual(big.msg.amqp.cutShort, true);
    });

    it('resubmits JSON objects, refuses what is not JSON or not an object, and sends text as it is to a text queue', () => {
      assert.deepStrictEqual(resubmissionBody('{"a":1}', 'json'), { a: 1 });
      assert.deepStrictEqual(resubmissionBody([1], 'json'), [1]);
      assert.throws(() => resubmissionBody('{"a":', 'json'), /not JSON/);
      assert.throws(() => resubmissionBody(42, 'json'), /must be a JSON object or array, got number/);
      assert.throws(() => resubmissionBody(null, 'json'), /got null/);
      assert.deepStrictEqual(resubmissionBody('plain', 'text'), Buffer.from('plain'));
    });
  });

  describe('finding the unresolved address in the payload as received', () => {
    const payload = { oldAddress: { line1: '1 Low Road', postcode: 'CF10 1EP' }, newAddress: { line1: '12 High Street', line2: '', postcode: 'cf10  1ep' } };

    it('finds the one object with the same postcode and first line (case and spaces aside)', () => {
      const found = addressInPayload(payload, { lines: ['12 HIGH STREET'], postcode: 'CF10 1EP' });
      assert.strictEqual(found.length, 1);
      assert.strictEqual(found[0], payload.newAddress);
    });

    it('finds none when the flow changed it, and several when it is there twice', () => {
      assert.strictEqual(addressInPayload(payload, { lines: ['99 Nowhere'], postcode: 'CF10 1EP' }).length, 0);
      const twice = { a: { lines: ['12 High Street'], postcode: 'CF10 1EP' }, b: { lines: ['12 High Street'], postcode: 'CF10 1EP' } };
      assert.strictEqual(addressInPayload(twice, { lines: ['12 High Street'], postcode: 'CF10 1EP' }).length, 2);
    });
  });

  it('tells whose a message is: the key of a CRM event, else a contact id it carries', () => {
    const message = (source: string, key: string | undefined, payload: unknown) => ({ source, key, payload }) as MessageRecord;
    assert.strictEqual(contactIdOf(message('crm', 'C1', {})), 'C1');
    assert.strictEqual(contactIdOf(message('planning', '26/1/FUL', { applicant: { contactId: 'C2' } })), 'C2');
    assert.strictEqual(contactIdOf(message('amqp', undefined, { person: { ids: { crmContactId: 'C3' } } })), 'C3');
    assert.strictEqual(contactIdOf(message('payments', 'T1', { amount: 5 })), undefined);
  });

  it('picks the schema a payload matches, else the one its eventType names, and writes its refs out', () => {
    assert.strictEqual(schemasOf({ eventType: 'person.address.changed' })?.name, 'person.address.changed.unresolved');
    assert.strictEqual(schemasOf({ eventType: 'person.address.changed' })?.matches, false);
    assert.strictEqual(schemasOf({ anything: 1 }), undefined);
    const schema = dereferencedSchema('person.address.changed.unresolved') as any;
    assert.strictEqual(schema.properties.person.properties.dateOfBirth.format, 'date');
    assert.strictEqual(schema.properties.newAddress.properties.uprn.pattern, '^[0-9]{1,12}$');
    assert.ok(!JSON.stringify(schema).includes('$ref'));
  });

  describe('response times', () => {
    function metrics() {
      const registry = new Registry();
      const outcomes = new Counter({ name: 'councilhub_deliveries_total', help: 'h', labelNames: ['target', 'status'], registers: [registry] });
      const latency = new Histogram({ name: 'councilhub_delivery_latency_seconds', help: 'h', labelNames: ['target'], buckets: [1, 10], registers: [registry] });
      return { registry, outcomes, latency };
    }

    it('samples what each target took and how long, and its error rate, per interval', async () => {
      const { registry, outcomes, latency } = metrics();
      let now = 1_000_000;
      const times = new ResponseTimes(registry, { sampleMs: 60_000, alertFailingMs: 15 * 60_000, now: () => now });
      latency.observe({ target: 'planning' }, 0.2);
      latency.observe({ target: 'planning' }, 0.4);
      outcomes.inc({ target: 'planning', status: 'failed' });
      outcomes.inc({ target: 'hub', status: 'dead' });
      await times.sample();
      now += 60_000;
      latency.observe({ target: 'planning' }, 1);
      await times.sample();
      const [planning, ...others] = times.report().targets;
      assert.deepStrictEqual(others, [], 'the pseudo-target hub is not a system');
      assert.strictEqual(planning.samples.length, 2);
      assert.strictEqual(planning.samples[0].delivered, 2);
      assert.ok(Math.abs((planning.samples[0].meanSeconds ?? 0) - 0.3) < 1e-9);
      assert.ok(Math.abs(planning.samples[0].errorRate - 1 / 3) < 1e-9);
      assert.strictEqual(planning.samples[1].delivered, 1);
      assert.strictEqual(planning.samples[1].failed, 0);
    });

    it('alerts for a target failing with nothing delivered for longer than the set time, and stops once one is delivered', async () => {
      const { registry, outcomes, latency } = metrics();
      let now = 1_000_000;
      const times = new ResponseTimes(registry, { sampleMs: 60_000, alertFailingMs: 15 * 60_000, now: () => now });
      outcomes.inc({ target: 'housing', status: 'failed' });
      await times.sample();
      now += 14 * 60_000;
      await times.sample();
      assert.strictEqual(times.report().targets[0].alert, undefined, 'not yet: 14 minutes');
      assert.strictEqual(times.report().targets[0].failingSince, 1_000_000);
      now += 2 * 60_000;
      assert.match(times.report().targets[0].alert ?? '', /housing has been failing with nothing delivered for 16 minutes/);
      latency.observe({ target: 'housing' }, 0.1);
      await times.sample();
      assert.strictEqual(times.report().targets[0].alert, undefined);
      assert.strictEqual(times.report().targets[0].failingSince, undefined);
    });
  });
});
