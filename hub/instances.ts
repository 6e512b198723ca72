import type Redis from 'ioredis';
import { InstanceLease } from '../adapters/redis/lease';
import { withLock } from '../adapters/redis/lock';
import type { Journal } from './journal/journal';

/**
 * Several hub instances on one Redis journal: each holds a lease; when one's lease lapses
 * (the VM was replaced, the container rescheduled under a new name, the process paused),
 * another takes its in-flight deliveries and unfinished messages and finishes them. One
 * instance does each takeover (a lock per dead instance), and only once the lease is really
 * gone. Pending, failed and awaiting-answer deliveries need no takeover: any instance claims
 * a due retry, releases a held delivery or settles an answer.
 */
export interface Takeover {
  instance: string;
  by: string;
  at: number;
  deliveries: number;
  messages: number;
}

export interface InstancesOptions {
  redis: Redis;
  prefix: string;
  journal: Journal;
  leaseMs: number;
  /** The lease is lost: this process must do no more work (see README, Scale-out). */
  stepDown: (reason: string) => void;
  log: { info(message: string): void; warn(message: string): void };
}

const KEPT_TAKEOVERS = 50;

export class Instances {
  private readonly lease: InstanceLease;
  private timer?: NodeJS.Timeout;
  private sweeping = false;

  constructor(private readonly options: InstancesOptions) {
    this.lease = new InstanceLease({ redis: options.redis, prefix: options.prefix, instance: options.journal.instance, ttlMs: options.leaseMs, onLost: (reason) => options.stepDown(reason) });
  }

  get instance(): string {
    return this.options.journal.instance;
  }

  /** Takes this instance's lease, then looks for lapsed ones at half its time to live. */
  async start(): Promise<void> {
    await this.lease.acquire();
    this.timer = setInterval(() => void this.sweep(), Math.max(100, Math.floor(this.options.leaseMs / 2)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.lease.release();
  }

  /** Takes over the work of every instance whose lease lapsed. Returns what it took. */
  async sweep(): Promise<Takeover[]> {
    if (this.sweeping || !this.lease.held) return [];
    this.sweeping = true;
    const taken: Takeover[] = [];
    try {
      for (const dead of await this.lease.lapsed()) {
        const held = await withLock(this.options.redis, `${this.options.prefix}takeover:${dead}`, this.options.leaseMs, async () => {
          // Looked at again under the lock: it may have come back, or another instance finished the takeover.
          if (await this.lease.isLive(dead)) return undefined;
          const { deliveries, messages } = await this.options.journal.recover(dead);
          await this.lease.forget(dead);
          const takeover: Takeover = { instance: dead, by: this.instance, at: Date.now(), deliveries, messages };
          await this.options.redis.multi().lpush(`${this.options.prefix}takeovers`, JSON.stringify(takeover)).ltrim(`${this.options.prefix}takeovers`, 0, KEPT_TAKEOVERS - 1).exec();
          return takeover;
        });
        if (held?.result) {
          taken.push(held.result);
          this.options.log.info(`council-hub: instance ${dead} stopped renewing its lease; ${this.instance} took over ${held.result.deliveries} in-flight deliveries and ${held.result.messages} unfinished messages`);
        }
      }
    } catch (err) {
      this.options.log.warn(`council-hub: looking for instances to take over failed: ${(err as Error).message}`);
    } finally {
      this.sweeping = false;
    }
    return taken;
  }

  /** For /healthz: this instance's lease, the live ones, the latest takeovers. */
  async describe(): Promise<string> {
    if (!this.lease.held) throw new Error(`instance ${this.instance} does not hold its lease: it is stepping down`);
    const { redis, prefix } = this.options;
    const known = await redis.smembers(`${prefix}instances`);
    const lapsed = new Set(await this.lease.lapsed());
    const live = known.filter((i) => !lapsed.has(i));
    const recent = (await redis.lrange(`${prefix}takeovers`, 0, 2)).map((raw) => JSON.parse(raw) as Takeover);
    const takeovers = recent.map((t) => `${t.by} took over ${t.instance} at ${new Date(t.at).toISOString()} (${t.deliveries} deliveries, ${t.messages} messages)`);
    return [`lease held by ${this.instance} (${this.options.leaseMs / 1000} s)`, `live: ${live.sort().join(', ')}`, ...(lapsed.size ? [`lapsed: ${[...lapsed].join(', ')}`] : []), ...takeovers].join('; ');
  }

  /** The latest takeovers, newest first (kept in Redis for every instance to show). */
  async takeovers(limit = KEPT_TAKEOVERS): Promise<Takeover[]> {
    return (await this.options.redis.lrange(`${this.options.prefix}takeovers`, 0, limit - 1)).map((raw) => JSON.parse(raw) as Takeover);
  }
}
