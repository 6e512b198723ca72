import type Redis from 'ioredis';
import type { GazetteerInUse, GazetteerVersionsPort } from './port';

/**
 * Which gazetteer version each instance answers from. Gazetteer nodes record theirs through
 * the port; /healthz shows this instance's, and, when instances share Redis, any other
 * instance's that differs (e.g. one that has not yet applied the latest change-only volume).
 */
export class GazetteerVersions implements GazetteerVersionsPort {
  private readonly inUse = new Map<string, GazetteerInUse>();

  constructor(private readonly instance: string, private readonly redis?: Redis, private readonly prefix = '') {}

  private get key(): string {
    return `${this.prefix}gazetteer-versions`;
  }

  async record(entry: GazetteerInUse): Promise<void> {
    this.inUse.set(entry.file, entry);
    await this.redis?.hset(this.key, `${this.instance}|${entry.file}`, JSON.stringify({ ...entry, instance: this.instance }));
  }

  /** What every instance sharing the store uses, by instance and file (only this one's without a shared store). */
  async shared(): Promise<Array<GazetteerInUse & { instance: string }>> {
    if (!this.redis) return [...this.inUse.values()].map((entry) => ({ ...entry, instance: this.instance }));
    return Object.values(await this.redis.hgetall(this.key)).map((text) => JSON.parse(text) as GazetteerInUse & { instance: string });
  }

  /** The /healthz detail: "<file>: <version> (<n> addresses)", and other instances that differ. */
  async describe(): Promise<string> {
    if (this.inUse.size === 0) return 'no gazetteer loaded by this instance';
    // Redis down: /healthz says so under "redis"; this instance's version is still worth showing.
    const everyone = this.redis ? await this.shared().catch(() => []) : [];
    const others = everyone.filter((e) => e.instance !== this.instance);
    return [...this.inUse.values()]
      .map((mine) => {
        const differ = others.filter((o) => o.file === mine.file && o.version !== mine.version).map((o) => `instance ${o.instance} uses ${o.version}`);
        return `${mine.file}: ${mine.version} (${mine.addresses} addresses)${differ.length ? `; ${differ.join('; ')}` : ''}`;
      })
      .join('; ');
  }
}
