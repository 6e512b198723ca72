import { randomUUID } from 'crypto';
import type Redis from 'ioredis';

/**
 * An instance's lease in the shared Redis: proof that it is alive, renewed at a third of its
 * time to live. Another instance that finds a lease gone takes over the dead one's work.
 *
 * Keys: <prefix>lease:<instance> holds the current incarnation's token (with expiry);
 * <prefix>instances is the set of instances that ever held one and may have work left.
 *
 * A renewal never re-creates a lease: an instance that was paused past its lease (a long GC,
 * SIGSTOP) finds its token gone and is told it lost the lease, even if nobody took over yet.
 * Only Redis decides: a renewal that comes late (the process was starved of CPU, or Redis
 * was restarting) but finds its token still there holds the lease, since nobody can take
 * over an instance whose lease is still in Redis. While Redis cannot be reached nobody can
 * take over either, so the instance keeps trying rather than step down.
 */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface LeaseOptions {
  redis: Redis;
  prefix: string;
  instance: string;
  /** How long a lease lives without renewal (default 15 s): the takeover time is about this. */
  ttlMs?: number;
  /** Told once when the lease is lost: the instance must step down. */
  onLost: (reason: string) => void;
  now?: () => number;
}

export class InstanceLease {
  readonly token = randomUUID();
  readonly ttlMs: number;
  private timer?: NodeJS.Timeout;
  private lastRenewedAt = 0;
  private lost = false;
  private renewing = false;
  private readonly now: () => number;

  constructor(private readonly options: LeaseOptions) {
    this.ttlMs = options.ttlMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  private key(instance: string): string {
    return `${this.options.prefix}lease:${instance}`;
  }

  private get registry(): string {
    return `${this.options.prefix}instances`;
  }

  /**
   * Takes the lease. A lease under the same instance name is this instance's previous
   * incarnation (names are unique per live process): it is replaced, and that incarnation,
   * should it still run, finds its token gone at its next renewal and steps down.
   */
  async acquire(): Promise<void> {
    const { redis, instance } = this.options;
    await redis.multi().set(this.key(instance), this.token, 'PX', this.ttlMs).sadd(this.registry, instance).exec();
    this.lastRenewedAt = this.now();
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  get held(): boolean {
    return !this.lost && this.lastRenewedAt > 0;
  }

  private lose(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    if (this.timer) clearInterval(this.timer);
    this.options.onLost(reason);
  }

  /** How long ago the lease was last renewed; more than its time to live means Redis may have let it lapse. */
  get sinceRenewedMs(): number {
    return this.now() - this.lastRenewedAt;
  }

  async renew(): Promise<boolean> {
    if (this.lost || this.renewing) return false;
    this.renewing = true;
    const started = this.now();
    const late = started - this.lastRenewedAt > this.ttlMs;
    try {
      const renewed = (await this.options.redis.eval(RENEW, 1, this.key(this.options.instance), this.token, String(this.ttlMs))) === 1;
      if (!renewed) {
        this.lose(
          late
            ? `the lease was last renewed ${started - this.lastRenewedAt} ms ago, longer than its ${this.ttlMs} ms (was this process paused?), and has lapsed: another instance may have taken its work`
            : 'the lease is no longer this process\'s (it lapsed, or another process took the instance name)',
        );
        return false;
      }
      // Counted from when the renewal was asked for: the lease may have been extended any time after.
      this.lastRenewedAt = started;
      return true;
    } catch {
      // Redis unreachable: nobody can take over meanwhile; try again at the next tick.
      return false;
    } finally {
      this.renewing = false;
    }
  }

  /** Instances registered with no live lease: their work is waiting to be taken over. */
  async lapsed(): Promise<string[]> {
    const { redis, instance } = this.options;
    const others = (await redis.smembers(this.registry)).filter((i) => i !== instance);
    if (!others.length) return [];
    const alive = await redis.mget(others.map((i) => this.key(i)));
    return others.filter((_, i) => alive[i] === null);
  }

  async isLive(instance: string): Promise<boolean> {
    return (await this.options.redis.exists(this.key(instance))) === 1;
  }

  /** The instance's work was taken over: it no longer needs to be looked at. */
  async forget(instance: string): Promise<void> {
    await this.options.redis.srem(this.registry, instance);
  }

  /** Clean stop: the lease goes at once, so that what is left is taken over without waiting for it to lapse. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.lost) return;
    this.lost = true;
    await this.options.redis.eval(RELEASE, 1, this.key(this.options.instance), this.token).catch(() => undefined);
  }
}
