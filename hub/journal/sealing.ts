import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'crypto';
import type { AuditRecord, DeliveryRecord, Hop, MessageRecord } from './types';

/**
 * Encryption at rest of what the journal holds about people: the payloads and stored
 * messages of MessageRecord and DeliveryRecord documents, sealed with AES-256-GCM at the
 * store boundary (both stores use this one codec). Index fields (ids, status, target, key,
 * times, versions) stay in clear: the stores' queries and Lua scripts read them. The key is
 * a CRM contact id or a case reference: a pseudonymous identifier, not a name.
 *
 * Each sealed value names its key (the first 8 hex digits of the key's SHA-256), so that
 * after a rotation the old keys (HUB_DATA_KEYS) still open what they sealed while the
 * current key (HUB_DATA_KEY) seals everything new.
 */
export interface DataKey {
  id: string;
  key: Buffer;
}

/** A sealed value: enc1:<key id>:<iv>:<tag>:<ciphertext>, base64 parts. */
const PREFIX = 'enc1:';

export function dataKeyOf(base64: string, name = 'HUB_DATA_KEY'): DataKey {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${name} must be 32 bytes in base64 (openssl rand -base64 32), got ${key.length} bytes`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

export class DataKeyMissing extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataKeyMissing';
  }
}

/** How many opened texts the codec keeps (some MB): the records of the deliveries under way, 200 events or more at a time. */
const RECENTLY_OPENED = 4096;

/** A map of at most `size` entries: the oldest goes when a new one comes (a ring of keys). */
class Kept<V> {
  private readonly values = new Map<string, V>();
  private readonly ring: Array<string | undefined>;
  private at = 0;

  constructor(size: number) {
    this.ring = new Array(size);
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  get size(): number {
    return this.values.size;
  }

  set(key: string, value: V): void {
    if (!this.values.has(key)) {
      const oldest = this.ring[this.at];
      if (oldest !== undefined) this.values.delete(oldest);
      this.ring[this.at] = key;
      this.at = (this.at + 1) % this.ring.length;
    }
    this.values.set(key, value);
  }

  clear(): void {
    this.values.clear();
    this.ring.fill(undefined);
  }
}

export class PersonalDataCodec {
  private readonly byId = new Map<string, DataKey>();

  /** `current` seals; `older` only open what they sealed before a rotation. */
  constructor(
    private readonly current: DataKey,
    older: DataKey[] = [],
  ) {
    for (const k of [current, ...older]) this.byId.set(k.id, k);
  }

  get keyId(): string {
    return this.current.id;
  }

  /** Random IVs taken from a pool: one call for the random source per 4096 seals, not one each (the hot path). */
  private ivs = Buffer.alloc(0);
  private nextIv = 0;

  private iv(): Buffer {
    if (this.nextIv + 12 > this.ivs.length) {
      this.ivs = randomBytes(12 * 4096);
      this.nextIv = 0;
    }
    const iv = this.ivs.subarray(this.nextIv, this.nextIv + 12);
    this.nextIv += 12;
    return iv;
  }

  /**
   * The plain text of the records sealed or opened most recently, looked up by the IV and tag
   * of their sealed form (unique to each sealing, and short: hashing a whole sealed record
   * cost more than decrypting it) and given back only for exactly the same sealed text. A
   * record is read back several times while its delivery runs; each read decrypted it again.
   * Only this process's memory holds it, as it holds the records it works on; an erasure
   * empties it.
   */
  private readonly recent = new Kept<{ sealed: string; text: string }>(RECENTLY_OPENED);
  /**
   * The sealed form each record (by kind and id) had when last sealed or opened here: a new
   * version whose sealed part is unchanged (a delivery settled: only its status and times
   * change) keeps that sealed form instead of being encrypted again. Only for the same
   * record, so two records with the same content never share a ciphertext.
   */
  private readonly ofRecord = new Kept<{ sealed: string; text: string }>(RECENTLY_OPENED);

  /** Forgets every opened text (after an erasure). */
  forgetOpened(): void {
    this.recent.clear();
    this.ofRecord.clear();
  }

  /** `record` (kind and id) lets an unchanged value keep the sealed form it had. */
  seal(value: unknown, record?: string): string {
    const text = JSON.stringify(value);
    if (record !== undefined) {
      const before = this.ofRecord.get(record);
      if (before !== undefined && before.text === text) return before.sealed;
    }
    const iv = this.iv();
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    const id = `${PREFIX}${this.current.id}:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}`;
    const sealed = `${id}:${body.toString('base64')}`;
    const kept = { sealed, text };
    this.recent.set(id, kept);
    if (record !== undefined) this.ofRecord.set(record, kept);
    return sealed;
  }

  open(sealed: string, record?: string): unknown {
    const id = sealed.slice(0, sealed.lastIndexOf(':'));
    let kept = this.recent.get(id);
    if (kept === undefined || kept.sealed !== sealed) {
      const [kid, iv, tag, body] = sealed.slice(PREFIX.length).split(':');
      const k = this.byId.get(kid);
      if (!k) throw new DataKeyMissing(`the journal holds data sealed with key ${kid}, which is neither HUB_DATA_KEY nor one of HUB_DATA_KEYS`);
      const decipher = createDecipheriv('aes-256-gcm', k.key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      kept = { sealed, text: Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8') };
      this.recent.set(id, kept);
    }
    // Only a key that is still current may be kept for sealing again (after a rotation, a record is re-sealed under the new key).
    if (record !== undefined && sealed.startsWith(`${PREFIX}${this.current.id}:`)) this.ofRecord.set(record, kept);
    return JSON.parse(kept.text);
  }

  /** A keyed pseudonym of an identifier (a contact id, a member of staff): the same input
   * gives the same pseudonym, which cannot be turned back without the key. */
  pseudonym(value: string): string {
    return createHmac('sha256', this.current.key).update(`pseudonym\n${value}`).digest('hex').slice(0, 16);
  }

  // ---- records ------------------------------------------------------------------------

  sealMessage(m: MessageRecord): SealedDoc {
    const { payload, entry, resolvedBy, ...rest } = m;
    return { ...rest, entry: { nodeId: entry.nodeId, how: entry.how }, sealed: this.seal({ payload, msg: entry.msg, resolvedBy }, `m:${m.id}`) };
  }

  openMessage(doc: SealedDoc | MessageRecord): MessageRecord {
    if (typeof (doc as SealedDoc).sealed !== 'string') return doc as MessageRecord;
    const { sealed, entry, ...rest } = doc as SealedDoc & { entry: { nodeId: string; how: 'send' | 'receive' } };
    const open = this.open(sealed, `m:${String(rest.id)}`) as { payload: unknown; msg: Record<string, unknown>; resolvedBy?: MessageRecord['resolvedBy'] };
    return { ...(rest as object), payload: open.payload, entry: { ...entry, msg: open.msg }, ...(open.resolvedBy ? { resolvedBy: open.resolvedBy } : {}) } as MessageRecord;
  }

  sealDelivery(d: DeliveryRecord): SealedDoc {
    const { resume, atDelivery, candidates, lastError, reason, ...rest } = d;
    const secret = { resumeMsg: resume?.msg, atDelivery, candidates, lastError, reason };
    return { ...rest, ...(resume ? { resume: { nodeId: resume.nodeId, how: resume.how } } : {}), sealed: this.seal(secret, `d:${d.id}`) };
  }

  openDelivery(doc: SealedDoc | DeliveryRecord): DeliveryRecord {
    if (typeof (doc as SealedDoc).sealed !== 'string') return doc as DeliveryRecord;
    const { sealed, resume, ...rest } = doc as SealedDoc & { resume?: { nodeId: string; how: 'send' | 'receive' } };
    const s = this.open(sealed, `d:${String(rest.id)}`) as { resumeMsg?: Record<string, unknown>; atDelivery?: Record<string, unknown>; candidates?: unknown; lastError?: DeliveryRecord['lastError']; reason?: string };
    const d = { ...(rest as object) } as DeliveryRecord;
    if (resume) d.resume = { ...resume, msg: s.resumeMsg ?? {} };
    if (s.atDelivery !== undefined) d.atDelivery = s.atDelivery;
    if (s.candidates !== undefined) d.candidates = s.candidates;
    if (s.lastError !== undefined) d.lastError = s.lastError;
    if (s.reason !== undefined) d.reason = s.reason;
    return d;
  }

  /** A hop's error may name the person (a SOAP fault's text): sealed; the rest is the flow's own. */
  sealHop(h: Hop): Hop {
    return h.error === undefined ? h : { ...h, error: this.seal(h.error) };
  }

  openHop(h: Hop): Hop {
    return typeof h.error === 'string' && h.error.startsWith(PREFIX) ? { ...h, error: this.open(h.error) as string } : h;
  }

  /** An audit record's reason and details are what support staff wrote about a person: sealed too. */
  sealAudit(a: AuditRecord): SealedDoc {
    const { reason, detail, ...rest } = a;
    return { ...rest, sealed: this.seal({ reason, detail }) };
  }

  openAudit(doc: SealedDoc | AuditRecord): AuditRecord {
    if (typeof (doc as SealedDoc).sealed !== 'string') return doc as AuditRecord;
    const { sealed, ...rest } = doc as SealedDoc;
    const s = this.open(sealed) as { reason: string; detail?: Record<string, unknown> };
    return { ...(rest as object), reason: s.reason, ...(s.detail !== undefined ? { detail: s.detail } : {}) } as AuditRecord;
  }

  /**
   * An audit record whose retention period has passed, or whose person was erased: who did
   * it becomes a pseudonym (the same member of staff stays recognisable across records), the
   * reason (free text that may name the resident) and details go. What, when and which
   * delivery stay.
   */
  pseudonymiseAudit(a: AuditRecord, at: number, why: string): AuditRecord {
    if (a.pseudonymisedAt) return a;
    const { detail: _detail, ...rest } = a;
    return { ...rest, actor: `staff-${this.pseudonym(a.actor)}`, reason: `(removed: ${why})`, pseudonymisedAt: at };
  }
}

/** A record as the stores keep it: the clear index fields and the sealed rest. */
export type SealedDoc = Record<string, unknown> & { sealed: string };

/** The key of the demo profile: fixed and public, like the demo credential secret. Never for a council's data. */
export const DEMO_DATA_KEY = Buffer.from('council-hub-demo-data-key-public').toString('base64');

/** The codec tests and benches use when none is given. */
export function demoCodec(): PersonalDataCodec {
  return new PersonalDataCodec(dataKeyOf(DEMO_DATA_KEY));
}
