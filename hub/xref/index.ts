import type Database from 'better-sqlite3';
import type Redis from 'ioredis';

export type { System, CrossReference, CrossReferenceStore, FoundWhere } from '../../adapters/people/cross-references';
import { recordKey, type System, type CrossReference, type CrossReferenceStore, type FoundWhere } from '../../adapters/people/cross-references';
import type { PersonalDataCodec } from '../journal/sealing';
import { groupCommitOf, type GroupCommit } from '../store';

/**
 * Where and as whom a record was found names the person (surname, forename): sealed with
 * the hub's data key when one is given (the UPRN stays in clear: the address index uses it).
 */
function sealWhere(codec: PersonalDataCodec | undefined, where: FoundWhere): unknown {
  return codec ? codec.seal(where) : where;
}

function openWhere(codec: PersonalDataCodec | undefined, stored: unknown): FoundWhere | undefined {
  if (typeof stored === 'string' && stored.startsWith('enc1:')) {
    if (!codec) throw new Error('cross-references: a sealed record needs the hub\'s data key');
    return codec.open(stored) as FoundWhere;
  }
  return stored as FoundWhere | undefined;
}

export class SqliteCrossReferences implements CrossReferenceStore {
  private readonly getOne;
  private readonly upsert;
  private readonly listFor;
  private readonly byRecord;
  private readonly byAddress;
  private readonly commits: GroupCommit;

  constructor(
    private readonly db: Database.Database,
    private readonly codec?: PersonalDataCodec,
  ) {
    db.exec(`create table if not exists cross_reference (
      contact_id text not null, system text not null, ids text not null, found_at text not null,
      primary key (contact_id, system))`);
    // Added after the first release: a database made before gets the columns here.
    const columns = new Set((db.prepare('pragma table_info(cross_reference)').all() as Array<{ name: string }>).map((c) => c.name));
    if (!columns.has('record_key')) db.exec('alter table cross_reference add column record_key text');
    if (!columns.has('found_where')) db.exec('alter table cross_reference add column found_where text');
    if (!columns.has('found_uprn')) db.exec('alter table cross_reference add column found_uprn text');
    db.exec('create index if not exists cross_reference_record on cross_reference(system, record_key)');
    db.exec('create index if not exists cross_reference_address on cross_reference(system, found_uprn)');
    const fields = 'contact_id, system, ids, found_at, found_where';
    this.getOne = db.prepare(`select ${fields} from cross_reference where contact_id = ? and system = ?`);
    this.upsert = db.prepare(`insert into cross_reference (contact_id, system, ids, found_at, record_key, found_where, found_uprn) values (?, ?, ?, ?, ?, ?, ?)
      on conflict (contact_id, system) do update set ids = excluded.ids, found_at = excluded.found_at, record_key = excluded.record_key,
        found_where = excluded.found_where, found_uprn = excluded.found_uprn`);
    this.listFor = db.prepare(`select ${fields} from cross_reference where contact_id = ? order by system`);
    this.byRecord = db.prepare('select contact_id from cross_reference where system = ? and record_key = ? order by found_at limit 1');
    this.byAddress = db.prepare(`select ${fields} from cross_reference where system = ? and found_uprn = ? order by found_at`);
    // Written in the journal's group commits: an upsert of its own would wait for a flush to disk of its own.
    this.commits = groupCommitOf(db);
  }

  private row = (r: any): CrossReference => {
    return { contactId: r.contact_id, system: r.system, ids: JSON.parse(r.ids), foundAt: r.found_at, ...(r.found_where ? { where: openWhere(this.codec, JSON.parse(r.found_where)) } : {}) };
  };

  async find(contactId: string, system: System) {
    const r = this.getOne.get(contactId, system);
    return r ? this.row(r) : undefined;
  }

  async remember(contactId: string, system: System, ids: Record<string, string>, where?: FoundWhere) {
    const found = new Date().toISOString();
    const whereText = where ? JSON.stringify(sealWhere(this.codec, where)) : null;
    await this.commits.write(() => this.upsert.run(contactId, system, JSON.stringify(ids), found, recordKey(ids), whereText, where?.uprn ?? null));
  }

  async all(contactId: string) {
    return this.listFor.all(contactId).map(this.row);
  }

  async owner(system: System, ids: Record<string, string>) {
    return (this.byRecord.get(system, recordKey(ids)) as { contact_id: string } | undefined)?.contact_id;
  }

  async foundAt(system: System, uprn: string) {
    return this.byAddress.all(system, uprn).map(this.row);
  }

  async forget(contactId: string) {
    return this.commits.write(() => this.db.prepare('delete from cross_reference where contact_id = ?').run(contactId).changes);
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

/**
 * One hash per contact (field = system) so that several hub instances share what they
 * found; beside it the reverse index (<prefix>~record:<system>:<ids> -> contact, first
 * found wins) and the addresses (<prefix>~at:<system>:<uprn>, a set of contacts).
 * Contact ids have no "~", so the indexes never meet a contact's hash.
 */
export class RedisCrossReferences implements CrossReferenceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'hub:xref:',
    private readonly codec?: PersonalDataCodec,
  ) {}

  private parse(contactId: string, system: System, raw: string): CrossReference {
    const { where, ...rest } = JSON.parse(raw);
    return { contactId, system, ...rest, ...(where !== undefined ? { where: openWhere(this.codec, where) } : {}) };
  }

  async find(contactId: string, system: System) {
    const raw = await this.redis.hget(this.prefix + contactId, system);
    return raw ? this.parse(contactId, system, raw) : undefined;
  }

  async remember(contactId: string, system: System, ids: Record<string, string>, where?: FoundWhere) {
    const multi = this.redis.multi();
    multi.hset(this.prefix + contactId, system, JSON.stringify({ ids, foundAt: new Date().toISOString(), ...(where ? { where: sealWhere(this.codec, where) } : {}) }));
    multi.set(`${this.prefix}~record:${system}:${recordKey(ids)}`, contactId, 'NX');
    if (where) multi.sadd(`${this.prefix}~at:${system}:${where.uprn}`, contactId);
    await multi.exec();
  }

  async all(contactId: string) {
    const fields = await this.redis.hgetall(this.prefix + contactId);
    return Object.keys(fields)
      .sort()
      .map((system) => this.parse(contactId, system as System, fields[system]));
  }

  async owner(system: System, ids: Record<string, string>) {
    return (await this.redis.get(`${this.prefix}~record:${system}:${recordKey(ids)}`)) ?? undefined;
  }

  async foundAt(system: System, uprn: string) {
    const contacts = await this.redis.smembers(`${this.prefix}~at:${system}:${uprn}`);
    const found = await Promise.all(contacts.sort().map((c) => this.find(c, system)));
    return found.filter((x): x is CrossReference => !!x && x.where?.uprn === uprn);
  }

  async forget(contactId: string) {
    const found = await this.all(contactId);
    if (!found.length) return 0;
    const multi = this.redis.multi();
    for (const x of found) {
      // The reverse entry goes only while it still names this contact (first found wins).
      const record = `${this.prefix}~record:${x.system}:${recordKey(x.ids)}`;
      if ((await this.redis.get(record)) === contactId) multi.del(record);
      if (x.where) multi.srem(`${this.prefix}~at:${x.system}:${x.where.uprn}`, contactId);
    }
    multi.del(this.prefix + contactId);
    await multi.exec();
    return found.length;
  }
}
