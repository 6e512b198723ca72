import assert from 'assert';
import type { Browser, Page } from 'playwright-core';
import { startHubProcess, login, HubProcess } from '../support/hub-process';
import { launchChromium } from '../support/browser';
import type { AuditRecord, DeliveryRecord } from '../../hub/journal/types';
import { writeConsoleFlow } from './console-flow';

/**
 * The support officer's console in Debian's Chromium, against a real hub process running a
 * flow whose deliveries fail (tests/console/console-flow.ts). What the page shows is checked
 * on the page; what it did is checked again through the console API.
 */
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

const PASSWORD = 'council-hub-demo';
const XSS_ADDRESS = `<script>window.__xss = 'script'</script><img src="x" onerror="window.__xss = 'img'"> REJECT`;

describe('the support console in Chromium', function () {
  this.timeout(60000);
  let hub: HubProcess;
  let browser: Browser;
  let page: Page;
  let token: string;
  let events = 0;

  async function api<T = any>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${hub.url}/api/console${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** A change of address for a person, through the flow's HTTP inbound; resolves once stored. */
  async function send(personId: string, address: string): Promise<string> {
    events += 1;
    const res = await fetch(`${hub.url}/test/console/change`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ eventId: `evt-${events}`, personId, address }),
    });
    assert.strictEqual(res.status, 200, await res.clone().text());
    return res.text();
  }

  async function planningDown(down: boolean): Promise<void> {
    const res = await fetch(`${hub.url}/test/console/planning`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ down }) });
    assert.strictEqual(res.status, 200);
  }

  async function deliveriesOf(personId: string): Promise<DeliveryRecord[]> {
    return (await api<{ items: DeliveryRecord[] }>(`/deliveries?key=${encodeURIComponent(personId)}`)).items;
  }

  /** The newest delivery of the person once it has the status (and its journey is stored). */
  async function settled(personId: string, status: DeliveryRecord['status']): Promise<DeliveryRecord> {
    return waitFor(`a ${status} delivery for ${personId}`, async () => {
      const d = (await deliveriesOf(personId)).find((x) => x.status === status);
      if (!d) return undefined;
      const { journey } = await api<{ journey: unknown[] }>(`/messages/${d.messageId}`);
      return journey.length >= 3 && d;
    });
  }

  async function openRow(deliveryId: string): Promise<void> {
    await page.click(`#deliveries tr[data-delivery-id="${deliveryId}"]`);
    await page.waitForFunction((id) => document.querySelector('#detail-summary')?.textContent?.includes(id), deliveryId);
  }

  /** Waits until the list shows exactly these deliveries (in any order). */
  async function listShows(ids: string[]): Promise<void> {
    const want = [...ids].sort().join(',');
    await page.waitForFunction(
      (expected) => Array.from(document.querySelectorAll('#deliveries tbody tr[data-delivery-id]')).map((r) => r.getAttribute('data-delivery-id')).sort().join(',') === expected,
      want,
    );
  }

  let toFix: DeliveryRecord;
  let toDiscard: DeliveryRecord;
  let hostile: DeliveryRecord;

  before(async () => {
    hub = await startHubProcess({ flowFile: writeConsoleFlow() });
    token = await login(hub.url, 'support', PASSWORD);
    await send('P-FIX', 'REJECT 1 High Street');
    await send('P-DISCARD', 'REJECT 2 Low Road');
    await send('P-XSS', XSS_ADDRESS);
    [toFix, toDiscard, hostile] = await Promise.all([settled('P-FIX', 'dead'), settled('P-DISCARD', 'dead'), settled('P-XSS', 'dead')]);
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterEach(function () {
    // A failure is easier to read with what the hub said (and whether it is still running).
    if (this.currentTest?.state === 'failed' && hub) {
      console.log(`hub exit code: ${hub.child.exitCode} signal: ${hub.child.signalCode}\nhub output:\n${hub.output().slice(-4000)}`);
    }
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('serves the page with a Content-Security-Policy that forbids inline script, and asks for a login', async () => {
    const response = await page.goto(`${hub.url}/console`);
    assert.strictEqual(response?.status(), 200);
    const csp = response!.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /default-src 'none'/);
    await page.waitForSelector('#login-form', { state: 'visible' });
    assert.strictEqual(await page.isVisible('#console'), false);
    // Its files are the hub's own; anything else under /console is a plain 404.
    const script = await fetch(`${hub.url}/console/console.js`);
    assert.strictEqual(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /javascript/);
    assert.strictEqual(script.headers.get('x-content-type-options'), 'nosniff');
    const missing = await fetch(`${hub.url}/console/../console/no-such-file.js`);
    assert.strictEqual(missing.status, 404);
    assert.strictEqual((await fetch(`${hub.url}/console/`)).status, 200);
  });

  it('refuses a wrong password with a clear message, then lets support staff in', async () => {
    await page.fill('#login-username', 'support');
    await page.fill('#login-password', 'not-the-password');
    await page.click('#login-submit');
    await page.waitForSelector('#login-error', { state: 'visible' });
    assert.strictEqual(await page.textContent('#login-error'), 'Wrong username or password.');
    assert.strictEqual(await page.isVisible('#console'), false);

    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#console', { state: 'visible' });
    assert.strictEqual(await page.textContent('#username-shown'), 'support');
    assert.ok(await page.evaluate(() => Boolean(sessionStorage.getItem('council-hub.console.token'))), 'the token is kept for the session');
  });

  it('shows counts per target and status, and lists the failed deliveries with their errors', async () => {
    await page.waitForSelector(`#deliveries tr[data-delivery-id="${toFix.id}"]`);
    assert.strictEqual(await page.textContent('#counts button[data-target="planning"][data-status="dead"]'), '3');
    const row = await page.textContent(`#deliveries tr[data-delivery-id="${toFix.id}"]`);
    assert.match(row!, /dead/);
    assert.match(row!, /P-FIX/);
    assert.match(row!, /InvalidAddress: planning refused the address REJECT 1 High Street/);
    // The default filter is the failures: failed, dead, needs-attention.
    const ticked = await page.$$eval('#status-choices input:checked', (els) => els.map((e) => (e as HTMLInputElement).value));
    assert.deepStrictEqual(ticked, ['failed', 'dead', 'needs-attention']);
  });

  it('filters by key and text', async () => {
    await page.fill('#filter-key', 'P-DISCARD');
    await page.click('#filter-apply');
    await listShows([toDiscard.id]);
    await page.fill('#filter-key', '');
    await page.fill('#filter-text', 'high street');
    await page.click('#filter-apply');
    await listShows([toFix.id]);
    await page.click('#filter-reset');
    await listShows([toFix.id, toDiscard.id, hostile.id]);
  });

  it('opens a delivery: payload, error with its classification and failed node, journey', async () => {
    await openRow(toFix.id);
    assert.match((await page.textContent('#detail-payload'))!, /"address": "REJECT 1 High Street"/);
    const error = (await page.textContent('#detail-error'))!;
    assert.match(error, /InvalidAddress: planning refused the address/);
    assert.match(error, /permanent: not retried/);
    assert.match(error, /send to planning \(function\) id send/);
    const journey = await page.$$eval('#detail-journey tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
    assert.ok(journey.length >= 3, `the journey has its hops: ${journey.join(' | ')}`);
    assert.ok(journey.some((h) => /to planning \(d\)/.test(h)), 'the delivery node is a hop');
    assert.ok(journey.some((h) => /send to planning/.test(h) && /InvalidAddress/.test(h)), 'the failing hop shows its error');
    assert.ok(journey.every((h) => /\d+ ms/.test(h)), 'every hop has its timing');
    assert.match((await page.textContent('#detail-audit'))!, /Nobody has replayed or discarded this yet/);
  });

  it('refuses an edited copy that is not JSON in the page, and sends nothing', async () => {
    await page.fill('#action-reason', 'resident gave the right address');
    await page.fill('#edited-payload', '{"personId": "P-FIX", "address": "1 High Street",');
    await page.click('#replay-edited');
    await page.waitForSelector('#action-error', { state: 'visible' });
    assert.match((await page.textContent('#action-error'))!, /The edited payload is not valid JSON .*Nothing was sent/);
    const { delivery, audit } = await api<{ delivery: DeliveryRecord; audit: AuditRecord[] }>(`/deliveries/${toFix.id}`);
    assert.strictEqual(delivery.status, 'dead');
    assert.deepStrictEqual(audit, []);
  });

  it('asks for a reason before replaying', async () => {
    await page.fill('#action-reason', '');
    await page.click('#replay-failed-node');
    assert.match((await page.textContent('#action-error'))!, /Give a reason first/);
    assert.strictEqual((await api<{ delivery: DeliveryRecord }>(`/deliveries/${toFix.id}`)).delivery.status, 'dead');
  });

  it('replays an edited copy that is delivered, and audits it', async () => {
    // Choosing where to run from loads that payload into the box again (the bad edit goes).
    await page.check('input[name="edit-from"][value="start"]');
    await page.check('input[name="edit-from"][value="failed-node"]');
    const edited = (await page.inputValue('#edited-payload')).replace('REJECT 1 High Street', '1 High Street');
    assert.match(edited, /"address": "1 High Street"/);
    await page.fill('#edited-payload', edited);
    await page.fill('#action-reason', 'resident gave the right address on the phone');
    await page.click('#replay-edited');
    await page.waitForSelector('#action-result', { state: 'visible' });
    assert.match((await page.textContent('#action-result'))!, /The edited copy is running/);
    const runs = await page.getAttribute('#action-result button[data-open]', 'data-open');
    assert.ok(runs && runs !== toFix.id, 'the copy runs as a new delivery');

    // Checked through the API: the copy was delivered, the original is superseded by it.
    const copy = await waitFor('the edited copy delivered', async () => {
      const d = (await deliveriesOf('P-FIX')).find((x) => x.id === runs);
      return d?.status === 'delivered' && d;
    });
    const original = await api<{ delivery: DeliveryRecord; message: any; audit: AuditRecord[] }>(`/deliveries/${toFix.id}`);
    assert.strictEqual(original.delivery.status, 'superseded');
    assert.strictEqual(original.message.resolvedBy.actor, 'support');
    assert.strictEqual(original.audit[0].action, 'replay-edited');
    assert.strictEqual(original.audit[0].actor, 'support');
    const { message } = await api<{ message: any }>(`/messages/${copy.messageId}`);
    assert.strictEqual(message.payload.address, '1 High Street');
    assert.strictEqual(message.editedFrom, toFix.messageId);

    // On the page: the original's audit trail, and the copy's delivery shown as delivered.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#detail-audit td')).some((td) => td.textContent === 'replay-edited'));
    const audit = (await page.textContent('#detail-audit'))!;
    assert.match(audit, /support/);
    assert.match(audit, /replay-edited/);
    assert.match(audit, /resident gave the right address on the phone/);
    await page.click('#action-result button[data-open]');
    await page.waitForFunction((id) => document.querySelector('#detail-summary')?.textContent?.includes(id) && document.querySelector('#detail-summary .status')?.textContent === 'delivered', runs);
    assert.match((await page.textContent('#detail-message'))!, new RegExp(`edited copy of${toFix.messageId}`));
  });

  it('discards a delivery with a reason, audited with the support officer\'s name', async () => {
    await page.click('#refresh');
    await page.waitForSelector(`#deliveries tr[data-delivery-id="${toDiscard.id}"]`);
    await openRow(toDiscard.id);
    await page.fill('#action-reason', 'resident moved abroad; the planning case is closed');
    await page.click('#discard');
    await page.waitForSelector('#action-result', { state: 'visible' });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#detail-audit td')).some((td) => td.textContent === 'discard'));
    const audit = (await page.textContent('#detail-audit'))!;
    assert.match(audit, /support/);
    assert.match(audit, /resident moved abroad; the planning case is closed/);
    assert.match((await page.textContent('#detail-summary .status'))!, /discarded/);
    assert.ok(await page.isDisabled('#discard'), 'a discarded delivery cannot be discarded again');

    const { items } = await api<{ items: AuditRecord[] }>(`/audit?deliveryId=${encodeURIComponent(toDiscard.id)}`);
    assert.strictEqual(items.length, 1);
    assert.strictEqual(items[0].action, 'discard');
    assert.strictEqual(items[0].actor, 'support');
    assert.strictEqual(items[0].reason, 'resident moved abroad; the planning case is closed');
    assert.strictEqual(items[0].detail?.previousStatus, 'dead');
    assert.strictEqual((await api<{ delivery: DeliveryRecord }>(`/deliveries/${toDiscard.id}`)).delivery.status, 'discarded');
  });

  it('shows the API\'s own message when it refuses a replay', async () => {
    // A newer change for the same person is delivered: replaying the old one would overwrite it.
    await send('P-DISCARD', '3 New Road');
    await settled('P-DISCARD', 'delivered');
    await page.fill('#action-reason', 'try the old address again');
    await page.click('#replay-failed-node');
    await page.waitForSelector('#action-error', { state: 'visible' });
    assert.match((await page.textContent('#action-error'))!, /^The hub refused: a newer change for planning P-DISCARD .* exists/);
    assert.strictEqual((await api<{ delivery: DeliveryRecord }>(`/deliveries/${toDiscard.id}`)).delivery.status, 'discarded');
  });

  it('renders a hostile payload as text: no script runs, no element is made from it', async () => {
    await page.click('#refresh');
    await page.waitForSelector(`#deliveries tr[data-delivery-id="${hostile.id}"]`);
    await openRow(hostile.id);
    assert.match((await page.textContent('#detail-payload'))!, /<script>window.__xss = 'script'<\/script><img src=\\"x\\" onerror=\\"window.__xss = 'img'\\"> REJECT/);
    assert.ok((await page.textContent(`#deliveries tr[data-delivery-id="${hostile.id}"]`))!.includes(XSS_ADDRESS), 'the error in the list shows the address as text');
    assert.ok((await page.textContent('#detail-error'))!.includes(XSS_ADDRESS), 'the error in the detail shows the address as text');
    assert.ok((await page.inputValue('#edited-payload')).includes(JSON.stringify(XSS_ADDRESS)), 'the edit box holds the text, as JSON');
    const made = await page.evaluate(() => ({
      xss: (window as any).__xss,
      images: document.querySelectorAll('img').length,
      scripts: Array.from(document.querySelectorAll('script')).map((s) => s.getAttribute('src')),
    }));
    assert.deepStrictEqual(made, { xss: undefined, images: 0, scripts: ['/console/console.js'] });
  });

  it('replays a failure group once the target system is back', async () => {
    await planningDown(true);
    await send('P-GROUP-1', '4 Mill Lane');
    await send('P-GROUP-2', '5 Mill Lane');
    const [first, second] = await Promise.all([settled('P-GROUP-1', 'dead'), settled('P-GROUP-2', 'dead')]);
    assert.strictEqual(first.lastError?.code, 'PlanningUnavailable');
    await page.click('#refresh');
    const group = '#groups button[data-target="planning"][data-error="PlanningUnavailable"]';
    await page.waitForSelector(group);
    assert.match((await page.textContent('#groups'))!, /PlanningUnavailable\s*2/);

    await page.click(group);
    assert.match((await page.textContent('#notice'))!, /Give a reason/);
    await planningDown(false);
    await page.fill('#bulk-reason', 'planning back after outage INC-4711');
    await page.click(group);
    await page.waitForFunction(() => /2 replayed, 0 refused/.test(document.querySelector('#notice')?.textContent ?? ''));
    await Promise.all([settled('P-GROUP-1', 'delivered'), settled('P-GROUP-2', 'delivered')]);
    for (const d of [first, second]) {
      const { items } = await api<{ items: AuditRecord[] }>(`/audit?deliveryId=${encodeURIComponent(d.id)}`);
      assert.deepStrictEqual(items.map((a) => [a.action, a.actor, a.reason]), [['replay', 'support', 'planning back after outage INC-4711']]);
    }
  });

  it('asks for the login again when the hub no longer accepts the token', async () => {
    await page.evaluate(() => sessionStorage.setItem('council-hub.console.token', 'no-longer-valid'));
    await page.click('#refresh');
    await page.waitForSelector('#login-form', { state: 'visible' });
    assert.match((await page.textContent('#login-error'))!, /log in again/);
    assert.strictEqual(await page.isVisible('#console'), false);
  });

  it('logs out: the token is revoked at the hub', async () => {
    await page.fill('#login-username', 'support');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-submit');
    await page.waitForSelector('#console', { state: 'visible' });
    const old = await page.evaluate(() => sessionStorage.getItem('council-hub.console.token'));
    assert.strictEqual((await fetch(`${hub.url}/api/console/counts`, { headers: { authorization: `Bearer ${old}` } })).status, 200);
    await page.click('#logout');
    await page.waitForSelector('#login-form', { state: 'visible' });
    assert.strictEqual(await page.textContent('#login-error'), 'You have logged out.');
    assert.strictEqual(await page.evaluate(() => sessionStorage.getItem('council-hub.console.token')), null);
    await waitFor('the old token refused', async () => (await fetch(`${hub.url}/api/console/counts`, { headers: { authorization: `Bearer ${old}` } })).status === 401);
  });
});
