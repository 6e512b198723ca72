import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { randomUUID } from 'crypto';
import amqp from 'amqplib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startHubProcess, login, HubProcess } from '../support/hub-process';
import { launchChromium } from '../support/browser';
import { repoRoot } from '../../hub/paths';
import type { AuditRecord, DeliveryRecord, MessageRecord } from '../../hub/journal/types';
import { writePeopleFlow, type PeopleFlow } from './people-flow';

/**
 * The console's people, inbound failures and needs-attention pages in Debian's Chromium,
 * against a real hub process on the real RabbitMQ (a queue and exchange of the run's own,
 * deleted afterwards). Each page is checked with axe-core (WCAG 2.2 AA: no violations) and
 * kept as a screenshot in test-output/console/.
 */
const RABBITMQ_URL = process.env.RABBITMQ_URL || 'amqp://guest:guest@127.0.0.1:5672';
const PASSWORD = 'council-hub-demo';
const SHOTS = path.join(repoRoot, 'test-output', 'console');
const AXE = require.resolve('axe-core/axe.min.js');
const METRICS_TOKEN = `metrics-${randomUUID()}`;

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function event(contactId: string, firstName: string, lastName: string, newAddress: Record<string, unknown>) {
  return { eventId: `evt-${randomUUID()}`, eventType: 'ContactAddressChanged', contact: { contactId, firstName, lastName }, newAddress };
}

