import type Redis from 'ioredis';
import { tryAcquireLock } from '../../adapters/redis/lock';
import { KeyedMutex } from './mutex';
import { newestLive } from './order';
import { demoCodec, PersonalDataCodec } from './sealing';
import {
  AuditRecord,
  ErasureRecord,
  PurgeReport,
  RetentionCutoffs,
  Change,
  ConflictError,
  Counts,
  DeliveryFilter,
  DeliveryRecord,
  DeliveryStatus,
  Hop,
  JournalStore,
  MessageFilter,
  MessageRecord,
  Page,
  openStatuses,
  prunableStatuses,
} from './types';

/**
 * The shared journal store: several hub instances use one Redis. Records are JSON strings;
 * the indexes (by status, by key, due retries, in-flight per instance, counts) are sorted
 * sets, sets and a hash that Lua scripts change together with the records, so a record and
 * its indexes never disagree. Writes check record versions inside the script. Keys are
 * built inside the scripts, so this needs one Redis (or a cluster with one hash slot per
 * prefix), not a sharded cluster.
 *
 * Keys under the prefix: m:<id> message, msrc:<source>\n<sourceMessageId> -> id, mt (zset,
 * received time), mrecv:<instance> (set, not yet routed), d:<id> delivery, dt (zset, updated
 * time), ds:<status> (zset), due (zset, next attempt), dinf:<owner> (set, in flight),
 * mk:<key> (zset, received time; mk-built once indexed), dk:<target>\n<key> and dm:<messageId> (sets), cnt (hash status\ntarget -> n), h:<messageId>
 * (list of hops), a:<id> audit, at / ad:<deliveryId> / am:<messageId> (zsets), seq, lock:<name>;
 * instances (set: every instance with work here), lease:<instance>, takeover:<instance>,
 * takeovers (list) for hub/instances.ts; er:<id> erasure tombstone, erx:<record id> -> erasure
 * id, ers (zset, erasure time).
 *
 * Messages and deliveries are sealed (hub/journal/sealing.ts): their payloads and stored
 * messages are one encrypted field; what the scripts read (ids, status, versions, times,
 * target, key, owner) is in clear.
 */
const INSERT_MESSAGE = `
local p = ARGV[1]
if ARGV[2] ~= '' then
  local existing = redis.call('GET', p .. 'msrc:' .. ARGV[2])
  if existing then return {0, redis.call('GET', p .. 'm:' .. existing)} end
end
if redis.call('EXISTS', p .. 'm:' .. ARGV[3]) == 1 then return redis.error_reply('CONFLICT message ' .. ARGV[3] .. ' already exists') end
if ARGV[2] ~= '' then redis.call('SET', p .. 'msrc:' .. ARGV[2], ARGV[3]) end
redis.call('SET', p .. 'm:' .. ARGV[3], ARGV[4])
redis.call('ZADD', p .. 'mt', ARGV[5], ARGV[3])
if ARGV[7] ~= '' then redis.call('ZADD', p .. 'mk:' .. ARGV[7], ARGV[5], ARGV[3]) end
redis.call('SADD', p .. 'mrecv:' .. ARGV[6], ARGV[3])
-- the instance has work here: should its lease lapse, another instance takes it over
redis.call('SADD', p .. 'instances', ARGV[6])
return {1, ARGV[4]}
`;

