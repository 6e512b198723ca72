import assert from 'assert';
import { HubError } from '../../adapters/errors';
import { parseWebhookEvent, POSTING_EVENT, RECORDED_EVENTS, REFUND_EVENT } from '../../adapters/govuk-pay/events';

const FUNDS = ['CTX', 'NDR', 'HRA', 'SUN'] as const;

function paymentEvent(eventType = POSTING_EVENT): any {
  return {
    webhook_message_id: 'msg0000000000000000000001',
    api_version: 1,
    created_date: '2024-05-01T10:36:27.001Z',
    resource_id: 'pay00000000000000000000001',
    resource_type: 'payment',
    event_type: eventType,
    resource: {
      amount: 12345,
      description: 'Council Tax payment',
      reference: 'CTX0001234',
      language: 'en',
      email: 'sarah.jones@example.org',
      state: { status: 'success', finished: true },
      payment_id: 'pay00000000000000000000001',
      payment_provider: 'worldpay',
      created_date: '2024-05-01T10:36:26.988Z',
      refund_summary: { status: 'available', amount_available: 12345, amount_submitted: 0 },
      card_details: {
        last_digits_card_number: '4242',
        first_digits_card_number: '424242',
        cardholder_name: 'S Jones',
        expiry_date: '04/27',
        billing_address: { line1: '12 Oak Road', line2: null, postcode: 'XM1 2AB', city: 'ASHBURY', country: 'GB' },
        card_brand: 'Visa',
      },
      metadata: { fund: 'CTX', campaign: 'spring' },
    },
  };
}

function refundEvent(): any {
  return {
    webhook_message_id: 'msg0000000000000000000002',
    api_version: 1,
    created_date: '2024-05-02T09:00:00.500Z',
    resource_id: 'ref00000000000000000000001',
    resource_type: 'refund',
    event_type: REFUND_EVENT,
    resource: { refund_id: 'ref00000000000000000000001', payment_id: 'pay00000000000000000000001', amount: 2000, status: 'success', created_date: '2024-05-02T09:00:00.000Z', settlement_summary: {} },
  };
}

const raw = (event: unknown) => Buffer.from(typeof event === 'string' ? event : JSON.stringify(event), 'utf8');

/** Parsing must fail with the contract's permanent INVALID_WEBHOOK error, naming `field`. */
function refused(body: unknown, field: string, problem?: RegExp): void {
  assert.throws(
    () => parseWebhookEvent(raw(body), FUNDS),
    (err: unknown) => {
      assert.ok(err instanceof HubError, `a HubError, got ${String(err)}`);
      assert.strictEqual(err.code, 'INVALID_WEBHOOK');
      assert.strictEqual(err.transient, false);
      assert.ok(err.message.includes(field), `"${err.message}" names ${field}`);
      if (problem) assert.match(err.message, problem);
      return true;
    },
  );
}

function without(event: any, path: string): any {
  const copy = JSON.parse(JSON.stringify(event));
  const parts = path.split('.');
  const last = parts.pop()!;
  delete parts.reduce((o, p) => o[p], copy)[last];
  return copy;
}

function withValue(event: any, path: string, value: unknown): any {
  const copy = JSON.parse(JSON.stringify(event));
  const parts = path.split('.');
  const last = parts.pop()!;
  parts.reduce((o, p) => o[p], copy)[last] = value;
  return copy;
}

