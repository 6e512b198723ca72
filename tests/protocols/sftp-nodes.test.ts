import assert from 'assert';
import fs from 'fs';
import path from 'path';
import helper from 'node-red-node-test-helper';
import sftpServerNode from '../../nodes/sftp-server/sftp-server';
import sftpWatchNode from '../../nodes/sftp-watch/sftp-watch';
import sftpWriteNode from '../../nodes/sftp-write/sftp-write';
import { startSshd, SshdServer } from '../support/sshd';

helper.init(require.resolve('node-red'));

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('sftp-watch and sftp-write nodes (real OpenSSH sshd)', () => {
  let sshd: SshdServer;
  const catchNode = require('@node-red/nodes/core/common/25-catch');
  const nodes = [sftpServerNode, sftpWatchNode, sftpWriteNode, catchNode] as any[];

  const serverConfig = (overrides: Record<string, unknown> = {}) => ({
    id: 'srv',
    type: 'sftp-server',
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    ...overrides,
  });
  const credentials = () => ({ srv: { privateKey: sshd.privateKey } });

  before(async () => {
    sshd = await startSshd();
    for (const folder of ['payments/out', 'finance/in']) fs.mkdirSync(path.join(sshd.root, folder), { recursive: true });
  });
  afterEach(async () => {
    await helper.unload();
  });
  after(async () => {
    await sshd?.stop();
  });

  describe('sftp-watch', () => {
    const flow = () => [
      serverConfig(),
      { id: 'watch', type: 'sftp-watch', server: 'srv', folder: 'payments/out', pattern: 'PAY_*.txt', interval: 0.05, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];

    it('sends the file once stable and moves it to processed/ once the flow has settled it', async () => {
      const local = (...p: string[]) => path.join(sshd.root, 'payments/out', ...p);
      fs.writeFileSync(local('PAY_20261123_001.txt'), 'H20261123001\n');
      await helper.load(nodes, flow(), credentials());
      const received: any[] = [];
      helper.getNode('out').on('input', (msg: any) => received.push(msg));
      await until(() => received.length === 1);
      const msg = received[0];
      assert.ok(Buffer.isBuffer(msg.payload));
      assert.strictEqual(msg.payload.toString(), 'H20261123001\n');
      assert.strictEqual(msg.filename, 'PAY_20261123_001.txt');
      assert.deepStrictEqual(msg.sftp, { folder: 'payments/out', name: 'PAY_20261123_001.txt', size: 13, path: 'payments/out/processing/PAY_20261123_001.txt', recovered: false });
      await until(() => fs.existsSync(local('processed', 'PAY_20261123_001.txt')));
      assert.ok(!fs.existsSync(local('PAY_20261123_001.txt')));
    });

    it('moves a file the flow failed to failed/ with the error as its reason', async () => {
      const local = (...p: string[]) => path.join(sshd.root, 'payments/out', ...p);
      await helper.load(nodes, flow(), credentials());
      helper.getNode('out').on('input', (_msg: any, _send: any, done: (err?: Error) => void) => done(new Error('detail count 3 does not match the trailer (4)')));
      fs.writeFileSync(local('PAY_20261123_002.txt'), 'bad');
      await until(() => fs.existsSync(local('failed', 'PAY_20261123_002.txt')));
      assert.strictEqual(fs.readFileSync(local('failed', 'PAY_20261123_002.txt.reason.txt'), 'utf8'), 'detail count 3 does not match the trailer (4)\n');
      assert.ok(!fs.existsSync(local('processed', 'PAY_20261123_002.txt')));
    });

    it('shows an unknown host key as an error and sends nothing', async () => {
      fs.writeFileSync(path.join(sshd.root, 'payments/out', 'PAY_20261123_003.txt'), 'x');
      const [server, ...rest] = flow();
      await helper.load(nodes, [{ ...server, hostKeyFingerprint: 'SHA256:' + 'B'.repeat(43) }, ...rest], credentials());
      const watch = helper.getNode('watch');
      const statuses: any[] = [];
      watch.on('call:status', (call: any) => statuses.push(call.args[0]));
      let sent = false;
      helper.getNode('out').on('input', () => (sent = true));
      await until(() => statuses.some((s) => /presented host key/.test(s.text ?? '')));
      assert.ok(watch.error.getCalls().some((call: any) => String(call.args[0]).includes(sshd.hostKeyFingerprint)));
      assert.strictEqual(sent, false);
      assert.ok(fs.existsSync(path.join(sshd.root, 'payments/out', 'PAY_20261123_003.txt')));
      fs.rmSync(path.join(sshd.root, 'payments/out', 'PAY_20261123_003.txt'));
    });
  });

  describe('sftp-write', () => {
    const flow = (overwrite = false) => [
      serverConfig(),
      { id: 'write', type: 'sftp-write', server: 'srv', folder: 'finance/in', overwrite, wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['write'], wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ];
    const local = (name: string) => path.join(sshd.root, 'finance/in', name);

    it('writes the file and its control file, and sends on only after the rename', async () => {
      await helper.load(nodes, flow(), credentials());
      const out = new Promise<any>((resolve) => helper.getNode('out').on('input', resolve));
      helper.getNode('write').receive({ payload: 'journal_ref\n', filename: 'GL_20261123_0001.csv', control: '1,100,100\n' });
      const msg = await out;
      assert.ok(fs.existsSync(local('GL_20261123_0001.csv')), 'the file has its final name when the message goes on');
      assert.strictEqual(fs.readFileSync(local('GL_20261123_0001.ctl'), 'utf8'), '1,100,100\n');
      assert.deepStrictEqual(msg.sftp, { folder: 'finance/in', name: 'GL_20261123_0001.csv', path: 'finance/in/GL_20261123_0001.csv', size: 12, controlPath: 'finance/in/GL_20261123_0001.ctl' });
    });

    it('sends bad messages to Catch with a clear reason and writes nothing', async () => {
      await helper.load(nodes, flow(), credentials());
      const caught: any[] = [];
      helper.getNode('caught').on('input', (msg: any) => caught.push(msg));
      helper.getNode('write').receive({ payload: { an: 'object' }, filename: 'obj.csv' });
      helper.getNode('write').receive({ payload: 'x', filename: '../up.csv' });
      helper.getNode('write').receive({ payload: 'x' });
      helper.getNode('write').receive({ payload: 'x', filename: 'ctl.csv', control: 42 });
      helper.getNode('write').receive({ payload: 'again', filename: 'GL_20261123_0001.csv' });
      await until(() => caught.length === 5);
      const reason = (filename: string | undefined) => caught.find((m) => m.filename === filename).error.message;
      assert.match(reason('obj.csv'), /msg.payload must be a string, a Buffer or a stream/);
      assert.match(reason('../up.csv'), /not a plain file name/);
      assert.match(reason(undefined), /no file name/);
      assert.match(reason('ctl.csv'), /msg.control must be/);
      assert.match(reason('GL_20261123_0001.csv'), /already exists/);
      for (const name of ['obj.csv', 'ctl.csv', 'ctl.ctl']) assert.ok(!fs.existsSync(local(name)), name);
      assert.strictEqual(fs.readFileSync(local('GL_20261123_0001.csv'), 'utf8'), 'journal_ref\n');
    });

    it('a refused connection fails the message, not the hub', async () => {
      const [, ...rest] = flow();
      await helper.load(nodes, [serverConfig({ port: 1 }), ...rest], credentials());
      const caught = new Promise<any>((resolve) => helper.getNode('caught').on('input', resolve));
      helper.getNode('write').receive({ payload: 'x', filename: 'refused.csv' });
      assert.match((await caught).error.message, /refused the connection/);
    });
  });
});

