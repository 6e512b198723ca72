import assert from 'assert';
import { randomUUID } from 'crypto';
import fs from 'fs';
import path from 'path';
import Redis from 'ioredis';
import { SftpConnection, SftpFolderWatcher, SftpIncomingFile, SftpWatchOptions, SftpWatchStatus } from '../../adapters/sftp';
import { startSshd, SshdServer } from '../support/sshd';

/** Resolves once `check` holds; the test's timeout is the limit. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('SFTP folder watcher (real OpenSSH sshd)', () => {
  let sshd: SshdServer;
  let connection: SftpConnection;
  let folder: string;
  const watchers: SftpFolderWatcher[] = [];
  const local = (...parts: string[]) => path.join(sshd.root, folder, ...parts);

  /** A watcher that records what it is handed; onFile answers with `answer`. */
  const watch = (options: Partial<SftpWatchOptions> = {}, answer: (file: SftpIncomingFile) => Promise<void> = async () => undefined) => {
    const handed: SftpIncomingFile[] = [];
    const statuses: SftpWatchStatus[] = [];
    const errors: Error[] = [];
    const watcher = new SftpFolderWatcher(connection, {
      folder,
      pollIntervalMs: 50,
      onFile: async (file) => {
        handed.push(file);
        await answer(file);
      },
      onStatus: (status) => statuses.push(status),
      onError: (error) => errors.push(error),
      ...options,
    });
    watchers.push(watcher);
    return { watcher, handed, statuses, errors };
  };

  before(async () => {
    sshd = await startSshd();
    connection = new SftpConnection(sshd);
  });
  beforeEach(() => {
    folder = `payments/out-${randomUUID().slice(0, 8)}`;
    fs.mkdirSync(path.join(sshd.root, folder), { recursive: true });
  });
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
  });
  after(async () => {
    await connection?.close();
    await sshd?.stop();
  });

  it('takes a file only once its size has stopped changing between two polls', async () => {
    const { watcher, handed } = watch();
    fs.writeFileSync(local('PAY_20261123_001.txt'), 'H20261123');
    await watcher.pollNow(); // first sight
    fs.appendFileSync(local('PAY_20261123_001.txt'), '001\n');
    await watcher.pollNow(); // grew since: not yet
    assert.strictEqual(handed.length, 0);
    assert.ok(fs.existsSync(local('PAY_20261123_001.txt')));
    await watcher.pollNow(); // unchanged: taken
    assert.strictEqual(handed.length, 1);
    assert.strictEqual(handed[0].content!.toString(), 'H20261123001\n');
    assert.deepStrictEqual(
      { name: handed[0].name, size: handed[0].size, folder: handed[0].folder, path: handed[0].path, recovered: handed[0].recovered },
      { name: 'PAY_20261123_001.txt', size: 13, folder, path: `${folder}/processing/PAY_20261123_001.txt`, recovered: false },
    );
  });

  it('claims the file into processing/ while it is handled, then moves it to processed/', async () => {
    let inProcessing = false;
    const { watcher } = watch({}, async () => {
      inProcessing = fs.existsSync(local('processing', 'a.txt')) && !fs.existsSync(local('a.txt'));
    });
    fs.writeFileSync(local('a.txt'), 'one');
    await watcher.pollNow();
    await watcher.pollNow();
    assert.ok(inProcessing, 'the file was in processing/ while handled');
    assert.strictEqual(fs.readFileSync(local('processed', 'a.txt'), 'utf8'), 'one');
    assert.deepStrictEqual(fs.readdirSync(local('processing')), []);
  });

  it('moves a file the flow failed to failed/ with the reason beside it, and keeps an earlier file of the same name', async () => {
    const { watcher, handed } = watch({}, async () => {
      throw new Error('trailer total 1000 does not match the details (900)');
    });
    fs.mkdirSync(local('failed'));
    fs.writeFileSync(local('failed', 'PAY_1.txt'), 'yesterday');
    fs.writeFileSync(local('PAY_1.txt'), 'today');
    await watcher.pollNow();
    await watcher.pollNow();
    assert.strictEqual(handed.length, 1);
    assert.strictEqual(fs.readFileSync(local('failed', 'PAY_1.txt'), 'utf8'), 'yesterday');
    const moved = fs.readdirSync(local('failed')).find((n) => /^PAY_1\.\d{8}T\d{9}Z\.txt$/.test(n));
    assert.ok(moved, fs.readdirSync(local('failed')).join(', '));
    assert.strictEqual(fs.readFileSync(local('failed', moved!), 'utf8'), 'today');
    assert.strictEqual(fs.readFileSync(local('failed', `${moved}.reason.txt`), 'utf8'), 'trailer total 1000 does not match the details (900)\n');
    assert.ok(!fs.existsSync(local('processed', 'PAY_1.txt')));
  });

  it('takes only names matching the pattern, never .part files, never folders', async () => {
    const { watcher, handed } = watch({ pattern: 'PAY_*.txt' });
    fs.writeFileSync(local('PAY_2.txt'), 'x');
    fs.writeFileSync(local('PAY_3.txt.part'), 'x');
    fs.writeFileSync(local('notes.txt'), 'x');
    fs.mkdirSync(local('PAY_dir.txt'));
    await watcher.pollNow();
    await watcher.pollNow();
    assert.deepStrictEqual(handed.map((f) => f.name), ['PAY_2.txt']);
    assert.ok(fs.existsSync(local('notes.txt')) && fs.existsSync(local('PAY_3.txt.part')));
  });

  it('offers again, at start, a file left in processing/ by a crash', async () => {
    fs.mkdirSync(local('processing'));
    fs.writeFileSync(local('processing', 'PAY_4.txt'), 'left by a crash');
    const { watcher, handed } = watch();
    await watcher.pollNow();
    assert.strictEqual(handed.length, 1);
    assert.strictEqual(handed[0].recovered, true);
    assert.strictEqual(handed[0].content!.toString(), 'left by a crash');
    assert.ok(fs.existsSync(local('processed', 'PAY_4.txt')));
  });

  it('hands a file above the threshold over as a stream', async () => {
    const big = Buffer.alloc(200 * 1024, 'z');
    let read = Buffer.alloc(0);
    const { watcher, handed } = watch({ streamThresholdBytes: 1024 }, async (file) => {
      const chunks: Buffer[] = [];
      for await (const chunk of file.stream!) chunks.push(chunk as Buffer);
      read = Buffer.concat(chunks);
    });
    fs.writeFileSync(local('big.txt'), big);
    await watcher.pollNow();
    await watcher.pollNow();
    assert.strictEqual(handed[0].content, undefined);
    assert.ok(read.equals(big));
    assert.ok(fs.existsSync(local('processed', 'big.txt')));
  });

  it('a file another instance claimed first is not an error', async () => {
    const { watcher, errors } = watch();
    fs.writeFileSync(local('gone.txt'), 'x');
    // Claiming a file that is no longer there (another instance renamed it) answers "not mine".
    fs.renameSync(local('gone.txt'), path.join(sshd.root, 'elsewhere.txt'));
    assert.strictEqual(await (watcher as any).claim('gone.txt'), false);
    assert.deepStrictEqual(errors, []);
  });

  it('with a Redis lock, a second watcher does not take the file the first one is handling', async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    const lockKeyPrefix = `test-sftp-${randomUUID()}`;
    try {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const first = watch({ redis, lockKeyPrefix }, () => released);
      const second = watch({ redis, lockKeyPrefix });
      fs.writeFileSync(local('PAY_5.txt'), 'x');
      await first.watcher.pollNow();
      const firstPoll = first.watcher.pollNow();
      await until(() => first.handed.length === 1);
      await second.watcher.pollNow();
      await second.watcher.pollNow();
      assert.strictEqual(second.handed.length, 0);
      assert.strictEqual(second.statuses.at(-1), 'standby');
      release();
      await firstPoll;
      assert.ok(fs.existsSync(local('processed', 'PAY_5.txt')));
      // Once the first let go, the second polls the folder (and finds nothing left to take).
      await second.watcher.pollNow();
      await second.watcher.pollNow();
      assert.strictEqual(second.handed.length, 0);
      assert.strictEqual(second.statuses.at(-1), 'connected');
      assert.strictEqual(await redis.exists(first.watcher.lockKey), 0);
    } finally {
      await redis.quit();
    }
  });

  it('reports a folder that does not exist, and keeps polling', async () => {
    const { watcher, statuses, errors } = watch({ folder: 'no/such/folder' });
    await watcher.pollNow();
    assert.match(errors[0].message, /folder no\/such\/folder does not exist/);
    assert.strictEqual(statuses.at(-1), 'error');
  });

  it('survives sshd being killed while connected, and takes files again once it is back', async () => {
    const { watcher, handed, statuses, errors } = watch();
    watcher.start();
    await until(() => statuses.includes('connected'));
    await sshd.kill();
    await until(() => statuses.at(-1) === 'reconnecting');
    assert.ok(errors.some((e) => /refused|lost|closed/.test(e.message)), errors.map((e) => e.message).join('; '));
    await sshd.restart();
    fs.writeFileSync(local('after.txt'), 'back');
    await until(() => handed.length === 1);
    await until(() => fs.existsSync(local('processed', 'after.txt')));
    assert.strictEqual(handed[0].content!.toString(), 'back');
  });
});
