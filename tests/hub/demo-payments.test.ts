import assert from 'assert';
import { execFile } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { promisify } from 'util';
import { startHubProcess, HubProcess } from '../support/hub-process';
import { detailRecord, headerRecord, trailerRecord, type Payment } from '../../simulators/payments';

const run = promisify(execFile);

/**
 * `npm start` (demo profile), payments: a person drops payment files into the demo's SFTP
 * server with OpenSSH's own sftp client, as the start-up text says, and GOV.UK Pay's
 * simulator calls the webhook; both reach the Finance ledger.
 */
describe("demo profile: payments by OpenSSH's sftp client and by GOV.UK Pay's webhook", function () {
  this.timeout(120000);
  let hub: HubProcess;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-payments-'));

  before(async () => {
    hub = await startHubProcess({ env: { HUB_SIMULATORS: 'on', HUB_DEMO_PROPERTIES: '2000', RABBITMQ_URL: '', HUB_RETRY_POLL_MS: '200' } });
  });
  after(async () => {
    await hub?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const payment = (n: number, amountPence: number): Payment => ({ transactionRef: `DEMO${String(n).padStart(8, '0')}`, date: '2026-12-02', time: '09:30:00', fund: 'CTX', accountRef: 'CTX0000001', amountPence, channel: 'C', authCode: '' });
  const file = (name: string, sequence: number, payments: Payment[], trailerTotal: number) => {
    fs.writeFileSync(path.join(work, name), [headerRecord('2026-12-02', sequence, 'CASHRCPT01'), ...payments.map(detailRecord), trailerRecord(payments.length, trailerTotal)].join('\r\n') + '\r\n');
  };
  async function finance(control: string) {
    return (await (await fetch(`${control}/finance/state`)).json()) as { postings: Array<{ journalRef: string }> };
  }
  async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < 120; i++) {
      const value = await check();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('posts a good file dropped with sftp and rejects a broken one whole, with its reason', async () => {
    const line = /drop a payment file: .*\| (sftp -b - -P (\d+) -i (\S+) (\S+)@(\S+))/.exec(hub.output());
    assert.ok(line, `the start-up text says how to drop a file:\n${hub.output()}`);
    const [, , port, key, user, host] = line;
    file('PAY_20261202_101.txt', 101, [payment(1, 1250), payment(2, 2599)], 3849);
    file('PAY_20261202_102.txt', 102, [payment(3, 1000)], 1001);
    const batch = ['PAY_20261202_101.txt', 'PAY_20261202_102.txt'].map((n) => `put ${path.join(work, n)} payments/out/`).join('\n');
    fs.writeFileSync(path.join(work, 'batch'), `${batch}\n`);
    await run('sftp', ['-b', path.join(work, 'batch'), '-P', port, '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', `${user}@${host}`], { timeout: 20000 });

    const out = path.join(hub.dataDir, 'simulators', 'sftp', 'payments', 'out');
    await until('the good file in processed/', async () => (fs.existsSync(path.join(out, 'processed', 'PAY_20261202_101.txt')) ? true : undefined));
    const reason = await until('the broken file in failed/', async () => {
      const file = path.join(out, 'failed', 'PAY_20261202_102.txt.reason.txt');
      return fs.existsSync(file) && fs.existsSync(path.join(out, 'failed', 'PAY_20261202_102.txt')) ? fs.readFileSync(file, 'utf8') : undefined;
    });
    assert.strictEqual(reason, "REJECTED PAY_20261202_102.txt: 1 problem\nline 3: trailer total 1001 is not the detail records' total 1000\n");

    const control = /control (http:\/\/127\.0\.0\.1:\d+\/_control)/.exec(hub.output())![1];
    const posted = await until('Finance to post the good file', async () => {
      const refs = (await finance(control)).postings.map((p) => p.journalRef);
      return refs.includes('PAY-DEMO00000001') && refs.includes('PAY-DEMO00000002') ? refs : undefined;
    });
    assert.ok(!posted.includes('PAY-DEMO00000003'), 'nothing of the broken file is posted');
  });

  it("posts GOV.UK Pay's payments that reach the webhook", async () => {
    const control = /control (http:\/\/127\.0\.0\.1:\d+\/_control)/.exec(hub.output())![1];
    const before = (await finance(control)).postings.length;
    const sent = await fetch(`${control}/govuk-pay/actions/send-events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ payments: 4, badSignatures: 1 }) });
    assert.strictEqual(sent.status, 200);
    assert.strictEqual(((await sent.json()) as { payments: number }).payments, 4);
    const after = await until('Finance to post the online payments', async () => {
      const postings = (await finance(control)).postings;
      return postings.length >= before + 4 ? postings : undefined;
    });
    assert.strictEqual(after.length, before + 4, 'the forged event posted nothing');
  });
});
