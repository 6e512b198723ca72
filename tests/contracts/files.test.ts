import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import SftpClient from 'ssh2-sftp-client';
import { startSshd } from '../support/sshd';
import { FinanceSimulator } from '../../simulators/finance';
import { PaymentsSimulator } from '../../simulators/payments';
import { RevenuesSimulator } from '../../simulators/revenues';
import { generateSshKeyPair, startEmbeddedSftp } from '../../simulators/sftp-server';
import { testPopulation, waitFor } from './helpers';

/** An SFTP server serving a root folder, and how to log in to it. */
interface SftpPeer {
  root: string;
  login: { host: string; port: number; username: string; privateKey: string };
  stop(): Promise<void>;
}

const peers: { name: string; start(): Promise<SftpPeer> }[] = [
  {
    name: 'real OpenSSH sshd',
    async start() {
      const sshd = await startSshd();
      return { root: sshd.root, login: { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey }, stop: () => sshd.stop() };
    },
  },
  {
    name: 'embedded SFTP server',
    async start() {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-embedded-sftp-'));
      const key = generateSshKeyPair();
      const server = await startEmbeddedSftp({ root, username: 'council', password: 'test-password', authorizedKeys: [key.publicKey] });
      return {
        root,
        login: { host: server.host, port: server.port, username: 'council', privateKey: key.privateKey },
        async stop() {
          await server.stop();
          fs.rmSync(root, { recursive: true, force: true });
        },
      };
    },
  },
];

const CRLF = '\r\n';
const REQUEST_HEADER = 'request_id,forename,surname,date_of_birth,previous_uprn,uprn,address_line_1,address_line_2,address_line_3,address_line_4,postcode,effective_date';
const JOURNAL_HEADER = 'journal_ref,transaction_date,cost_centre,account_code,debit_pence,credit_pence,description,source_ref';