const COMMIT = `
local p = ARGV[1]
local meta = cjson.decode(ARGV[2])
local oldm = {}
for i, m in ipairs(meta.messages) do
  local cur = redis.call('GET', p .. 'm:' .. m.id)
  if cur then cur = cjson.decode(cur) end
  if (not cur) or cur.version ~= m.version - 1 then
    return redis.error_reply('CONFLICT message ' .. m.id .. ' changed meanwhile')
  end
  oldm[i] = cur
end
local olds = {}
for i, d in ipairs(meta.deliveries) do
  local cur = redis.call('GET', p .. 'd:' .. d.id)
  local old = false
  if cur then old = cjson.decode(cur) end
  local v = 0
  if old then v = old.version end
  if v ~= d.version - 1 then return redis.error_reply('CONFLICT delivery ' .. d.id .. ' changed meanwhile') end
  olds[i] = old
end
local n = 3
for i, m in ipairs(meta.messages) do
  redis.call('SET', p .. 'm:' .. m.id, ARGV[n]); n = n + 1
  -- a takeover moves a message to another instance's set
  if oldm[i].instance ~= m.instance then redis.call('SREM', p .. 'mrecv:' .. oldm[i].instance, m.id) end
  if m.status ~= 'received' then redis.call('SREM', p .. 'mrecv:' .. m.instance, m.id)
  elseif oldm[i].instance ~= m.instance then redis.call('SADD', p .. 'mrecv:' .. m.instance, m.id) end
end
for i, d in ipairs(meta.deliveries) do
  local old = olds[i]
  redis.call('SET', p .. 'd:' .. d.id, ARGV[n]); n = n + 1
  if old then
    redis.call('ZREM', p .. 'ds:' .. old.status, d.id)
    redis.call('HINCRBY', p .. 'cnt', old.status .. '\\n' .. old.target, -1)
    if old.owner then redis.call('SREM', p .. 'dinf:' .. old.owner, d.id) end
  else
    redis.call('SADD', p .. 'dk:' .. d.target .. '\\n' .. d.key, d.id)
    redis.call('SADD', p .. 'dm:' .. d.messageId, d.id)
  end
  redis.call('ZADD', p .. 'ds:' .. d.status, d.updatedAt, d.id)
  redis.call('ZADD', p .. 'dt', d.updatedAt, d.id)
  redis.call('HINCRBY', p .. 'cnt', d.status .. '\\n' .. d.target, 1)
  if (d.status == 'failed' or d.status == 'awaiting-answer') and d.nextAttemptAt then
    redis.call('ZADD', p .. 'due', d.nextAttemptAt, d.id)
  else
    redis.call('ZREM', p .. 'due', d.id)
  end
  if d.status == 'in-flight' and d.owner then
    redis.call('SADD', p .. 'dinf:' .. d.owner, d.id)
    redis.call('SADD', p .. 'instances', d.owner)
  end
end
for _, a in ipairs(meta.audit) do
  redis.call('SET', p .. 'a:' .. a.id, ARGV[n]); n = n + 1
  redis.call('ZADD', p .. 'at', a.at, a.id)
  if a.deliveryId then redis.call('ZADD', p .. 'ad:' .. a.deliveryId, a.at, a.id) end
  if a.messageId then redis.call('ZADD', p .. 'am:' .. a.messageId, a.at, a.id) end
end
return 'OK'
`;

/** Lua: deletes the delivery `d` (decoded) and takes it out of every index; shared by PRUNE and PURGE. */
/** Lua: deletes message `m` (decoded, id `id`) with its hops and its index entries. */
const DELETE_MESSAGE = `      redis.call('DEL', p .. 'm:' .. id, p .. 'h:' .. id)
      redis.call('ZREM', p .. 'mt', id)
      if type(m.key) == 'string' then redis.call('ZREM', p .. 'mk:' .. m.key, id) end
      if type(m.sourceMessageId) == 'string' then redis.call('DEL', p .. 'msrc:' .. m.source .. '\\n' .. m.sourceMessageId) end`;

const DELETE_DELIVERY = `      redis.call('DEL', p .. 'd:' .. d.id)
      redis.call('ZREM', p .. 'ds:' .. d.status, d.id)
      redis.call('ZREM', p .. 'dt', d.id)
      redis.call('SREM', p .. 'dk:' .. d.target .. '\\n' .. d.key, d.id)
      redis.call('SREM', p .. 'dm:' .. d.messageId, d.id)
      redis.call('HINCRBY', p .. 'cnt', d.status .. '\\n' .. d.target, -1)`;

