import path from 'path';
import type { Readable } from 'stream';
import type Redis from 'ioredis';
import type SftpClient from 'ssh2-sftp-client';
import { withLock } from '../redis/lock';
import type { SftpConnection } from './connection';
import { classifyError } from '../errors';
import { SftpError } from './errors';
import { remotePath, uploadAtomically } from './write';

/** A file taken from a watched folder, handed to the flow. */
export interface SftpIncomingFile {
  /** The watched folder, as configured. */
  folder: string;
  name: string;
  size: number;
  /** Last modification, ms since the epoch. */
  modifyTime: number;
  /** Where the file is while it is being handled: <folder>/processing/<name>. */
  path: string;
  /** True when it was found in processing/ (left there by a crash) and is offered again. */
  recovered: boolean;
  /** The whole file, for files up to the stream threshold. */
  content?: Buffer;
  /** A stream of the file, for larger ones. Read it before settling. */
  stream?: Readable;
}

export type SftpWatchStatus = 'polling' | 'connected' | 'reconnecting' | 'standby' | 'error';

export interface SftpWatchOptions {
  /** Remote folder, relative to the login's start directory or absolute. */
  folder: string;
  /** Glob on the file name (`*` and `?`), default `*`. Names ending in .part are never taken. */
  pattern?: string;
  /** Default 5000 ms. */
  pollIntervalMs?: number;
  /** Files larger than this are handed over as a stream instead of a Buffer. Default 10 MiB. */
  streamThresholdBytes?: number;
  /** With a Redis client, only one hub instance polls the folder at a time. */
  redis?: Redis;
  /** Default 'councilhub:sftp-watch'; the key is <prefix>:<host>:<port>:<folder>. */
  lockKeyPrefix?: string;
  /** Default 30000 ms; renewed while the holder works. */
  lockTtlMs?: number;
  /**
   * Handles one file. Resolve when it is safely dealt with (the file moves to processed/);
   * reject with the reason it cannot be (the file moves to failed/ with <name>.reason.txt).
   */
  onFile(file: SftpIncomingFile): Promise<void>;
  onStatus?(status: SftpWatchStatus, detail?: string): void;
  /** Errors of a poll (connection, folder, moves); the watcher carries on polling. */
  onError?(error: Error): void;
}

export const PROCESSING = 'processing';
export const PROCESSED = 'processed';
export const FAILED = 'failed';
const DEFAULT_STREAM_THRESHOLD = 10 * 1024 * 1024;
const STOP_WAIT_MS = 5000;

interface Outcome {
  ok: boolean;
  reason?: string;
}

/** Files this process is handling, across watchers: a redeployed watcher must not offer them again. */
const inFlight = new Set<string>();

