import assert from 'assert';
import type { Browser, Page } from 'playwright-core';
import { startHubProcess, HubProcess } from '../support/hub-process';
import { launchChromium } from '../support/browser';

/**
 * The integration developer's view: the editor in a real Chromium, logged in, with the hub's
 * palette and every flow node configured (no node the editor flags as invalid or unknown).
 */
describe('the flow editor in Chromium', function () {
  this.timeout(90000);
  let hub: HubProcess;
  let browser: Browser;
  let page: Page;

  before(async () => {
    hub = await startHubProcess();
    browser = await launchChromium();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('asks for a login, refuses a wrong password, and opens the editor for a developer', async () => {
    await page.goto(`${hub.url}/`);
    await page.waitForSelector('#node-dialog-login-username', { timeout: 30000 });
    await page.fill('#node-dialog-login-username', 'developer');
    await page.fill('#node-dialog-login-password', 'wrong-password');
    await page.click('#node-dialog-login-submit');
    await page.waitForSelector('#node-dialog-login-failed', { state: 'visible' });
    await page.fill('#node-dialog-login-password', 'council-hub-demo');
    await page.click('#node-dialog-login-submit');
    // Logged in once the hub's palette and both flows are loaded.
    await page.waitForFunction(
      () => {
        const RED = (window as any).RED;
        let tabs = 0;
        RED?.nodes?.eachWorkspace?.(() => void (tabs += 1));
        return tabs >= 2 && document.querySelectorAll('#red-ui-palette-container-council_hub .red-ui-palette-node').length > 5;
      },
      null,
      { timeout: 30000 },
    );
  });

  it('shows the council hub palette category with the hub nodes', async () => {
    const types = await page.$$eval('#red-ui-palette-container-council_hub .red-ui-palette-node', (els) => els.map((e) => e.getAttribute('data-palette-type')));
    for (const type of ['journal', 'delivery', 'delivery-outcome', 'map', 'gazetteer', 'share', 'person-lookup', 'soap-request', 'soap-in', 'amqp-in', 'revenues-batch']) {
      assert.ok(types.includes(type), `palette has ${type} (has ${types.join(', ')})`);
    }
  });

  it('opens the change-of-address flow with every node known and configured', async () => {
    const report = await page.evaluate(() => {
      const RED = (window as any).RED;
      const all: any[] = [];
      RED.nodes.eachNode((n: any) => void all.push(n));
      RED.nodes.eachConfig((n: any) => void all.push(n));
      let tab: string | undefined;
      RED.nodes.eachWorkspace((w: any) => void (w.id === 'coa.tab' && (tab = w.label)));
      return {
        tab,
        count: all.filter((n) => n.z === 'coa.tab').length,
        problems: all.filter((n) => n.valid === false || n.type === 'unknown' || !RED.nodes.getType(n.type)).map((n) => `${n.id} (${n.type}): ${JSON.stringify(n.validationErrors ?? [])}`),
      };
    });
    assert.strictEqual(report.tab, 'Change of address');
    assert.ok(report.count > 20, `the tab has its nodes (${report.count})`);
    assert.deepStrictEqual(report.problems, []);
  });

  it('shows help for a hub node in the sidebar', async () => {
    const help = await page.evaluate(() => (window as any).RED.nodes.getType('person-lookup') && document.querySelector('script[data-help-name="person-lookup"]')?.textContent);
    assert.match(String(help), /Several candidates/);
  });
});