/** Deletes settled deliveries (ids in ARGV) and then messages left with no delivery and no audit. */
const PRUNE = `
local p = ARGV[1]
local before = tonumber(ARGV[2])
local gone = 0
local messages = {}
for i = 3, #ARGV do
  local cur = redis.call('GET', p .. 'd:' .. ARGV[i])
  if cur then
    local d = cjson.decode(cur)
    local settled = d.settledAt or d.updatedAt
    if (d.status == 'delivered' or d.status == 'skipped' or d.status == 'superseded') and settled < before then
${DELETE_DELIVERY}
      messages[d.messageId] = true
      gone = gone + 1
    end
  end
end
for id, _ in pairs(messages) do
  local cur = redis.call('GET', p .. 'm:' .. id)
  if cur then
    local m = cjson.decode(cur)
    if m.status == 'routed' and m.receivedAt < before and redis.call('SCARD', p .. 'dm:' .. id) == 0 and redis.call('ZCARD', p .. 'am:' .. id) == 0 then
${DELETE_MESSAGE}
    end
  end
end
return gone
`;

/**
 * A retention run's step: deletes the deliveries in ARGV that are of the kind (ARGV[3]) and
 * settled before ARGV[2], then their messages once no delivery of theirs is left. Returns
 * {deliveries, messages}.
 */
const PURGE = `
local p = ARGV[1]
local before = tonumber(ARGV[2])
local kind = ARGV[3]
local gone = 0
local messages = {}
for i = 4, #ARGV do
  local cur = redis.call('GET', p .. 'd:' .. ARGV[i])
  if cur then
    local d = cjson.decode(cur)
    local settled = d.settledAt or d.updatedAt
    local due = false
    if kind == 'settled' then due = (d.status == 'delivered' or d.status == 'skipped' or d.status == 'superseded')
    elseif kind == 'discarded' then due = (d.status == 'discarded' and d.target ~= 'hub')
    elseif kind == 'refused' then due = (d.status == 'discarded' and d.target == 'hub') end
    if due and settled < before then
${DELETE_DELIVERY}
      messages[d.messageId] = true
      gone = gone + 1
    end
  end
end
local mgone = 0
for id, _ in pairs(messages) do
  local cur = redis.call('GET', p .. 'm:' .. id)
  if cur then
    local m = cjson.decode(cur)
    if m.status == 'routed' and redis.call('SCARD', p .. 'dm:' .. id) == 0 then
${DELETE_MESSAGE}
      mgone = mgone + 1
    end
  end
end
return {gone, mgone}
`;

/**
 * An erasure: deletes the messages (ARGV[4..]) and deliveries named in ARGV[3] (JSON
 * {messages, deliveries, audit}), with every index entry; writes the audit documents that
 * follow and the tombstone (ARGV[2]).
 */
const ERASE = `
local p = ARGV[1]
local erasure = cjson.decode(ARGV[2])
local plan = cjson.decode(ARGV[3])
for _, id in ipairs(plan.deliveries) do
  local cur = redis.call('GET', p .. 'd:' .. id)
  if cur then
    local d = cjson.decode(cur)
    redis.call('DEL', p .. 'd:' .. id)
    redis.call('ZREM', p .. 'ds:' .. d.status, id)
    redis.call('ZREM', p .. 'dt', id)
    redis.call('ZREM', p .. 'due', id)
    redis.call('SREM', p .. 'dk:' .. d.target .. '\\n' .. d.key, id)
    redis.call('SREM', p .. 'dm:' .. d.messageId, id)
    if d.owner then redis.call('SREM', p .. 'dinf:' .. d.owner, id) end
    redis.call('HINCRBY', p .. 'cnt', d.status .. '\\n' .. d.target, -1)
  end
  redis.call('SET', p .. 'erx:' .. id, erasure.id)
end
for _, id in ipairs(plan.messages) do
  local cur = redis.call('GET', p .. 'm:' .. id)
  if cur then
    local m = cjson.decode(cur)
${DELETE_MESSAGE}
    redis.call('SREM', p .. 'mrecv:' .. m.instance, id)
  end
  redis.call('SET', p .. 'erx:' .. id, erasure.id)
end
local n = 4
for _, a in ipairs(plan.audit) do
  redis.call('SET', p .. 'a:' .. a.id, ARGV[n]); n = n + 1
  redis.call('ZADD', p .. 'at', a.at, a.id)
  if a.deliveryId then redis.call('ZADD', p .. 'ad:' .. a.deliveryId, a.at, a.id) end
  if a.messageId then redis.call('ZADD', p .. 'am:' .. a.messageId, a.at, a.id) end
end
redis.call('SET', p .. 'er:' .. erasure.id, ARGV[2])
redis.call('ZADD', p .. 'ers', erasure.at, erasure.id)
return 'OK'
`;