describe('GOV.UK Pay webhook events', function () {
  it('a succeeded payment: the contract fields, and nothing else (no card details, e-mail or extra metadata)', function () {
    const event = parseWebhookEvent(raw(paymentEvent()), FUNDS);
    assert.deepStrictEqual(event, {
      webhookMessageId: 'msg0000000000000000000001',
      apiVersion: 1,
      createdDate: '2024-05-01T10:36:27.001Z',
      resourceId: 'pay00000000000000000000001',
      resourceType: 'payment',
      eventType: 'card_payment_succeeded',
      kind: 'payment',
      paymentId: 'pay00000000000000000000001',
      payment: {
        paymentId: 'pay00000000000000000000001',
        amountPence: 12345,
        reference: 'CTX0001234',
        description: 'Council Tax payment',
        createdDate: '2024-05-01T10:36:26.988Z',
        status: 'success',
        finished: true,
        fund: 'CTX',
      },
    });
    const text = JSON.stringify(event);
    for (const leaked of ['4242', 'S Jones', 'Oak Road', 'XM1 2AB', '04/27', 'Visa', 'example.org', 'worldpay', 'spring', 'card_details']) assert.ok(!text.includes(leaked), `${leaked} is dropped`);
  });

  it('a string body parses as the bytes do', function () {
    assert.deepStrictEqual(parseWebhookEvent(JSON.stringify(paymentEvent()), FUNDS), parseWebhookEvent(raw(paymentEvent()), FUNDS));
  });

  it('a payment without description or state still parses (they are optional)', function () {
    const event = parseWebhookEvent(raw(without(without(paymentEvent(), 'resource.description'), 'resource.state')), FUNDS);
    assert.deepStrictEqual(Object.keys(event.payment!).sort(), ['amountPence', 'createdDate', 'fund', 'paymentId', 'reference']);
  });

  it('a refund: its fields, the payment it is about, nothing else', function () {
    const event = parseWebhookEvent(raw(refundEvent()), FUNDS);
    assert.strictEqual(event.kind, 'refund');
    assert.strictEqual(event.paymentId, 'pay00000000000000000000001');
    assert.strictEqual(event.payment, undefined);
    assert.deepStrictEqual(event.refund, { refundId: 'ref00000000000000000000001', paymentId: 'pay00000000000000000000001', amountPence: 2000, status: 'success', createdDate: '2024-05-02T09:00:00.000Z' });
    assert.ok(!JSON.stringify(event).includes('settlement'));
  });

  it('recorded types need only the envelope and resource.payment_id, and keep no payment fields', function () {
    for (const type of RECORDED_EVENTS) {
      const event = parseWebhookEvent(raw({ ...paymentEvent(type), resource: { payment_id: 'pay00000000000000000000009', card_details: { last_digits_card_number: '1111' } } }), FUNDS);
      assert.strictEqual(event.kind, 'recorded', type);
      assert.strictEqual(event.eventType, type);
      assert.strictEqual(event.paymentId, 'pay00000000000000000000009');
      assert.strictEqual(event.payment, undefined);
      assert.strictEqual(event.refund, undefined);
      assert.ok(!JSON.stringify(event).includes('1111'));
    }
    // A full payment resource on a recorded event is fine too; a bad amount there does not matter.
    assert.strictEqual(parseWebhookEvent(raw(withValue(paymentEvent('card_payment_captured'), 'resource.amount', -1)), FUNDS).kind, 'recorded');
  });

  it('unknown types are kind unknown, needing only the envelope and resource.payment_id', function () {
    const event = parseWebhookEvent(raw({ ...paymentEvent('card_payment_dispute_created'), resource: { payment_id: 'pay00000000000000000000003', dispute_id: 'd1' } }), FUNDS);
    assert.strictEqual(event.kind, 'unknown');
    assert.strictEqual(event.paymentId, 'pay00000000000000000000003');
    refused({ ...paymentEvent('card_payment_dispute_created'), resource: { dispute_id: 'd1' } }, 'resource.payment_id', /missing/);
    refused({ ...paymentEvent('card_payment_settled'), resource: { payment_id: 42 } }, 'resource.payment_id', /string/);
  });

  it('refuses a body that is not JSON, or not an object', function () {
    refused('{"webhook_message_id": ', 'not JSON');
    refused('', 'not JSON');
    refused('[1,2]', 'the body', /an array/);
    refused('"text"', 'the body', /JSON object/);
    refused('null', 'the body', /JSON object/);
  });

  it('refuses a missing or ill-typed envelope field, naming it', function () {
    for (const field of ['webhook_message_id', 'api_version', 'created_date', 'resource_id', 'resource_type', 'event_type', 'resource']) refused(without(paymentEvent(), field), field, /missing/);
    refused(withValue(paymentEvent(), 'webhook_message_id', 7), 'webhook_message_id', /string/);
    refused(withValue(paymentEvent(), 'webhook_message_id', '  '), 'webhook_message_id', /empty/);
    refused(withValue(paymentEvent(), 'api_version', '1'), 'api_version', /whole number/);
    refused(withValue(paymentEvent(), 'api_version', 1.5), 'api_version', /whole number/);
    refused(withValue(paymentEvent(), 'created_date', 'yesterday'), 'created_date', /ISO 8601/);
    refused(withValue(paymentEvent(), 'created_date', '2024-02-30T25:00:00Z'), 'created_date', /ISO 8601/);
    refused(withValue(paymentEvent(), 'resource_id', null), 'resource_id', /missing/);
    refused(withValue(paymentEvent(), 'resource_type', 'dispute'), 'resource_type', /"payment" or "refund"/);
    refused(withValue(paymentEvent(), 'event_type', ['card_payment_succeeded']), 'event_type', /string/);
    refused(withValue(paymentEvent(), 'resource', 'x'), 'resource', /object/);
    refused(withValue(paymentEvent(), 'resource', [paymentEvent().resource]), 'resource', /object/);
  });

  it('refuses a succeeded payment without a contract field, naming it', function () {
    for (const field of ['payment_id', 'amount', 'reference', 'created_date', 'metadata', 'metadata.fund']) refused(without(paymentEvent(), `resource.${field}`), `resource.${field}`, /missing/);
  });

  it('refuses a payment amount that is not a positive whole number of pence', function () {
    for (const amount of [0, -100, 12.5, '12345', null, 1e20]) refused(withValue(paymentEvent(), 'resource.amount', amount), 'resource.amount');
  });

  it('refuses a fund that is not one of the configured funds, and ill-typed optional fields', function () {
    refused(withValue(paymentEvent(), 'resource.metadata.fund', 'XYZ'), 'resource.metadata.fund', /one of CTX, NDR, HRA, SUN/);
    refused(withValue(paymentEvent(), 'resource.metadata.fund', 'ctx'), 'resource.metadata.fund', /one of/);
    refused(withValue(paymentEvent(), 'resource.reference', ''), 'resource.reference', /empty/);
    refused(withValue(paymentEvent(), 'resource.description', 5), 'resource.description', /string/);
    refused(withValue(paymentEvent(), 'resource.state', 'success'), 'resource.state', /object/);
    refused(withValue(paymentEvent(), 'resource.state.status', true), 'resource.state.status', /string/);
    refused(withValue(paymentEvent(), 'resource.state.finished', 'yes'), 'resource.state.finished', /true or false/);
    refused(withValue(paymentEvent(), 'resource.created_date', '01/05/2024'), 'resource.created_date', /ISO 8601/);
    // Only the configured funds count: the same event with a narrower list is refused.
    assert.throws(() => parseWebhookEvent(raw(paymentEvent()), ['HRA']), /resource\.metadata\.fund must be one of HRA/);
  });

  it('refuses a refund without a contract field, naming it', function () {
    for (const field of ['refund_id', 'payment_id', 'amount', 'created_date']) refused(without(refundEvent(), `resource.${field}`), `resource.${field}`, /missing/);
    refused(withValue(refundEvent(), 'resource.amount', 0), 'resource.amount', /positive/);
    refused(withValue(refundEvent(), 'resource.status', 3), 'resource.status', /string/);
  });

  it('refuses a posting or refund event whose resource_type is the other kind', function () {
    refused(withValue(paymentEvent(), 'resource_type', 'refund'), 'resource_type', /"payment" for card_payment_succeeded/);
    refused(withValue(refundEvent(), 'resource_type', 'payment'), 'resource_type', /"refund" for card_payment_refunded/);
  });

  it('does not let a __proto__ key through to the result', function () {
    const body = JSON.stringify(paymentEvent()).replace('"resource":{', '"resource":{"__proto__":{"polluted":true},');
    const event = parseWebhookEvent(body, FUNDS);
    assert.strictEqual((event.payment as any).polluted, undefined);
    assert.strictEqual(({} as any).polluted, undefined);
  });
});
