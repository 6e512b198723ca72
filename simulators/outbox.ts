import * as soap from 'soap';

/**
 * What a system sends out on its own (the CRM's contact events, housing's repair
 * status): each item is tried at once and, while it fails, again every retryMs, in order,
 * until delivered. The record of every item stays for inspection.
 */
export interface OutboxItem<T> {
  id: string;
  payload: T;
  attempts: number;
  status: 'pending' | 'delivered';
  lastError?: string;
  deliveredAt?: string;
  result?: unknown;
}

export class Outbox<T> {
  private readonly items: OutboxItem<T>[] = [];
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly deliver: (payload: T) => Promise<unknown>,
    private readonly retryMs: number,
  ) {}

  /** Queues the item and tries it (and anything still pending before it) now. */
  async add(id: string, payload: T): Promise<OutboxItem<T>> {
    const item: OutboxItem<T> = { id, payload, attempts: 0, status: 'pending' };
    this.items.push(item);
    await this.flush();
    return item;
  }

  /** Tries every pending item, oldest first, stopping at the first failure (order matters to the receiver). */
  flush(): Promise<void> {
    this.running = this.running.then(async () => {
      for (const item of this.items) {
        if (item.status === 'delivered' || this.closed) continue;
        item.attempts++;
        try {
          item.result = await this.deliver(item.payload);
          item.status = 'delivered';
          item.deliveredAt = new Date().toISOString();
          item.lastError = undefined;
        } catch (err) {
          item.lastError = (err as Error).message;
          this.scheduleRetry();
          return;
        }
      }
    });
    return this.running;
  }

  private scheduleRetry(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.retryMs);
    this.timer.unref();
  }

  list(): OutboxItem<T>[] {
    return this.items.slice();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

/** A SOAP client of one of the hub's services, built from the WSDL the hub serves (<url>?wsdl) on first use. */
export class HubSoapClient {
  private client?: Promise<soap.Client>;

  constructor(readonly url: string) {}

  async call(operation: string, args: object): Promise<any> {
    this.client ??= soap.createClientAsync(`${this.url}?wsdl`, { disableCache: true });
    try {
      const client = await this.client;
      const [result] = await client[`${operation}Async`](args);
      return result;
    } catch (err) {
      // Build the client again next time: the hub may have been down when we asked for the WSDL.
      this.client = undefined;
      throw err;
    }
  }
}
