import assert from 'assert';
import fs from 'fs';
import path from 'path';
import SftpClient from 'ssh2-sftp-client';
import { startSshd, SshdServer } from '../support/sshd';

/** The test harness itself: a real OpenSSH sshd that other SFTP tests rely on. */
describe('sshd test harness', () => {
  let sshd: SshdServer;
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
  });

  const connect = async () => {
    const quiet = () => undefined;
    const client = new SftpClient('sshd-harness-test', { error: quiet, end: quiet, close: quiet });
    await client.connect({ host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, readyTimeout: 5000 });
    return client;
  };

  it('serves SFTP with relative paths resolving in its root folder, and prints the host key as ssh-keygen does', async () => {
    assert.match(sshd.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.ok(path.isAbsolute(sshd.root));
    const client = await connect();
    try {
      await client.put(Buffer.from('hello'), 'greeting.txt');
      assert.strictEqual(fs.readFileSync(path.join(sshd.root, 'greeting.txt'), 'utf8'), 'hello');
      assert.strictEqual(await client.realPath('.'), sshd.root);
    } finally {
      await client.end();
    }
  });

  it('kill() drops live sessions; restart() serves again on the same port', async () => {
    const client = await connect();
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    await sshd.kill();
    await closed;
    await assert.rejects(connect());
    await sshd.restart();
    const again = await connect();
    try {
      assert.strictEqual(await again.exists('greeting.txt'), '-');
    } finally {
      await again.end();
    }
  });
});
