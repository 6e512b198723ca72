import assert from 'assert';
import { execFileSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { SftpConnection, SftpError, normaliseFingerprint } from '../../adapters/sftp';
import { freePort } from '../support/ports';
import { startSshd, SshdServer } from '../support/sshd';

describe('SFTP connection (real OpenSSH sshd)', () => {
  let sshd: SshdServer;
  const open: SftpConnection[] = [];
  const connect = (overrides: Partial<ConstructorParameters<typeof SftpConnection>[0]> = {}) => {
    const connection = new SftpConnection({ ...sshd, ...overrides });
    open.push(connection);
    return connection;
  };

  before(async () => {
    sshd = await startSshd();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await sshd?.stop();
  });

  it('connects when the host key matches the pinned fingerprint, and reuses the connection', async () => {
    const connection = connect();
    const events: string[] = [];
    connection.on('connected', () => events.push('connected'));
    fs.writeFileSync(path.join(sshd.root, 'hello.txt'), 'hi');
    const names = await connection.run(async (sftp) => (await sftp.list('.')).map((f) => f.name));
    assert.ok(names.includes('hello.txt'));
    assert.strictEqual(await connection.run((sftp) => sftp.exists('hello.txt')), '-');
    assert.strictEqual(connection.state, 'connected');
    assert.deepStrictEqual(events, ['connected']);
  });

  it('refuses a server whose host key is not the pinned one, naming both fingerprints', async () => {
    const wrong = 'SHA256:' + 'A'.repeat(43);
    const error = await connect({ hostKeyFingerprint: wrong }).client().then(
      () => assert.fail('connected to a server with the wrong host key'),
      (err) => err,
    );
    assert.ok(error instanceof SftpError);
    assert.strictEqual(error.code, 'HOST_KEY_MISMATCH');
    assert.strictEqual(error.transient, false, 'connecting again meets the same key');
    assert.ok(error.message.includes(sshd.hostKeyFingerprint), error.message);
    assert.ok(error.message.includes(wrong), error.message);
  });

  it('refuses a server when no fingerprint is configured, naming the one it presented', async () => {
    const error = await connect({ hostKeyFingerprint: undefined }).client().then(
      () => assert.fail('connected without a pinned host key'),
      (err) => err,
    );
    assert.strictEqual(error.code, 'HOST_KEY_UNKNOWN');
    assert.ok(error.message.includes(sshd.hostKeyFingerprint), error.message);
  });

  it('accepts the fingerprint without its SHA256: prefix or with base64 padding, and refuses one that is not a fingerprint', async () => {
    const bare = sshd.hostKeyFingerprint.slice('SHA256:'.length);
    assert.strictEqual(normaliseFingerprint(`${bare}=`), sshd.hostKeyFingerprint);
    await connect({ hostKeyFingerprint: bare }).client();
    assert.throws(() => connect({ hostKeyFingerprint: 'MD5:12:34' }), (err: SftpError) => err.code === 'CONFIGURATION' && /not a SHA256/.test(err.message));
  });

  it('says the login failed when the server does not accept the key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-key-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'k')]);
    const otherKey = fs.readFileSync(path.join(dir, 'k'), 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    await assert.rejects(connect({ privateKey: otherKey }).client(), (err: SftpError) => err.code === 'AUTHENTICATION_FAILED' && !err.transient && err.message.includes(sshd.username));
  });

  it('a refused connection is an error of the call, not of the process', async () => {
    const port = await freePort();
    const connection = connect({ port });
    await assert.rejects(connection.run((sftp) => sftp.list('.')), (err: SftpError) => err.code === 'CONNECTION_REFUSED' && err.message.includes(String(port)));
    // and again: every attempt is its own error
    await assert.rejects(connection.client(), (err: SftpError) => err.code === 'CONNECTION_REFUSED');
  });

  it('survives sshd being killed mid-session and connects again once it is back', async () => {
    const connection = connect();
    await connection.client();
    const disconnected = new Promise<void>((resolve) => connection.once('disconnected', () => resolve()));
    await sshd.kill();
    await disconnected;
    assert.strictEqual(connection.state, 'idle');
    await assert.rejects(connection.run((sftp) => sftp.list('.')), (err: SftpError) => err.code === 'CONNECTION_REFUSED');
    await sshd.restart();
    const names = await connection.run(async (sftp) => (await sftp.list('.')).map((f) => f.name));
    assert.ok(names.includes('hello.txt'));
  });

  it('an operation running when the connection drops fails with CONNECTION_LOST', async () => {
    const connection = connect();
    fs.writeFileSync(path.join(sshd.root, 'big.bin'), Buffer.alloc(64 * 1024 * 1024));
    // Caught at once: the rejection may come before the assertion below looks at it.
    const reading = connection.run((sftp) => sftp.get('big.bin')).then(
      () => assert.fail('the read finished although sshd was killed'),
      (err) => err,
    );
    await new Promise<void>((resolve) => connection.once('connected', () => resolve()));
    await sshd.kill();
    const lost = await reading;
    assert.strictEqual(lost.code, 'CONNECTION_LOST');
    assert.strictEqual(lost.transient, true);
    await sshd.restart();
    assert.strictEqual(await connection.run((sftp) => sftp.exists('big.bin')), '-');
    fs.rmSync(path.join(sshd.root, 'big.bin'));
  });

  it('takes a connection whose work gets no answer in time as lost: the call fails with CONNECTION_LOST and the next one connects again', async () => {
    const connection = connect({ operationTimeoutMs: 300 });
    const events: string[] = [];
    connection.on('connected', () => events.push('connected'));
    connection.on('disconnected', () => events.push('disconnected'));
    fs.writeFileSync(path.join(sshd.root, 'answer.txt'), 'yes');
    // Work that never ends stands for an operation whose answer the server will never send.
    const lost = await connection.run(() => new Promise<never>(() => undefined)).then(
      () => assert.fail('work that never answers ended'),
      (err) => err,
    );
    assert.strictEqual(lost.code, 'CONNECTION_LOST');
    assert.match(lost.message, /no answer within 300 ms/);
    assert.strictEqual(await connection.run((sftp) => sftp.exists('answer.txt')), '-');
    assert.deepStrictEqual(events, ['connected', 'disconnected', 'connected']);
  });
});
