import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { Readable } from 'stream';
import { SftpConnection, SftpError, writeSftpFile, controlFileName } from '../../adapters/sftp';
import { startSshd, SshdServer } from '../support/sshd';

describe('SFTP write: .part, rename, control file (real OpenSSH sshd)', () => {
  let sshd: SshdServer;
  let connection: SftpConnection;
  const folder = 'finance/in';
  const local = (name: string) => path.join(sshd.root, folder, name);

  before(async () => {
    sshd = await startSshd();
    fs.mkdirSync(path.join(sshd.root, folder), { recursive: true });
    connection = new SftpConnection(sshd);
  });
  after(async () => {
    await connection?.close();
    await sshd?.stop();
  });

  it('writes the file under its final name, leaving no .part behind', async () => {
    const result = await writeSftpFile(connection, { folder, name: 'ADDR_1.csv', content: 'request_id\r\nR1\r\n' });
    assert.deepStrictEqual(result, { path: 'finance/in/ADDR_1.csv', size: 16 });
    assert.strictEqual(fs.readFileSync(local('ADDR_1.csv'), 'utf8'), 'request_id\r\nR1\r\n');
    assert.deepStrictEqual(fs.readdirSync(path.join(sshd.root, folder)).filter((n) => n.endsWith('.part')), []);
  });

  it('writes a control file after the file, also through .part', async () => {
    const result = await writeSftpFile(connection, { folder, name: 'GL_20261123_0001.csv', content: Buffer.from('a,b\n'), control: { content: '1,100,100\n' } });
    assert.strictEqual(controlFileName('GL_20261123_0001.csv'), 'GL_20261123_0001.ctl');
    assert.strictEqual(result.controlPath, 'finance/in/GL_20261123_0001.ctl');
    assert.strictEqual(fs.readFileSync(local('GL_20261123_0001.ctl'), 'utf8'), '1,100,100\n');
    assert.strictEqual(fs.readFileSync(local('GL_20261123_0001.csv'), 'utf8'), 'a,b\n');
    assert.ok(fs.statSync(local('GL_20261123_0001.ctl')).mtimeMs >= fs.statSync(local('GL_20261123_0001.csv')).mtimeMs);
  });

  it('refuses to replace an existing file unless overwriting is configured', async () => {
    await assert.rejects(writeSftpFile(connection, { folder, name: 'ADDR_1.csv', content: 'new' }), (err: SftpError) => err.code === 'ALREADY_EXISTS');
    assert.strictEqual(fs.readFileSync(local('ADDR_1.csv'), 'utf8'), 'request_id\r\nR1\r\n');
    assert.ok(!fs.existsSync(local('ADDR_1.csv.part')));
    await writeSftpFile(connection, { folder, name: 'ADDR_1.csv', content: 'new', overwrite: true });
    assert.strictEqual(fs.readFileSync(local('ADDR_1.csv'), 'utf8'), 'new');
  });

  it('writes a stream', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`);
    const result = await writeSftpFile(connection, { folder, name: 'stream.txt', content: Readable.from(lines) });
    assert.strictEqual(fs.readFileSync(local('stream.txt'), 'utf8'), lines.join(''));
    assert.strictEqual(result.size, Buffer.byteLength(lines.join('')));
  });

  it('answers bad requests with a clear error and writes nothing', async () => {
    const bad: Array<[any, RegExp]> = [
      [{ folder, name: '../escape.csv', content: 'x' }, /not a plain file name/],
      [{ folder, name: '', content: 'x' }, /no file name/],
      [{ folder, name: 'x.csv.part', content: 'x' }, /reserves/],
      [{ folder, name: 'x.csv', content: { not: 'content' } }, /must be a Buffer, a string or a stream/],
      [{ folder, name: 'x.csv', content: 'x', control: { content: 'c', name: 'x.csv' } }, /same name/],
      [{ folder: 'no/such/folder', name: 'x.csv', content: 'x' }, /does not exist/],
    ];
    for (const [request, message] of bad) {
      await assert.rejects(writeSftpFile(connection, request), (err: SftpError) => err instanceof SftpError && message.test(err.message));
    }
    assert.ok(!fs.existsSync(local('x.csv')));
  });

  it('never leaves a partial file under the final name when sshd is killed during the upload', async () => {
    const chunk = Buffer.alloc(256 * 1024, 'x');
    let sent = 0;
    let killed: Promise<void> | undefined;
    const endless = new Readable({
      read() {
        // Kill once the upload is well under way; then the stream stalls (it never ends by
        // itself). Pushing a tick later keeps the event loop free for the kill to be seen.
        if (killed) return;
        sent += chunk.length;
        if (sent > 4 * 1024 * 1024) killed = sshd.kill();
        setImmediate(() => this.push(chunk));
      },
    });
    await assert.rejects(writeSftpFile(connection, { folder, name: 'PAY_big.txt', content: endless }), (err: SftpError) => err instanceof SftpError);
    await killed;
    endless.destroy();
    assert.ok(!fs.existsSync(local('PAY_big.txt')), 'the final name must not exist');
    await sshd.restart();
    // The connection comes back for the next write, and a retry completes.
    await writeSftpFile(connection, { folder, name: 'PAY_big.txt', content: Buffer.alloc(1024 * 1024, 'y'), overwrite: true });
    assert.strictEqual(fs.statSync(local('PAY_big.txt')).size, 1024 * 1024);
    assert.ok(!fs.existsSync(local('PAY_big.txt.part')));
  });
});