/** How many index entries a listing looks at, at most, before filtering in the hub. */
/** A listing reads its index in chunks of this many ids: every match is counted, none is left out. */
const SCAN_CHUNK = 2000;
/** Messages sent in one pipeline by insertMessages. */
const INSERT_CHUNK = 500;

function parse<T>(docs: Array<string | null>): T[] {
  return docs.filter((d): d is string => typeof d === 'string').map((d) => JSON.parse(d) as T);
}

function page<T>(items: T[], filter: { limit?: number; offset?: number }): Page<T> {
  const offset = filter.offset ?? 0;
  return { total: items.length, items: items.slice(offset, offset + (filter.limit ?? 50)) };
}

export interface RedisJournalStoreOptions {
  /** Prefix of every key, e.g. "council-hub:journal:". */
  prefix: string;
  lockTtlMs?: number;
  lockWaitMs?: number;
  /** Where problems that do not fail the call are told (default console.warn). */
  warn?: (message: string) => void;
  /** Seals payloads and stored messages (hub/journal/sealing.ts); the demo key unless given. */
  codec?: PersonalDataCodec;
}

export class RedisJournalStore implements JournalStore {
  readonly kind = 'redis' as const;
  private readonly mutex = new KeyedMutex();
  private readonly p: string;
  private readonly codec: PersonalDataCodec;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisJournalStoreOptions,
  ) {
    this.p = options.prefix;
    this.codec = options.codec ?? demoCodec();
  }

  private m = (doc: string): MessageRecord => this.codec.openMessage(JSON.parse(doc));
  private d = (doc: string): DeliveryRecord => this.codec.openDelivery(JSON.parse(doc));
  private a = (doc: string): AuditRecord => this.codec.openAudit(JSON.parse(doc));

  private async mget<T>(keys: string[], open: (doc: string) => T = (doc) => JSON.parse(doc) as T): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      for (const doc of await this.redis.mget(keys.slice(i, i + 500))) if (typeof doc === 'string') out.push(open(doc));
    }
    return out;
  }

  private messages(ids: string[]): Promise<MessageRecord[]> {
    return this.mget(ids.map((id) => `${this.p}m:${id}`), this.m);
  }

  private deliveries(ids: string[]): Promise<DeliveryRecord[]> {
    return this.mget(ids.map((id) => `${this.p}d:${id}`), this.d);
  }

  private conflict<T>(promise: Promise<T>): Promise<T> {
    return promise.catch((err: Error) => {
      if (/CONFLICT/.test(err.message)) throw new ConflictError(err.message.replace(/^.*CONFLICT /, ''));
      throw err;
    });
  }

  async insertMessage(message: MessageRecord): Promise<{ inserted: boolean; message: MessageRecord }> {
    const sourceKey = message.sourceMessageId ? `${message.source}\n${message.sourceMessageId}` : '';
    const [inserted, doc] = (await this.conflict(
      this.redis.eval(INSERT_MESSAGE, 0, this.p, sourceKey, message.id, JSON.stringify(this.codec.sealMessage(message)), String(message.receivedAt), message.instance, message.key ?? ''),
    )) as [number, string];
    return { inserted: inserted === 1, message: inserted === 1 ? message : this.m(doc) };
  }

  async insertMessages(messages: MessageRecord[]): Promise<Array<{ inserted: boolean; message: MessageRecord }>> {
    const results: Array<{ inserted: boolean; message: MessageRecord }> = [];
    // Each insert stays its own atomic script; a pipeline sends a chunk in one round trip.
    for (let at = 0; at < messages.length; at += INSERT_CHUNK) {
      const pipeline = this.redis.pipeline();
      const chunk = messages.slice(at, at + INSERT_CHUNK);
      for (const message of chunk) {
        const sourceKey = message.sourceMessageId ? `${message.source}\n${message.sourceMessageId}` : '';
        pipeline.eval(INSERT_MESSAGE, 0, this.p, sourceKey, message.id, JSON.stringify(this.codec.sealMessage(message)), String(message.receivedAt), message.instance, message.key ?? '');
      }
      const answers = (await pipeline.exec()) ?? [];
      answers.forEach(([error, answer], i) => {
        if (error) throw /CONFLICT/.test(error.message) ? new ConflictError(error.message.replace(/^CONFLICT /, '')) : error;
        const [inserted, doc] = answer as [number, string];
        results.push({ inserted: inserted === 1, message: inserted === 1 ? chunk[i] : this.m(doc) });
      });
    }
    return results;
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    const doc = await this.redis.get(`${this.p}m:${id}`);
    return doc ? this.m(doc) : undefined;
  }

  /**
   * Walks a time index newest first, chunk by chunk, keeping the page's window of the
   * matches and counting all of them: a filter that matches old records finds them too.
   */
  private async scanIndex<T>(key: string, max: number | string, min: number | string, fetch: (ids: string[]) => Promise<T[]>, filter: { limit?: number; offset?: number }): Promise<Page<T>> {
    const offset = filter.offset ?? 0;
    const limit = filter.limit ?? 50;
    const items: T[] = [];
    let total = 0;
    for (let at = 0; ; at += SCAN_CHUNK) {
      const ids = await this.redis.zrevrangebyscore(key, max, min, 'LIMIT', at, SCAN_CHUNK);
      for (const match of await fetch(ids)) {
        if (total >= offset && items.length < limit) items.push(match);
        total += 1;
      }
      if (ids.length < SCAN_CHUNK) return { total, items };
    }
  }

  async listMessages(filter: MessageFilter): Promise<Page<MessageRecord>> {
    const text = filter.text?.toLowerCase();
    // A person's messages (the held-address question, every change sent) come from their key's own index.
    if (filter.key !== undefined) await this.keyIndexBuilt();
    return this.scanIndex(
      filter.key !== undefined ? `${this.p}mk:${filter.key}` : `${this.p}mt`,
      filter.to ?? '+inf',
      filter.from ?? '-inf',
      async (ids) =>
        (await this.messages(ids)).filter(
          (m) => (!filter.source || m.source === filter.source) && (!filter.key || m.key === filter.key) && (!text || JSON.stringify(m).toLowerCase().includes(text)),
        ),
      filter,
    );
  }

  private keyIndex?: Promise<void>;

  /**
   * The messages-by-key index (mk:<key>) came after the first journals: one written before
   * it is indexed once, on first use, from the time index (mk-built marks it done).
   */
  private keyIndexBuilt(): Promise<void> {
    this.keyIndex ??= (async () => {
      if (await this.redis.exists(`${this.p}mk-built`)) return;
      for (let at = 0; ; at += SCAN_CHUNK) {
        const ids = await this.redis.zrange(`${this.p}mt`, at, at + SCAN_CHUNK - 1, 'WITHSCORES');
        if (!ids.length) break; // MGET of nothing is an error
        const pipeline = this.redis.pipeline();
        const docs = await this.redis.mget(ids.filter((_, i) => i % 2 === 0).map((id) => `${this.p}m:${id}`));
        docs.forEach((doc, i) => {
          const key = typeof doc === 'string' ? (JSON.parse(doc) as { key?: unknown }).key : undefined;
          if (typeof key === 'string') pipeline.zadd(`${this.p}mk:${key}`, ids[i * 2 + 1], ids[i * 2]);
        });
        await pipeline.exec();
        if (ids.length < SCAN_CHUNK * 2) break;
      }
      await this.redis.set(`${this.p}mk-built`, '1');
    })().catch((err) => {
      this.keyIndex = undefined;
      throw err;
    });
    return this.keyIndex;
  }

  async receivedMessages(instance: string): Promise<MessageRecord[]> {
    const ids = await this.redis.smembers(`${this.p}mrecv:${instance}`);
    const messages = await this.messages(ids);
    return messages.filter((m) => m.status === 'received').sort((a, b) => a.receivedAt - b.receivedAt);
  }

  async commit(change: Change): Promise<void> {
    const messages = change.messages ?? [];
    const deliveries = change.deliveries ?? [];
    const audit = change.audit ?? [];
    const meta = {
      messages: messages.map((m) => ({ id: m.id, version: m.version, status: m.status, instance: m.instance })),
      deliveries: deliveries.map((d) => ({
        id: d.id,
        version: d.version,
        status: d.status,
        target: d.target,
        key: d.key,
        messageId: d.messageId,
        updatedAt: d.updatedAt,
        ...(d.nextAttemptAt !== undefined ? { nextAttemptAt: d.nextAttemptAt } : {}),
        ...(d.owner ? { owner: d.owner } : {}),
      })),
      audit: audit.map((a) => ({ id: a.id, at: a.at, ...(a.deliveryId ? { deliveryId: a.deliveryId } : {}), ...(a.messageId ? { messageId: a.messageId } : {}) })),
    };
    // cjson turns an empty JSON array into an empty object; ipairs over either is a no-op.
    const docs = [...messages.map((m) => this.codec.sealMessage(m)), ...deliveries.map((d) => this.codec.sealDelivery(d)), ...audit.map((a) => this.codec.sealAudit(a))].map((r) => JSON.stringify(r));
    await this.conflict(this.redis.eval(COMMIT, 0, this.p, JSON.stringify(meta), ...docs));
  }

  async nextSeq(): Promise<number> {
    return this.redis.incr(`${this.p}seq`);
  }

  async getDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const doc = await this.redis.get(`${this.p}d:${id}`);
    return doc ? this.d(doc) : undefined;
  }

  async listDeliveries(filter: DeliveryFilter): Promise<Page<DeliveryRecord>> {
    const max = filter.to ?? '+inf';
    const min = filter.from ?? '-inf';
    const matches = async (ids: string[]) => {
      let deliveries = (await this.deliveries(ids)).filter(
        (d) =>
          (!filter.status?.length || filter.status.includes(d.status)) &&
          (!filter.target || d.target === filter.target) &&
          (!filter.key || d.key === filter.key) &&
          (!filter.messageId || d.messageId === filter.messageId) &&
          (filter.from === undefined || d.updatedAt >= filter.from) &&
          (filter.to === undefined || d.updatedAt <= filter.to),
      );
      if (filter.text) {
        const text = filter.text.toLowerCase();
        const messageIds = [...new Set(deliveries.map((d) => d.messageId))];
        const messages = new Map((await this.messages(messageIds)).map((m) => [m.id, JSON.stringify(m).toLowerCase()]));
        deliveries = deliveries.filter((d) => JSON.stringify(d).toLowerCase().includes(text) || messages.get(d.messageId)?.includes(text));
      }
      return deliveries.sort((a, b) => b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : 1));
    };
    // A message's or a key's deliveries are few: read them at once. Otherwise walk the time
    // index (of the one status asked for, or of all), newest first.
    if (filter.messageId || (filter.target && filter.key)) {
      const ids = filter.messageId ? await this.redis.smembers(`${this.p}dm:${filter.messageId}`) : await this.redis.smembers(`${this.p}dk:${filter.target}\n${filter.key}`);
      return page(await matches(ids), filter);
    }
    const index = filter.status?.length === 1 ? `${this.p}ds:${filter.status[0]}` : `${this.p}dt`;
    return this.scanIndex(index, max, min, matches, filter);
  }

  private async byKey(target: string, key: string): Promise<DeliveryRecord[]> {
    const ids = await this.redis.smembers(`${this.p}dk:${target}\n${key}`);
    return this.deliveries(ids);
  }

  async deliveriesOfKey(target: string, key: string): Promise<DeliveryRecord[]> {
    return this.byKey(target, key);
  }

  async openDeliveries(target: string, key: string): Promise<DeliveryRecord[]> {
    return (await this.byKey(target, key)).filter((d) => openStatuses.includes(d.status));
  }

  async latestDelivery(target: string, key: string): Promise<DeliveryRecord | undefined> {
    return newestLive(await this.byKey(target, key));
  }

  async dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]> {
    const ids = await this.redis.zrangebyscore(`${this.p}due`, '-inf', now, 'LIMIT', 0, limit);
    return (await this.deliveries(ids)).filter((d) => d.status === 'failed' || d.status === 'awaiting-answer');
  }

  async inFlightDeliveries(owner: string): Promise<DeliveryRecord[]> {
    const ids = await this.redis.smembers(`${this.p}dinf:${owner}`);
    return (await this.deliveries(ids)).filter((d) => d.status === 'in-flight' && d.owner === owner);
  }

  async counts(): Promise<Counts> {
    const counts: Counts = { byStatus: {}, byTarget: {} };
    for (const [field, value] of Object.entries(await this.redis.hgetall(`${this.p}cnt`))) {
      const n = Number(value);
      if (!n) continue;
      const [status, target] = field.split('\n') as [DeliveryStatus, string];
      counts.byStatus[status] = (counts.byStatus[status] ?? 0) + n;
      (counts.byTarget[target] ??= {})[status] = n;
    }
    return counts;
  }

  async appendHops(hops: Hop[]): Promise<void> {
    if (!hops.length) return;
    const multi = this.redis.multi();
    for (const hop of hops) multi.rpush(`${this.p}h:${hop.messageId}`, JSON.stringify(this.codec.sealHop(hop)));
    await multi.exec();
  }

  async hops(messageId: string): Promise<Hop[]> {
    const hops = parse<Hop>(await this.redis.lrange(`${this.p}h:${messageId}`, 0, -1)).map((h) => this.codec.openHop(h));
    return hops.sort((a, b) => a.startedAt - b.startedAt);
  }

  async listAudit(filter: { deliveryId?: string; messageId?: string; limit?: number }): Promise<AuditRecord[]> {
    const limit = filter.limit ?? 200;
    const sources = [
      ...(filter.deliveryId ? [`${this.p}ad:${filter.deliveryId}`] : []),
      ...(filter.messageId ? [`${this.p}am:${filter.messageId}`] : []),
    ];
    if (!sources.length) sources.push(`${this.p}at`);
    const ids = [...new Set((await Promise.all(sources.map((k) => this.redis.zrevrange(k, 0, limit - 1)))).flat())];
    const records = await this.mget(ids.map((id) => `${this.p}a:${id}`), this.a);
    return records.sort((a, b) => b.at - a.at).slice(0, limit);
  }

  async prune(before: number): Promise<number> {
    let gone = 0;
    for (const status of prunableStatuses) {
      for (;;) {
        const ids = await this.redis.zrangebyscore(`${this.p}ds:${status}`, '-inf', `(${before}`, 'LIMIT', 0, 500);
        if (!ids.length) break;
        const removed = Number(await this.redis.eval(PRUNE, 0, this.p, String(before), ...ids));
        gone += removed;
        if (removed === 0) break;
      }
    }
    return gone;
  }

  async purge(cutoffs: RetentionCutoffs, pseudonymise: (a: AuditRecord) => AuditRecord): Promise<PurgeReport> {
    const report: PurgeReport = { settled: 0, discarded: 0, refused: 0, messages: 0, auditPseudonymised: 0 };
    const kinds: Array<{ kind: 'settled' | 'discarded' | 'refused'; statuses: readonly DeliveryStatus[]; before: number }> = [
      { kind: 'settled', statuses: prunableStatuses, before: cutoffs.settled },
      { kind: 'discarded', statuses: ['discarded'], before: cutoffs.discarded },
      { kind: 'refused', statuses: ['discarded'], before: cutoffs.refused },
    ];
    for (const { kind, statuses, before } of kinds) {
      for (const status of statuses) {
        // Walks the status index oldest first; ids of the other kind (a target's discard while
        // purging refused content) are stepped over, not looked at again and again.
        for (let at = 0; ; ) {
          const ids = await this.redis.zrangebyscore(`${this.p}ds:${status}`, '-inf', `(${before}`, 'LIMIT', at, 500);
          if (!ids.length) break;
          const [gone, messages] = (await this.redis.eval(PURGE, 0, this.p, String(before), kind, ...ids)) as [number, number];
          report[kind] += gone;
          report.messages += messages;
          at += ids.length - gone;
          if (ids.length < 500) break;
        }
      }
    }
    for (let at = 0; ; at += 500) {
      const ids = await this.redis.zrangebyscore(`${this.p}at`, '-inf', `(${cutoffs.audit}`, 'LIMIT', at, 500);
      const due = (await this.mget(ids.map((id) => `${this.p}a:${id}`), this.a)).filter((a) => !a.pseudonymisedAt);
      if (due.length) {
        const pipeline = this.redis.pipeline();
        for (const a of due) pipeline.set(`${this.p}a:${a.id}`, JSON.stringify(this.codec.sealAudit(pseudonymise(a))), 'XX');
        await pipeline.exec();
        report.auditPseudonymised += due.length;
      }
      if (ids.length < 500) break;
    }
    return report;
  }

  async erase(erasure: ErasureRecord, audit: AuditRecord[]): Promise<void> {
    const plan = {
      messages: erasure.messageIds,
      deliveries: erasure.deliveryIds,
      audit: audit.map((a) => ({ id: a.id, at: a.at, ...(a.deliveryId ? { deliveryId: a.deliveryId } : {}), ...(a.messageId ? { messageId: a.messageId } : {}) })),
    };
    await this.redis.eval(ERASE, 0, this.p, JSON.stringify(erasure), JSON.stringify(plan), ...audit.map((a) => JSON.stringify(this.codec.sealAudit(a))));
    this.codec.forgetOpened(); // the erased person's records must not be readable from memory either
  }

  async erasureOf(recordId: string): Promise<ErasureRecord | undefined> {
    const id = await this.redis.get(`${this.p}erx:${recordId}`);
    const doc = id ? await this.redis.get(`${this.p}er:${id}`) : null;
    return doc ? JSON.parse(doc) : undefined;
  }

  async listErasures(limit = 200): Promise<ErasureRecord[]> {
    const ids = await this.redis.zrevrange(`${this.p}ers`, 0, limit - 1);
    return this.mget<ErasureRecord>(ids.map((id) => `${this.p}er:${id}`));
  }

  async withKeyLock<T>(lockName: string, work: () => Promise<T>): Promise<T> {
    return this.mutex.run(lockName, async () => {
      const key = `${this.p}lock:${lockName}`;
      // Short: the work under it is a few round trips, and a lock whose holder died blocks its key until it expires.
      const ttl = this.options.lockTtlMs ?? 5000;
      const deadline = Date.now() + (this.options.lockWaitMs ?? 15000);
      for (;;) {
        const lock = await tryAcquireLock(this.redis, key, ttl);
        if (lock) {
          try {
            return await work();
          } finally {
            // Not released: it expires after ttl, and another instance waits for it that long at most.
            await lock.release().catch((err: Error) => (this.options.warn ?? console.warn)(`journal: the lock ${lockName} could not be released (it expires in ${ttl} ms): ${err.message}`));
          }
        }
        if (Date.now() > deadline) throw new Error(`journal: could not take the lock ${lockName} (another hub instance holds it)`);
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
      }
    });
  }

  async close(): Promise<void> {
    // The Redis client belongs to whoever opened it.
  }
}