describe('the console: people, inbound failures and needs attention, in Chromium', function () {
  this.timeout(60000);
  const run = randomUUID().slice(0, 8);
  let flow: PeopleFlow;
  let hub: HubProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let token: string;
  let connection: amqp.ChannelModel;
  let channel: amqp.Channel;

  async function api<T = any>(p: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${hub.url}/api/console${p}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`${p} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  function publish(body: unknown): void {
    const content = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    channel.publish(flow.exchange, flow.routingKey, content, { persistent: true, contentType: 'application/json' });
  }

  async function deliveriesOf(key: string): Promise<DeliveryRecord[]> {
    return (await api<{ items: DeliveryRecord[] }>(`/deliveries?key=${encodeURIComponent(key)}`)).items;
  }

  /** No WCAG 2.2 A/AA violation on the page as it is now (axe-core). */
  async function accessible(what: string): Promise<void> {
    if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const result = await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
      return result.violations.map((v: any) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).slice(0, 5).join('; ')})`);
    });
    assert.deepStrictEqual(violations, [], `${what}: axe found WCAG violations`);
  }

  async function screenshot(name: string): Promise<void> {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function reason(text: string): Promise<void> {
    await page.fill('#action-reason', text);
  }

  before(async () => {
    flow = writePeopleFlow(run);
    // Samples every second, and an alert as soon as a target fails with nothing delivered.
    hub = await startHubProcess({ flowFile: flow.file, env: { RABBITMQ_URL, HUB_METRICS_TOKEN: METRICS_TOKEN, HUB_RESPONSE_TIMES_SAMPLE_SECONDS: '1', HUB_ALERT_FAILING_MINUTES: '0' } });
    token = await login(hub.url, 'support', PASSWORD);
    connection = await amqp.connect(RABBITMQ_URL, { heartbeat: 5 });
    channel = await connection.createChannel();
    // The hub declares its queue and exchange once its flow runs.
    await waitFor('the hub to declare its queue', async () => {
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      try {
        await probe.checkQueue(flow.queue);
        await probe.close();
        return true;
      } catch {
        return false;
      }
    });
    browser = await launchChromium();
    // axe-core is put on the page by the test: the console's CSP (rightly) refuses it otherwise.
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    await page.goto(`${hub.url}/console`);
    await page.waitForSelector('#login:not([hidden])');
    await accessible('the login page');
    await screenshot('login');
    await page.fill('#login-username', 'support');
    await page.fill('#login-password', PASSWORD);
    await page.press('#login-password', 'Enter');
    await page.waitForSelector('#console:not([hidden])');
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && hub) console.log(`hub output:\n${hub.output().slice(-4000)}`);
  });

  after(async () => {
    await browser?.close();
    await hub?.stop();
    if (channel) {
      await channel.deleteQueue(flow.queue).catch(() => undefined);
      await channel.deleteQueue(`${flow.queue}.dead-letter`).catch(() => undefined);
      await channel.deleteExchange(`${flow.queue}.dead-letter`).catch(() => undefined);
      await channel.deleteExchange(flow.exchange).catch(() => undefined);
    }
    await connection?.close().catch(() => undefined);
  });

  it('finds a person by name and shows their picture: each change with its deliveries, what each system holds', async () => {
    publish(event('CP0001', 'Alys', 'Pritchard', { line1: '14 High Street', town: 'Cardiff', postcode: 'CF10 1EP' }));
    await waitFor('the change delivered to planning', async () => (await deliveriesOf('CP0001')).find((d) => d.target === 'planning' && d.status === 'delivered'));

    // Keyboard only: type, Enter, Tab to the person found, Enter.
    await page.focus('#person-q');
    await page.keyboard.type('Pritchard');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#person-results button[data-person="CP0001"]');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.strictEqual(await page.evaluate(() => document.activeElement?.getAttribute('data-person')), 'CP0001');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#person:not([hidden])');
    assert.match(await page.textContent('#person-title') ?? '', /Alys Pritchard \(CP0001\)/);
    const timeline = (await page.textContent('#person-timeline')) ?? '';
    assert.match(timeline, /crm/);
    assert.match(timeline, /planning\s*delivered/);
    // This hub has no CRM_WSDL: the page says why it cannot show what each system holds.
    assert.match((await page.textContent('#person-systems')) ?? '', /CRM_WSDL is not set/);
    // The same person is found by their contact id and by the postcode they moved to.
    const byId = await api<{ people: Array<{ contactId: string }> }>('/people?q=CP0001');
    assert.ok(byId.people.some((p) => p.contactId === 'CP0001'));
    const byPostcode = await api<{ people: Array<{ contactId: string }> }>(`/people?q=${encodeURIComponent('CF10 1EP')}`);
    assert.ok(byPostcode.people.some((p) => p.contactId === 'CP0001'));
    // A malformed request gets a clear answer.
    const bad = await fetch(`${hub.url}/api/console/people/not%20an%20id`, { headers: { authorization: `Bearer ${token}` } });
    assert.strictEqual(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /is not a CRM contact id/);
    // The person page's read is in the access log, the person named by contact id (the DPO's view).
    const dpoToken = await login(hub.url, 'dpo', PASSWORD);
    const log = await fetch(`${hub.url}/api/console/dpo/access-log?subject=CP0001`, { headers: { authorization: `Bearer ${dpoToken}` } });
    assert.strictEqual(log.status, 200);
    const entries = ((await log.json()) as { items: Array<{ actor: string; what: string }> }).items;
    assert.ok(entries.some((e) => e.actor === 'support' && e.what === 'person page CP0001'), JSON.stringify(entries));
    // Every malformed request gets a clear answer in JSON.
    const answer = async (p: string, init: RequestInit = {}) => {
      const res = await fetch(`${hub.url}/api/console${p}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
      return { status: res.status, error: ((await res.json()) as { error: string }).error };
    };
    assert.deepStrictEqual(await answer('/people'), { status: 400, error: "search with ?q= a name, CRM contact id, UPRN, postcode or any system's id" });
    assert.strictEqual((await answer('/people/CZZZZ9')).status, 404);
    const notJson = await answer('/deliveries/x/resolve', { method: 'POST', body: '{"reason": ' });
    assert.strictEqual(notJson.status, 400);
    assert.deepStrictEqual(await answer('/deliveries/x/resolve', { method: 'POST', body: JSON.stringify({ reason: 'r', candidate: 0, uprn: '1' }) }), { status: 400, error: 'give either "candidate" (its number in the list, from 0) or "uprn"' });
    assert.strictEqual((await answer('/deliveries/nope/resolve', { method: 'POST', body: JSON.stringify({ reason: 'r', candidate: 0 }) })).status, 404);
    assert.deepStrictEqual(await answer('/schemas/person.address.changed/check', { method: 'POST', body: JSON.stringify({}) }), { status: 400, error: 'the body is {"value": <the payload>}' });
    assert.strictEqual((await answer('/schemas/no-such/check', { method: 'POST', body: JSON.stringify({ value: 1 }) })).status, 404);
    await accessible('the person page');
    await screenshot('person');
  });

  it('opens a case from the person page: its timeline as the source sent it and as it went to the CRM', async () => {
    for (const [n, status] of [[1, 'Received'], [2, 'Validated']] as const) {
      const res = await fetch(`${hub.url}/test/people/planning-event`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ eventId: `plan-${run}-${n}`, applicationRef: '26/00042/FUL', status, contactId: 'CP0001' }),
      });
      assert.strictEqual(res.status, 200);
    }
    await waitFor('both updates on the case', async () => (await deliveriesOf('planning:26/00042/FUL')).filter((d) => d.status === 'delivered').length === 2);
    await page.click('#person-close');
    await page.fill('#person-q', 'CP0001');
    await page.press('#person-q', 'Enter');
    await page.click('#person-results button[data-person="CP0001"]');
    await page.waitForSelector('#person-cases button[data-case="planning:26/00042/FUL"]');
    await page.click('#person-cases button[data-case="planning:26/00042/FUL"]');
    await page.waitForSelector('#case:not([hidden])');
    assert.match((await page.textContent('#case-title')) ?? '', /Case planning:26\/00042\/FUL/);
    const timeline = (await page.textContent('#case-timeline')) ?? '';
    assert.strictEqual((timeline.match(/crm\s*delivered/g) ?? []).length, 2);
    assert.match((await page.textContent('#case-summary')) ?? '', /CP0001/);
    // This hub has no CRM_WSDL: the CRM's own copy of the case cannot be shown, and the page says why.
    assert.match((await page.textContent('#case-crm-note')) ?? '', /CRM_WSDL is not set/);
    await accessible('the case page');
    await screenshot('case');
    const missing = await fetch(`${hub.url}/api/console/cases/${encodeURIComponent('planning:none')}`, { headers: { authorization: `Bearer ${token}` } });
    assert.strictEqual(missing.status, 404);
  });

  it('shows a dead-lettered AMQP message with its reason and raw content, and resubmits an edited copy that is delivered', async () => {
    publish(Buffer.from('{"eventId": "evt-broken", "contact": {"contactId": "CP0002"'));
    const failure = await waitFor('the dead letter in the inbound failures', async () =>
      (await api<{ items: Array<{ deliveryId: string; kind: string; reason: string; content: unknown }> }>('/inbound-failures')).items.find((f) => String(f.content).includes('evt-broken')));
    assert.strictEqual(failure.kind, 'AMQP message dead-lettered');
    assert.match(failure.reason, /not valid JSON/);
    // RabbitMQ's dead-letter queue keeps its own copy.
    assert.ok((await channel.checkQueue(`${flow.queue}.dead-letter`)).messageCount >= 1);

    await page.click('#refresh');
    await page.waitForFunction(() => /not valid JSON/.test(document.querySelector('#inbound')?.textContent ?? ''));
    assert.match((await page.textContent('#inbound')) ?? '', /evt-broken/);
    await accessible('the inbound failures');
    await screenshot('inbound-failures-amqp');
    await page.click(`#inbound button[data-open="${failure.deliveryId}"]`);
    await page.waitForFunction((id) => document.querySelector('#detail-summary')?.textContent?.includes(id), failure.deliveryId);
    const fixed = event('CP0002', 'Bryn', 'Howells', { line1: '4 Church Road', town: 'Cardiff', postcode: 'CF14 2DX' });
    await page.fill('#edited-payload', JSON.stringify(fixed, null, 2));
    await reason('the CRM sent a cut-short event; completed from the CRM record INC-42');
    await page.click('#replay-edited');
    await page.waitForSelector('#action-result:not([hidden])');

    const delivered = await waitFor('the resubmitted change delivered to planning', async () => (await deliveriesOf('CP0002')).find((d) => d.target === 'planning' && d.status === 'delivered'));
    const message = (await api<{ message: MessageRecord }>(`/messages/${delivered.messageId}`)).message;
    assert.strictEqual(message.source, 'crm');
    assert.strictEqual(message.sourceMessageId, fixed.eventId);
    const original = await api<{ delivery: DeliveryRecord; audit: AuditRecord[] }>(`/deliveries/${failure.deliveryId}`);
    assert.strictEqual(original.delivery.status, 'superseded');
    assert.ok(original.audit.some((a) => a.action === 'replay-edited' && a.actor === 'support'));
    const open = (await api<{ items: Array<{ deliveryId: string }> }>('/inbound-failures')).items;
    assert.ok(!open.some((f) => f.deliveryId === failure.deliveryId), 'the resubmitted dead letter is no longer listed');
  });

  it('resolves an address the gazetteer could not resolve by picking a candidate, and the change is delivered', async () => {
    // 12 High Street is two flats: the gazetteer asks a person.
    publish(event('CP0003', 'Ceri', 'Lloyd', { line1: '12 High Street', town: 'Cardiff', postcode: 'CF10 1EP' }));
    const attention = await waitFor('the address check needing attention', async () => (await deliveriesOf('CP0003')).find((d) => d.target === 'gazetteer' && d.status === 'needs-attention'));
    assert.ok(Array.isArray(attention.candidates) && (attention.candidates as unknown[]).length >= 2);
    assert.match(attention.reason ?? '', /newAddress/);

    await page.evaluate((id) => (location.hash = `#delivery=${id}`), attention.id);
    await page.waitForSelector('#resolve:not([hidden])');
    const labels = await page.$$eval('#resolve-candidates label', (ls) => ls.map((l) => l.textContent ?? ''));
    const flat2 = labels.findIndex((l) => /FLAT 2/.test(l));
    assert.ok(flat2 >= 0, `candidates shown: ${labels.join(' | ')}`);
    await accessible('a delivery needing attention');
    await screenshot('needs-attention');
    // Keyboard only: the candidate is chosen with the space bar.
    await page.focus(`#resolve-choice-${flat2}`);
    await page.keyboard.press('Space');
    assert.ok(await page.isChecked(`#resolve-choice-${flat2}`));
    await reason('Ms Lloyd confirmed flat 2 on the phone');
    await page.click('#resolve-submit');
    await page.waitForSelector('#action-result:not([hidden])');

    const delivered = await waitFor('the change delivered to planning', async () => (await deliveriesOf('CP0003')).find((d) => d.target === 'planning' && d.status === 'delivered'));
    const { message } = await api<{ message: MessageRecord }>(`/messages/${delivered.messageId}`);
    assert.strictEqual((message.payload as any).newAddress.uprn, '100023336958');
    const { delivery } = await api<{ delivery: DeliveryRecord }>(`/deliveries/${attention.id}`);
    assert.strictEqual(delivery.status, 'superseded');
    // A UPRN typed that is not one, or a choice out of range, gets a clear 400.
    const wrong = await fetch(`${hub.url}/api/console/deliveries/${attention.id}/resolve`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'x', uprn: 'ABC' }),
    });
    assert.strictEqual(wrong.status, 400);
    assert.match(((await wrong.json()) as { error: string }).error, /not a UPRN/);
  });

  it('lists a refused payment file with its reason', async () => {
    const name = `PAY-${run}-bad.csv`;
    const res = await fetch(`${hub.url}/test/people/payment-file?name=${name}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'this is not,a payment file\n' });
    assert.strictEqual(res.status, 200);
    const failure = await waitFor('the refused file in the inbound failures', async () =>
      (await api<{ items: Array<{ kind: string; reason: string; sourceMessageId: string }> }>('/inbound-failures')).items.find((f) => f.reason?.includes(name)));
    assert.match(failure.kind, /payment file refused/);
    await page.click('#refresh');
    await page.waitForFunction((n) => document.querySelector('#inbound')?.textContent?.includes(n), name);
    const row = (await page.textContent('#inbound')) ?? '';
    assert.match(row, /refused whole, nothing posted/);
    await accessible('the inbound failures with a payment file');
    await screenshot('inbound-failures-payment-file');
  });

  it('lists a faulty Revenues ack file with its reason and content', async () => {
    const name = 'ADDR_20261202093000_0001.ack.csv';
    const res = await fetch(`${hub.url}/test/people/revenues-ack?name=${name}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'request_id;outcome\nR1;MAYBE\n' });
    assert.strictEqual(res.status, 200);
    const failure = await waitFor('the faulty ack file in the inbound failures', async () =>
      (await api<{ items: Array<{ kind: string; reason: string; content: unknown }> }>('/inbound-failures')).items.find((f) => f.kind.startsWith('Revenues ack file')));
    assert.match(failure.reason, /header must be request_id,outcome,reason/);
    assert.strictEqual(failure.content, 'request_id;outcome\nR1;MAYBE\n');
  });

  it('lists a SOAP request refused with a fault, to be read and discarded (not resubmitted)', async () => {
    const res = await fetch(`${hub.url}/soap/test-contact-events`, { method: 'POST', headers: { 'content-type': 'text/xml', soapaction: 'x' }, body: '<not-soap>refused-marker</not-soap>' });
    assert.strictEqual(res.status, 500);
    assert.match(await res.text(), /faultcode/);
    const failure = await waitFor('the refused SOAP request in the inbound failures', async () =>
      (await api<{ items: Array<{ deliveryId: string; kind: string; reason: string; content: unknown }> }>('/inbound-failures')).items.find((f) => String(f.content).includes('refused-marker')));
    assert.strictEqual(failure.kind, 'SOAP request refused');
    assert.match(failure.reason, /refused with a fault/);
    await page.click('#refresh');
    await page.waitForFunction(() => document.querySelector('#inbound')?.textContent?.includes('refused-marker'));
    await page.click(`#inbound button[data-open="${failure.deliveryId}"]`);
    await page.waitForFunction((id) => document.querySelector('#detail-summary')?.textContent?.includes(id), failure.deliveryId);
    assert.ok(await page.isDisabled('#replay-edited'));
    await reason('a test call from the CRM supplier, not an event');
    await page.click('#discard');
    await waitFor('the refusal discarded', async () => (await api<{ delivery: DeliveryRecord }>(`/deliveries/${failure.deliveryId}`)).delivery.status === 'discarded');
  });

  it('updates the inbound failures live, without a reload (server-sent events)', async () => {
    await page.waitForSelector('body[data-live="on"]');
    publish(Buffer.from('not json at all: live-marker'));
    // No click on Refresh: the page hears the counts change and reloads its lists.
    await page.waitForFunction(() => document.querySelector('#inbound')?.textContent?.includes('live-marker'), undefined, { timeout: 15000 });
  });

  it('shows response times per system and an alert when a target has been failing, and a group replay shows its progress', async () => {
    publish(event('CP0006', 'Dai', 'Unreachable', { line1: '4 Church Road', town: 'Cardiff', postcode: 'CF14 2DX' }));
    await waitFor('the planning delivery dead', async () => (await deliveriesOf('CP0006')).find((d) => d.target === 'planning' && d.status === 'dead'));
    const times = await waitFor('an alert for planning', async () => {
      const r = await api<{ targets: Array<{ target: string; alert?: string; samples: Array<{ delivered: number; failed: number; meanSeconds?: number }> }> }>('/response-times');
      return r.targets.find((t) => t.target === 'planning' && t.alert);
    });
    assert.match(times.alert!, /planning has been failing/);
    assert.ok(times.samples.some((s) => s.delivered > 0 && typeof s.meanSeconds === 'number'), 'earlier deliveries have their latency');
    assert.ok(times.samples.some((s) => s.failed > 0));

    await page.click('#refresh');
    await page.waitForFunction(() => /planning has been failing/.test(document.querySelector('#alerts')?.textContent ?? ''));
    assert.ok(await page.$('#times figure[data-target="planning"] canvas[role="img"]'));

    await page.fill('#bulk-reason', 'planning says it is back INC-77');
    await page.click('#groups button[data-target="planning"]');
    await page.waitForFunction(() => /Finished: replay of the group planning/.test(document.querySelector('#progress')?.textContent ?? ''));
    await accessible('response times, alert and progress');
    await screenshot('response-times');
  });

  it('edits a payload in a form generated from its JSON Schema: a date of birth added, checked, the change shown, replayed', async () => {
    const canonical = {
      eventType: 'person.address.changed', eventId: `evt-${randomUUID()}`, occurredAt: '2026-12-02T09:30:00Z', source: { system: 'crm', channel: 'ContactCentre' },
      person: { forename: 'Eira', surname: 'Unreachable', ids: { crmContactId: 'CP0007' } },
      previousAddress: { lines: ['4 Church Road'], town: 'Cardiff', postcode: 'CF14 2DX' },
      newAddress: { lines: ['14 High Street'], town: 'Cardiff', postcode: 'CF10 1EP' },
      effectiveDate: '2026-12-01',
    };
    publish(canonical);
    const dead = await waitFor('the planning delivery dead', async () => (await deliveriesOf('CP0007')).find((d) => d.target === 'planning' && d.status === 'dead'));
    await page.evaluate((id) => (location.hash = `#delivery=${id}`), dead.id);
    await page.waitForSelector('#edit-form-block:not([hidden])');
    assert.match((await page.textContent('#edit-form-about')) ?? '', /person\.address\.changed\.unresolved/);
    const dob = page.locator('#edit-form label', { hasText: 'Date of birth' });
    const input = page.locator(`#${await dob.getAttribute('for')}`);
    assert.strictEqual(await input.getAttribute('type'), 'date');
    await input.fill('1980-02-03');
    await page.waitForFunction(() => /person\.dateOfBirth: \(none\) → "1980-02-03"/.test(document.querySelector('#edit-form-changes')?.textContent ?? ''));
    await page.click('#edit-form-check');
    await page.waitForFunction(() => /It matches the schema/.test(document.querySelector('#edit-form-changes')?.textContent ?? ''));
    assert.strictEqual(JSON.parse(await page.inputValue('#edited-payload')).person.dateOfBirth, '1980-02-03');
    await accessible('the edit form');
    await screenshot('edit-form');
    await reason('Revenues needs the date of birth; given by Ms Unreachable INC-88');
    await page.click('#replay-edited');
    await page.waitForSelector('#action-result:not([hidden])');
    const copy = await waitFor('the edited copy', async () => (await api<{ items: MessageRecord[] }>(`/messages?key=CP0007`)).items.find((m) => m.editedFrom));
    assert.strictEqual((copy.payload as any).person.dateOfBirth, '1980-02-03');
    // A value the schema refuses is named, field by field.
    const check = await api<{ valid: boolean; problems: Array<{ instancePath: string }> }>('/schemas/person.address.changed.unresolved/check', { method: 'POST', body: JSON.stringify({ value: { ...canonical, person: { ...canonical.person, dateOfBirth: 'soon' } } }) });
    assert.strictEqual(check.valid, false);
    assert.ok(check.problems.some((p) => p.instancePath === '/person/dateOfBirth'));
  });

  it('serves /metrics only with the bearer token when HUB_METRICS_TOKEN is set', async () => {
    const without = await fetch(`${hub.url}/metrics`);
    assert.strictEqual(without.status, 401);
    const wrong = await fetch(`${hub.url}/metrics`, { headers: { authorization: 'Bearer wrong' } });
    assert.strictEqual(wrong.status, 401);
    const right = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.strictEqual(right.status, 200);
    assert.match(await right.text(), /councilhub_delivery_latency_seconds_bucket\{[^}]*target="planning"/);
  });
});
