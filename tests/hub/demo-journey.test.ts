import assert from 'assert';
import { startHubProcess, login, HubProcess } from '../support/hub-process';

/**
 * `npm start` on a fresh machine: the demo profile starts the simulators in-process and the
 * change-of-address journey runs on them (no broker: the CRM pushes to ContactEventService).
 */
describe('demo profile: the change-of-address journey on the in-process simulators', function () {
  this.timeout(120000);
  let hub: HubProcess;

  before(async () => {
    hub = await startHubProcess({ env: { HUB_SIMULATORS: 'on', HUB_DEMO_PROPERTIES: '3000', RABBITMQ_URL: '', HUB_RETRY_POLL_MS: '200' } });
  });
  after(async () => {
    await hub?.stop();
  });

  it('settles every delivery of the moves the CRM raises', async () => {
    const control = /control (http:\/\/127\.0\.0\.1:\d+\/_control)/.exec(hub.output())?.[1];
    assert.ok(control, `the start-up output names the simulators' control URL:\n${hub.output()}`);
    const moved = await fetch(`${control}/crm/actions/move-contacts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 8 }) });
    assert.strictEqual(moved.status, 200);
    const events = (await moved.json()) as Array<{ eventId: string; contact: { contactId: string } }>;
    assert.strictEqual(events.length, 8);

    const token = await login(hub.url, 'support', 'council-hub-demo');
    const api = async (path: string) => (await fetch(`${hub.url}/api/console${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>;
    let counts: any;
    let messages: any;
    for (let i = 0; i < 120; i++) {
      counts = await api('/counts');
      messages = await api('/messages?source=crm&limit=100');
      const open = ['pending', 'in-flight', 'failed'].reduce((n, s) => n + (counts.byStatus[s] ?? 0), 0);
      const settled = Object.values(counts.byStatus as Record<string, number>).reduce((a, b) => a + b, 0);
      if (messages.total === 8 && open === 0 && settled >= 8 * 3) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.strictEqual(messages.total, 8, 'every CRM event journalled once');
    assert.deepStrictEqual(
      new Set(messages.items.map((m: any) => m.sourceMessageId)),
      new Set(events.map((e) => e.eventId)),
    );
    for (const target of ['planning', 'housing', 'revenues']) {
      const byStatus = counts.byTarget[target] ?? {};
      const total = Object.values(byStatus as Record<string, number>).reduce((a, b) => a + b, 0);
      assert.strictEqual(total, 8, `one ${target} delivery per event: ${JSON.stringify(byStatus)}`);
      assert.ok(!byStatus.pending && !byStatus['in-flight'] && !byStatus.failed, `${target} settled: ${JSON.stringify(byStatus)}`);
    }
    assert.ok((counts.byStatus.delivered ?? 0) > 0, `some changes were delivered: ${JSON.stringify(counts.byStatus)}`);
  });
});