/** `*` and `?` globs on a file name; the rest is literal. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** `PAY_1.txt` -> `PAY_1.20261123T093000123Z.txt`, for a name already taken in processed/ or failed/. */
function stampedName(name: string, now = new Date()): string {
  const ext = path.posix.extname(name);
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${path.posix.basename(name, ext)}.${stamp}${ext}`;
}

/**
 * Watches a folder on an SFTP server: a file is taken once its size and mtime have not
 * changed between two polls, claimed by renaming it into processing/ (so that another
 * instance cannot take it too), handed to onFile, and then moved to processed/ or, with
 * the reason beside it, to failed/. Files found in processing/ when the watcher starts
 * (or, with Redis, whenever it takes over the folder) are offered again: at least once.
 */
export class SftpFolderWatcher {
  private readonly folder: string;
  private readonly pattern: RegExp;
  private readonly pollIntervalMs: number;
  private readonly streamThreshold: number;
  /** Size and mtime of each candidate at the last poll. */
  private lastSeen = new Map<string, string>();
  /** Files in processing/ that this watcher claimed and has not settled yet. */
  private owned = new Set<string>();
  /** Outcomes decided but not yet applied on the server (the move failed). */
  private outcomes = new Map<string, Outcome>();
  private recovered = false;
  private timer?: NodeJS.Timeout;
  private cycle?: Promise<void>;
  private started = false;
  private stopped = false;
  private fileErrors = 0;

  constructor(
    private readonly connection: SftpConnection,
    private readonly options: SftpWatchOptions,
  ) {
    if (!options.folder) throw new SftpError('CONFIGURATION', 'no folder to watch');
    this.folder = options.folder;
    this.pattern = globToRegExp(options.pattern || '*');
    this.pollIntervalMs = options.pollIntervalMs ?? 5000;
    this.streamThreshold = options.streamThresholdBytes ?? DEFAULT_STREAM_THRESHOLD;
  }

  get lockKey(): string {
    const { host, port } = this.connection.endpoint;
    return `${this.options.lockKeyPrefix ?? 'councilhub:sftp-watch'}:${host}:${port ?? 22}:${path.posix.normalize(this.folder)}`;
  }

  /** Polls now and then every pollIntervalMs until stop(). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops polling for good; waits a little for a file in hand (one left in processing/ is offered again at the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.cycle) await Promise.race([this.cycle, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
  }

  /** One poll now (serialised with the timer's polls). Never throws: errors go to onError. */
  async pollNow(): Promise<void> {
    while (this.cycle) await this.cycle;
    this.cycle = this.runCycle().finally(() => (this.cycle = undefined));
    return this.cycle;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.pollNow().then(() => this.schedule(this.pollIntervalMs));
    }, delayMs);
  }

  private status(status: SftpWatchStatus, detail?: string): void {
    this.options.onStatus?.(status, detail);
  }

  private async runCycle(): Promise<void> {
    try {
      if (this.options.redis) {
        const held = await withLock(this.options.redis, this.lockKey, this.options.lockTtlMs ?? 30000, () => this.poll(true), (error) =>
          this.options.onError?.(error),
        );
        if (!held) {
          this.status('standby', 'another hub instance is polling this folder');
          return;
        }
      } else {
        await this.poll(!this.recovered);
      }
      this.recovered = true;
      if (!this.fileErrors) this.status('connected');
    } catch (err) {
      const error = err as Error;
      const lost = error instanceof SftpError && ['CONNECTION_LOST', 'CONNECTION_REFUSED', 'CONNECTION_FAILED'].includes(error.code);
      this.status(lost || this.connection.state !== 'connected' ? 'reconnecting' : 'error', error.message);
      this.options.onError?.(error);
    }
  }

  private async poll(recover: boolean): Promise<void> {
    this.status('polling');
    this.fileErrors = 0;
    const processing = remotePath(this.folder, PROCESSING);
    const candidates = await this.connection.run(async (sftp) => {
      if (!(await sftp.exists(this.folder))) throw new SftpError('NOT_FOUND', `folder ${this.folder} does not exist on ${this.connection.where}`);
      for (const sub of [PROCESSING, PROCESSED, FAILED]) {
        if (!(await sftp.exists(remotePath(this.folder, sub)))) await sftp.mkdir(remotePath(this.folder, sub), true);
      }
      return sftp.list(this.folder);
    });

    // Leftovers in processing/: ours to finish, or (at start / on taking over) a crash's.
    if (recover || this.owned.size) {
      const leftovers = await this.connection.run((sftp) => sftp.list(processing));
      for (const file of leftovers.filter((f) => f.type === '-').sort((a, b) => a.name.localeCompare(b.name))) {
        if (this.stopped) return;
        if (inFlight.has(this.inFlightKey(file.name))) continue;
        const outcome = this.outcomes.get(file.name);
        await this.guard(async () => {
          if (outcome) await this.settle(file.name, outcome);
          else if (recover || this.owned.has(file.name)) await this.offer(file.name, file.size, file.modifyTime, true);
        });
      }
    }

    // New files: taken only when unchanged since the previous poll.
    const seen = new Map<string, string>();
    const stable: typeof candidates = [];
    for (const file of candidates) {
      if (file.type !== '-' || file.name.endsWith('.part') || !this.pattern.test(file.name)) continue;
      const signature = `${file.size}/${file.modifyTime}`;
      seen.set(file.name, signature);
      if (this.lastSeen.get(file.name) === signature) stable.push(file);
    }
    this.lastSeen = seen;
    for (const file of stable.sort((a, b) => a.name.localeCompare(b.name))) {
      if (this.stopped) return;
      await this.guard(async () => {
        if (await this.claim(file.name)) {
          this.lastSeen.delete(file.name);
          await this.offer(file.name, file.size, file.modifyTime, false);
        }
      });
    }
  }

  /** One file's trouble is reported and the poll goes on with the next; a lost connection ends the poll. */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (this.connection.state !== 'connected') throw err;
      this.fileErrors += 1;
      this.options.onError?.(err as Error);
      this.status('error', (err as Error).message);
    }
  }

  private inFlightKey(name: string): string {
    return `${this.connection.where}|${this.lockKey}|${name}`;
  }

  /** Renames the file into processing/. False when another instance claimed it first. */
  private async claim(name: string): Promise<boolean> {
    return this.connection.run(async (sftp) => {
      try {
        await sftp.rename(remotePath(this.folder, name), remotePath(this.folder, `${PROCESSING}/${name}`));
        this.owned.add(name);
        return true;
      } catch (err) {
        if (!(await sftp.exists(remotePath(this.folder, name)))) return false; // someone else has it
        throw err;
      }
    });
  }

  private async offer(name: string, size: number, modifyTime: number, recovered: boolean): Promise<void> {
    const key = this.inFlightKey(name);
    inFlight.add(key);
    this.owned.add(name);
    const filePath = remotePath(this.folder, `${PROCESSING}/${name}`);
    let stream: Readable | undefined;
    let readError: Error | undefined;
    try {
      const file: SftpIncomingFile = { folder: this.folder, name, size, modifyTime, path: filePath, recovered };
      if (size > this.streamThreshold) {
        stream = await this.connection.run(async (sftp) => sftp.createReadStream(filePath) as unknown as Readable);
        // Never unhandled; and a read that failed is not the file's fault when the connection went.
        stream.on('error', (err: Error) => (readError = err));
        file.stream = stream;
      } else {
        file.content = await this.connection.run(async (sftp) => (await sftp.get(filePath)) as Buffer);
      }
      let outcome: Outcome;
      try {
        await this.options.onFile(file);
        outcome = { ok: true };
      } catch (err) {
        // Not the file's fault (the hub's store was away): it stays in processing/ and is offered again next poll.
        if (classifyError(err, 'permanent') === 'transient') {
          stream?.destroy();
          this.options.onError?.(new SftpError('FILE_DEFERRED', `${name} stays in ${PROCESSING}/ and is offered again: ${(err as Error)?.message ?? String(err)}`));
          return;
        }
        // An error may carry the whole text of the reason file when its message is a summary.
        const reasonText = (err as { reasonText?: unknown })?.reasonText;
        outcome = { ok: false, reason: typeof reasonText === 'string' ? reasonText : ((err as Error)?.message ?? String(err)) };
      }
      stream?.destroy();
      if (readError && this.connection.state !== 'connected') {
        throw new SftpError('CONNECTION_LOST', `the connection to ${this.connection.where} was lost while ${name} was read: ${readError.message}`);
      }
      this.outcomes.set(name, outcome);
      await this.settle(name, outcome);
    } finally {
      stream?.destroy();
      inFlight.delete(key);
    }
  }

  /** Moves a handled file out of processing/: to processed/, or to failed/ with its reason beside it. */
  private async settle(name: string, outcome: Outcome): Promise<void> {
    const destination = outcome.ok ? PROCESSED : FAILED;
    await this.connection.run(async (sftp: SftpClient) => {
      let target = name;
      if (await sftp.exists(remotePath(this.folder, `${destination}/${target}`))) target = stampedName(name);
      if (!outcome.ok) {
        const text = outcome.reason ?? 'failed';
        const reason = Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8');
        await uploadAtomically(sftp, remotePath(this.folder, `${FAILED}/${target}.reason.txt`), reason, true);
      }
      await sftp.rename(remotePath(this.folder, `${PROCESSING}/${name}`), remotePath(this.folder, `${destination}/${target}`));
    });
    this.outcomes.delete(name);
    this.owned.delete(name);
  }
}