for (const peer of peers) {
  describe(`contract: revenues, finance and payments files over SFTP (${peer.name})`, function () {
    let server: SftpPeer;
    let sftp: SftpClient;
    const population = testPopulation();

    /** Uploads as the hub does: under a .part name, renamed when complete. */
    const upload = async (remote: string, content: string) => {
      await sftp.mkdir(path.posix.dirname(remote), true).catch(() => undefined);
      await sftp.put(Buffer.from(content, 'utf8'), `${remote}.part`);
      await sftp.rename(`${remote}.part`, remote);
    };
    const download = async (remote: string) => ((await sftp.get(remote)) as Buffer).toString('utf8');
    const names = async (remote: string) => (await sftp.list(remote)).map((f) => f.name).sort();

    before(async function () {
      server = await peer.start();
      sftp = new SftpClient();
      await sftp.connect({ ...server.login, readyTimeout: 10000 });
    });
    after(async function () {
      await sftp?.end().catch(() => undefined);
      await server?.stop();
    });

    describe('revenues', function () {
      let revenues: RevenuesSimulator;
      const account = population.councilTaxAccounts.find((a) => a.holders.length === 1)!;
      const holder = account.holders[0];
      const otherAccount = population.councilTaxAccounts.find((a) => a !== account && a.holders.length === 1)!;
      const row = (id: string, over: Partial<Record<string, string>> = {}) => {
        const r = { request_id: id, forename: holder.forename, surname: holder.surname, date_of_birth: holder.dateOfBirth, previous_uprn: account.uprn, uprn: '10009000777', address_line_1: '7 Rowan Close', address_line_2: 'Dunmere', address_line_3: '', address_line_4: '', postcode: 'XM7 1AB', effective_date: '2026-11-18', ...over };
        return Object.values(r).join(',');
      };

      before(function () {
        revenues = new RevenuesSimulator({ root: server.root, population, pollMs: 0 });
      });
      after(async function () {
        await revenues.stop();
      });

      it('matches each row and answers ACCEPTED, NO_MATCH or REJECTED with a reason in revenues/ack/<base>.ack.csv; the request moves to revenues/in/processed/', async function () {
        const body = [REQUEST_HEADER, row('r-accept'), row('r-nomatch', { previous_uprn: otherAccount.uprn }), row('r-baddate', { date_of_birth: '14/03/1980' }), row('r-postcode', { postcode: 'NOWHERE' })].join(CRLF) + CRLF;
        await upload('revenues/in/ADDR_20261118103000_0001.csv', body);
        await sftp.put(Buffer.from(body), 'revenues/in/ADDR_20261118103000_0002.csv.part'); // still being uploaded
        const pass = await revenues.processNow();
        assert.deepStrictEqual(pass.processed, ['ADDR_20261118103000_0001.csv']);
        const ack = await download('revenues/ack/ADDR_20261118103000_0001.ack.csv');
        const lines = ack.split(CRLF);
        assert.strictEqual(lines[0], 'request_id,outcome,reason');
        assert.strictEqual(lines[1], 'r-accept,ACCEPTED,');
        assert.match(lines[2], /^r-nomatch,NO_MATCH,/);
        assert.match(lines[3], /^r-baddate,REJECTED,.*date_of_birth/);
        assert.match(lines[4], /^r-postcode,REJECTED,.*postcode/);
        assert.strictEqual(lines[5], '');
        assert.deepStrictEqual(await names('revenues/in/processed'), ['ADDR_20261118103000_0001.csv']);
        assert.deepStrictEqual(await names('revenues/in'), ['ADDR_20261118103000_0002.csv.part', 'processed'], 'the .part file is left alone');
        assert.deepStrictEqual(await names('revenues/ack'), ['ADDR_20261118103000_0001.ack.csv'], 'no temp file left beside the ack');
        const changed = revenues.getAccount(account.accountRef)!;
        assert.strictEqual(changed.uprn, '10009000777');
        assert.deepStrictEqual(changed.addressLines, ['7 Rowan Close', 'Dunmere']);
        await sftp.delete('revenues/in/ADDR_20261118103000_0002.csv.part');
      });

      it('a repeated request_id gets the first answer again; a rejected field (fault switch) is REJECTED; ServiceUnavailable leaves the file for the next pass', async function () {
        const second = population.councilTaxAccounts.find((a) => a !== account && a !== otherAccount && a.holders.length === 1)!;
        const h = second.holders[0];
        const body = [REQUEST_HEADER, row('r-accept'), row('r-reject-field', { forename: h.forename, surname: h.surname, date_of_birth: h.dateOfBirth, previous_uprn: second.uprn, postcode: 'XM9 9ZZ' })].join(CRLF) + CRLF;
        await revenues.faults.set({ failNext: 1, rejectField: { field: 'postcode', value: 'XM9 9ZZ' } });
        await upload('revenues/in/ADDR_20261118110000_0003.csv', body);
        const deferred = await revenues.processNow();
        assert.deepStrictEqual(deferred.deferred, ['ADDR_20261118110000_0003.csv']);
        assert.ok(await sftp.exists('revenues/in/ADDR_20261118110000_0003.csv'));
        await revenues.processNow();
        const lines = (await download('revenues/ack/ADDR_20261118110000_0003.ack.csv')).split(CRLF);
        assert.strictEqual(lines[1], 'r-accept,ACCEPTED,', 'the same answer as the first time');
        assert.match(lines[2], /^r-reject-field,REJECTED,.*postcode/);
        await revenues.faults.reset();
      });

      it('a file that is not a request file (wrong header) moves to revenues/in/failed/ with <name>.reason.txt', async function () {
        await upload('revenues/in/ADDR_20261118120000_0004.csv', `id,name${CRLF}1,x${CRLF}`);
        await revenues.processNow();
        assert.deepStrictEqual(await names('revenues/in/failed'), ['ADDR_20261118120000_0004.csv', 'ADDR_20261118120000_0004.csv.reason.txt']);
        assert.match(await download('revenues/in/failed/ADDR_20261118120000_0004.csv.reason.txt'), /header/);
        assert.ok(!(await sftp.exists('revenues/ack/ADDR_20261118120000_0004.ack.csv')));
      });

      it('while down nothing is taken; polling takes the file by itself once up', async function () {
        const polling = new RevenuesSimulator({ root: server.root, population, pollMs: 50 });
        await polling.faults.set({ down: 'unavailable' });
        polling.start();
        try {
          await upload('revenues/in/ADDR_20261118130000_0005.csv', [REQUEST_HEADER, row('r-poll', { previous_uprn: otherAccount.uprn })].join(CRLF) + CRLF);
          assert.deepStrictEqual((await polling.processNow()).processed, []);
          await polling.faults.reset();
          const ack = await waitFor(async () => ((await sftp.exists('revenues/ack/ADDR_20261118130000_0005.ack.csv')) ? download('revenues/ack/ADDR_20261118130000_0005.ack.csv') : undefined));
          assert.match(ack, /r-poll,NO_MATCH,/);
        } finally {
          await polling.stop();
        }
      });
    });

    describe('finance', function () {
      let finance: FinanceSimulator;
      const journal = (ref: string, pence: number) => [`${ref},2026-11-18,CC100,4010,${pence},0,Council tax payment,PAY-1`, `${ref},2026-11-18,CC100,1100,0,${pence},Council tax payment,PAY-1`];

      before(function () {
        finance = new FinanceSimulator({ root: server.root, pollMs: 0 });
      });
      after(async function () {
        await finance.stop();
      });

      it('takes GL_*.csv only once its .ctl exists, posts balanced journals and moves both to finance/in/processed/', async function () {
        const lines = [...journal('J1', 1250), ...journal('J2', 990)];
        await upload('finance/in/GL_20261118_0001.csv', [JOURNAL_HEADER, ...lines].join('\n') + '\n');
        assert.deepStrictEqual((await finance.processNow()).processed, [], 'no .ctl yet');
        await upload('finance/in/GL_20261118_0001.ctl', '4,2240,2240\n');
        assert.deepStrictEqual((await finance.processNow()).processed, ['GL_20261118_0001.csv']);
        assert.deepStrictEqual(await names('finance/in/processed'), ['GL_20261118_0001.csv', 'GL_20261118_0001.ctl']);
        assert.deepStrictEqual(finance.ledger().map((p) => [p.journalRef, p.lines.length]), [['J1', 2], ['J2', 2]]);
      });

      it('refuses an unbalanced journal or a control line that does not match: nothing posted, files in finance/in/rejected/ with <base>.rej', async function () {
        const cases: [string, string[], string, RegExp][] = [
          ['GL_20261118_0002', [`J3,2026-11-18,CC100,4010,500,0,x,PAY-2`, `J3,2026-11-18,CC100,1100,0,400,x,PAY-2`, `J4,2026-11-18,CC100,1100,0,100,x,PAY-2`], '3,500,500', /journal J3 does not balance/],
          ['GL_20261118_0003', journal('J5', 700), '2,700,701', /control file says credit 701/],
          ['GL_20261118_0004', journal('J6', 700), '3,700,700', /control file says 3 lines/],
        ];
        for (const [base, lines, control, reason] of cases) {
          await upload(`finance/in/${base}.csv`, [JOURNAL_HEADER, ...lines].join('\n') + '\n');
          await upload(`finance/in/${base}.ctl`, `${control}\n`);
          await finance.processNow();
          assert.match(await download(`finance/in/rejected/${base}.rej`), reason);
          assert.ok(await sftp.exists(`finance/in/rejected/${base}.csv`));
          assert.ok(await sftp.exists(`finance/in/rejected/${base}.ctl`));
        }
        assert.deepStrictEqual(finance.ledger().map((p) => p.journalRef), ['J1', 'J2'], 'nothing of a refused file is posted');
      });

      it('a journal_ref already posted is not posted twice', async function () {
        await upload('finance/in/GL_20261118_0005.csv', [JOURNAL_HEADER, ...journal('J1', 1250), ...journal('J7', 10)].join('\n') + '\n');
        await upload('finance/in/GL_20261118_0005.ctl', '4,1260,1260\n');
        await finance.processNow();
        assert.deepStrictEqual(finance.ledger().map((p) => p.journalRef), ['J1', 'J2', 'J7']);
      });
    });

    describe('payments', function () {
      let payments: PaymentsSimulator;

      before(function () {
        payments = new PaymentsSimulator({ root: server.root, population, sourceId: 'PHONE' });
      });
      after(async function () {
        await payments.stop();
      });

      it('writes payments/out/PAY_<yyyyMMdd>_<nnn>.txt exactly per the layout (header 22, detail 65, trailer 21 characters)', async function () {
        const written = await payments.writeFile({ date: '2026-11-18', payments: [{ transactionRef: 'TX0000000001', time: '09:15:00', fund: 'CTX', accountRef: '5000000001', amountPence: 12500, channel: 'T', authCode: 'A1B2C3' }], count: 1 });
        const generated = await payments.writeFile({ date: '2026-11-18', count: 5 });
        assert.strictEqual(written.name, 'PAY_20261118_001.txt');
        assert.strictEqual(generated.name, 'PAY_20261118_002.txt');
        const lines = (await download('payments/out/PAY_20261118_001.txt')).split('\n');
        assert.strictEqual(lines[0], 'H20261118001PHONE     ');
        assert.strictEqual(lines[1], 'DTX0000000001' + '20261118' + '091500' + 'CTX' + '5000000001     ' + '00000012500' + 'T' + 'A1B2C3  ');
        assert.strictEqual(lines[2], 'T0000001' + '0000000012500');
        assert.strictEqual(lines[3], '');
        const all = (await download('payments/out/PAY_20261118_002.txt')).split('\n').slice(0, -1);
        assert.deepStrictEqual(all.map((l) => l.length), [22, 65, 65, 65, 65, 65, 21]);
        const total = all.slice(1, -1).reduce((sum, l) => {
          assert.match(l, /^D.{12}\d{8}\d{6}(CTX|NDR|HRA|SUN).{15}\d{11}[TWCK].{8}$/);
          assert.ok(Number(l.slice(45, 56)) > 0);
          return sum + Number(l.slice(45, 56));
        }, 0);
        assert.strictEqual(all[6], `T0000005${String(total).padStart(13, '0')}`);
        assert.strictEqual(total, generated.totalPence);
      });

      it('writes the faulty variants on demand: bad record, wrong trailer count or total, repeated sequence, repeated transaction ref', async function () {
        const badRecord = (await download(`payments/out/${(await payments.writeFile({ date: '2026-11-19', count: 3, fault: 'bad-record' })).name}`)).split('\n');
        assert.ok(badRecord.slice(1, 4).some((l) => !/^D.{12}\d{8}\d{6}(CTX|NDR|HRA|SUN).{15}\d{11}[TWCK].{8}$/.test(l)));
        const wrongCount = await payments.writeFile({ date: '2026-11-19', count: 3, fault: 'wrong-count' });
        assert.match((await download(`payments/out/${wrongCount.name}`)).split('\n')[4], /^T0000004/);
        const wrongTotal = await payments.writeFile({ date: '2026-11-19', count: 3, fault: 'wrong-total' });
        assert.strictEqual((await download(`payments/out/${wrongTotal.name}`)).split('\n')[4], `T0000003${String(wrongTotal.totalPence + 1).padStart(13, '0')}`);
        await sftp.rename(`payments/out/${wrongTotal.name}`, `payments/out/taken-${wrongTotal.name}`); // the hub claimed it
        const repeated = await payments.writeFile({ date: '2026-11-19', count: 2, fault: 'repeated-sequence' });
        assert.strictEqual(repeated.name, wrongTotal.name);
        const repeatedRef = await payments.writeFile({ date: '2026-11-19', count: 2, fault: 'repeated-transaction' });
        assert.strictEqual(repeatedRef.payments[0].transactionRef, repeated.payments[1].transactionRef);
      });
    });
  });
}

describe('embedded SFTP server: logins and the root jail', function () {
  it('accepts the password and the authorized key, refuses a wrong password, and keeps paths inside the root', async function () {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-embedded-sftp-'));
    const key = generateSshKeyPair();
    const server = await startEmbeddedSftp({ root, username: 'council', password: 'right', authorizedKeys: [key.publicKey] });
    try {
      const byPassword = new SftpClient();
      await byPassword.connect({ host: server.host, port: server.port, username: 'council', password: 'right' });
      await byPassword.put(Buffer.from('x'), '../../escape.txt');
      assert.ok(fs.existsSync(path.join(root, 'escape.txt')), '../.. stops at the root');
      await byPassword.end();
      const byKey = new SftpClient();
      await byKey.connect({ host: server.host, port: server.port, username: 'council', privateKey: key.privateKey });
      assert.deepStrictEqual((await byKey.list('/')).map((f) => f.name), ['escape.txt']);
      await byKey.end();
      const wrong = new SftpClient();
      await assert.rejects(wrong.connect({ host: server.host, port: server.port, username: 'council', password: 'wrong', retries: 0 } as any));
      await wrong.end().catch(() => undefined);
    } finally {
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
