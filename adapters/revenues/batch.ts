import { permanentError } from '../errors';

/**
 * Collects revenues request rows and releases them as one file when the batch is full
 * (count) or its oldest row has waited long enough (age), whichever comes first.
 */
export interface BatchOptions {
  maxRows: number;
  maxAgeMs: number;
}

export class RequestBatch<T> {
  private rows: T[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly options: BatchOptions,
    private readonly release: (rows: T[]) => void,
  ) {
    if (!(options.maxRows >= 1)) throw permanentError('CONFIGURATION', 'a batch needs maxRows of at least 1');
  }

  add(row: T): void {
    this.rows.push(row);
    if (this.rows.length >= this.options.maxRows) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.options.maxAgeMs);
      this.timer.unref();
    }
  }

  get size(): number {
    return this.rows.length;
  }

  /** Releases what is waiting now (also on close). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.rows.length) return;
    const rows = this.rows;
    this.rows = [];
    this.release(rows);
  }
}
