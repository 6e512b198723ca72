import fs from 'fs';
import path from 'path';
import { SimulatorControl } from './control';
import { FaultSwitch, SystemFault } from './faults';

/**
 * What the file-based systems (revenues, finance, payments) share: they work on the
 * folder that is the SFTP server's root, directly, as a program on the SFTP host would,
 * and look at their folders every pollMs.
 */

/** Writes a file whole under a temp name (.part) and renames it, so a reader never sees half of it. */
export async function writeFileWhole(file: string, content: string | Buffer): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.part`;
  await fs.promises.writeFile(temp, content);
  await fs.promises.rename(temp, file);
}

/** Moves a file into a folder (created if missing), keeping its name. */
export async function moveInto(file: string, folder: string): Promise<string> {
  await fs.promises.mkdir(folder, { recursive: true });
  const target = path.join(folder, path.basename(file));
  await fs.promises.rename(file, target);
  return target;
}

/** The names of the plain files in a folder that match, sorted (oldest name first); none if the folder is missing. */
export async function listFiles(folder: string, pattern: RegExp): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(folder, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile() && pattern.test(e.name))
    .map((e) => e.name)
    .sort();
}

export interface FolderSystemOptions {
  /** the SFTP root folder */
  root: string;
  /** how often the folders are looked at (default 1000 ms); 0: only when processNow() is called */
  pollMs?: number;
  seed?: string;
}

export interface PassResult {
  /** files handled on this pass */
  processed: string[];
  /** files left for the next pass (ServiceUnavailable switched on) */
  deferred: string[];
}

/**
 * A system that takes files from its folders: processNow() handles what is there (one
 * pass at a time), and a timer calls it every pollMs. While down, nothing is taken;
 * slowMs waits before each file; failNext/failPercent leave a file for a later pass.
 */
export abstract class FolderSystem implements SimulatorControl {
  abstract readonly system: string;
  abstract readonly actions: SimulatorControl['actions'];
  readonly faults: FaultSwitch;
  readonly root: string;
  private timer?: NodeJS.Timeout;
  private pass: Promise<PassResult> = Promise.resolve({ processed: [], deferred: [] });
  private stopped = false;
  /** the last error of a pass (a file the system could not read), for inspection */
  lastError?: string;

  constructor(
    system: string,
    protected readonly options: FolderSystemOptions,
  ) {
    this.faults = new FaultSwitch(system, options.seed);
    this.root = options.root;
  }

  /** The files waiting to be taken, in order. */
  protected abstract pending(): Promise<string[]>;
  /** Handles one file completely. */
  protected abstract handle(name: string): Promise<void>;
  abstract state(): unknown;

  start(): void {
    const pollMs = this.options.pollMs ?? 1000;
    if (pollMs <= 0) return;
    const tick = async () => {
      await this.processNow().catch((err) => (this.lastError = (err as Error).message));
      if (!this.stopped) {
        this.timer = setTimeout(tick, pollMs);
        this.timer.unref();
      }
    };
    this.timer = setTimeout(tick, pollMs);
    this.timer.unref();
  }

  /** One pass over the waiting files (after any pass already running). */
  processNow(): Promise<PassResult> {
    this.pass = this.pass.catch(() => undefined).then(async () => {
      const result: PassResult = { processed: [], deferred: [] };
      if (this.faults.isDown) return result;
      for (const name of await this.pending()) {
        try {
          await this.faults.beforeCall();
        } catch (err) {
          if (!(err instanceof SystemFault)) throw err;
          result.deferred.push(name);
          continue;
        }
        await this.handle(name);
        result.processed.push(name);
      }
      return result;
    });
    return this.pass;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pass.catch(() => undefined);
  }
}
