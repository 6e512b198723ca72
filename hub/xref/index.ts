import type Database from 'better-sqlite3';
import type Redis from 'ioredis';

export type { System, CrossReference, CrossReferenceStore } from '../../adapters/people/cross-references';
import type { System, CrossReference, CrossReferenceStore } from '../../adapters/people/cross-references';

export class SqliteCrossReferences implements CrossReferenceStore {
  private readonly getOne;
  private readonly upsert;
  private readonly listFor;

  constructor(db: Database.Database) {
    db.exec(`create table if not exists cross_reference (
      contact_id text not null, system text not null, ids text not null, found_at text not null,
      primary key (contact_id, system))`);
    this.getOne = db.prepare('select contact_id, system, ids, found_at from cross_reference where contact_id = ? and system = ?');
    this.upsert = db.prepare(`insert into cross_reference (contact_id, system, ids, found_at) values (?, ?, ?, ?)
      on conflict (contact_id, system) do update set ids = excluded.ids, found_at = excluded.found_at`);
    this.listFor = db.prepare('select contact_id, system, ids, found_at from cross_reference where contact_id = ? order by system');
  }

  private static row(r: any): CrossReference {
    return { contactId: r.contact_id, system: r.system, ids: JSON.parse(r.ids), foundAt: r.found_at };
  }

  async find(contactId: string, system: System) {
    const r = this.getOne.get(contactId, system);
    return r ? SqliteCrossReferences.row(r) : undefined;
  }

  async remember(contactId: string, system: System, ids: Record<string, string>) {
    this.upsert.run(contactId, system, JSON.stringify(ids), new Date().toISOString());
  }

  async all(contactId: string) {
    return this.listFor.all(contactId).map(SqliteCrossReferences.row);
  }
}

/** The journal's Redis key prefix when HUB_JOURNAL_PREFIX is not set. */
export const DEFAULT_JOURNAL_PREFIX = 'council-hub:journal:';

/**
 * The Redis key prefix of the cross-references: beside the journal's keys, so that a
 * deployment's (or a test run's) HUB_JOURNAL_PREFIX keeps them together. The one rule the
 * hub (which writes them) and `npm run reconcile` (which reads them) both use. An empty
 * journal prefix means the default, as HUB_JOURNAL_PREFIX does.
 */
export function crossReferencePrefix(journalPrefix: string | undefined): string {
  return `${journalPrefix || DEFAULT_JOURNAL_PREFIX}xref:`;
}

/** One hash per contact (field = system) so that several hub instances share what they found. */
export class RedisCrossReferences implements CrossReferenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'hub:xref:',
  ) {}

  async find(contactId: string, system: System) {
    const raw = await this.redis.hget(this.prefix + contactId, system);
    return raw ? { contactId, system, ...JSON.parse(raw) } : undefined;
  }

  async remember(contactId: string, system: System, ids: Record<string, string>) {
    await this.redis.hset(this.prefix + contactId, system, JSON.stringify({ ids, foundAt: new Date().toISOString() }));
  }

  async all(contactId: string) {
    const fields = await this.redis.hgetall(this.prefix + contactId);
    return Object.keys(fields)
      .sort()
      .map((system) => ({ contactId, system: system as System, ...JSON.parse(fields[system]) }));
  }
}
