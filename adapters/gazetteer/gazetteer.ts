import fs from 'fs';
import { EventEmitter } from 'events';
import { normalisePostcode } from '../address/postcode';
import { checkSchema } from '../canonical/schemas';
import { transientError } from '../errors';
import type { Bs7666Address } from '../canonical/types';
import { LOGICAL_STATUS_NAMES, normaliseUprn, readExtract, type GazetteerRecord, type LogicalStatus } from './extract';
import { comparable, parseFreeTextHouse, type ParsedHouse } from './free-text';

/**
 * The council's gazetteer (LLPG) in memory, indexed by UPRN and by postcode. It validates a
 * UPRN (exists, approved) and turns an address typed as free text into a BS7666 address:
 * by its UPRN when it has one, else by postcode and house (SAON and PAON read from the
 * lines). One match enriches; none or several need a person (reason and candidates).
 */

/** An address to resolve: free text (CRM lines or canonical `lines`), or BS7666 fields, with or without a UPRN. */
export interface AddressToResolve {
  uprn?: string | number;
  lines?: string[];
  line1?: string;
  line2?: string;
  line3?: string;
  town?: string;
  saon?: string;
  paon?: string;
  streetDescription?: string;
  postcode?: string;
}

/** A gazetteer address offered to a person choosing, with its status. */
export type GazetteerCandidate = Bs7666Address & { logicalStatus: LogicalStatus };

export type AddressResolution =
  | { status: 'enriched'; address: Bs7666Address; matchedBy: 'uprn' | 'postcode-and-house' }
  | { status: 'attention'; reason: string; candidates: GazetteerCandidate[] };

export type UprnCheck = { valid: true; record: GazetteerRecord } | { valid: false; reason: string; record?: GazetteerRecord };

export interface GazetteerLoadReport {
  file: string;
  records: number;
  postcodes: number;
  loadedAt: Date;
}

function toAddress(record: GazetteerRecord): Bs7666Address {
  const { uprn, saon, paon, streetDescription, locality, townName, postTown, postcode } = record;
  return {
    uprn,
    ...(saon ? { saon } : {}),
    paon,
    streetDescription,
    ...(locality ? { locality } : {}),
    townName,
    postTown,
    postcode,
  };
}

const toCandidate = (record: GazetteerRecord): GazetteerCandidate => ({ ...toAddress(record), logicalStatus: record.logicalStatus });

function quoted(house: ParsedHouse): string {
  return `PAON "${house.paon}"${house.saon ? ` and SAON "${house.saon}"` : ' and no SAON'}`;
}

/** Events: 'loaded' (GazetteerLoadReport), 'load-failed' (Error; the previous extract stays in use). */
export class Gazetteer extends EventEmitter {
  private byUprn = new Map<string, GazetteerRecord>();
  private byPostcode = new Map<string, GazetteerRecord[]>();
  private report?: GazetteerLoadReport;
  private loading?: Promise<GazetteerLoadReport>;
  private watching = false;

  constructor(readonly file: string) {
    super();
  }

  /** True once an extract has loaded (a later failed reload keeps it). */
  get loaded(): boolean {
    return this.report !== undefined;
  }

  get lastLoad(): GazetteerLoadReport | undefined {
    return this.report;
  }

  get size(): number {
    return this.byUprn.size;
  }

  /**
   * Reads the extract and swaps it in whole. On a malformed extract it rejects with
   * GazetteerLoadError (every problem with its line number) and keeps what it had.
   * Calls made while a load runs share it.
   */
  load(): Promise<GazetteerLoadReport> {
    this.loading ??= this.readAndSwap().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async readAndSwap(): Promise<GazetteerLoadReport> {
    try {
      const records = await readExtract(this.file);
      const byUprn = new Map<string, GazetteerRecord>();
      const byPostcode = new Map<string, GazetteerRecord[]>();
      for (const record of records) {
        byUprn.set(record.uprn, record);
        if (!record.postcode) continue;
        const list = byPostcode.get(record.postcode);
        if (list) list.push(record);
        else byPostcode.set(record.postcode, [record]);
      }
      this.byUprn = byUprn;
      this.byPostcode = byPostcode;
      this.report = { file: this.file, records: byUprn.size, postcodes: byPostcode.size, loadedAt: new Date() };
      this.emit('loaded', this.report);
      return this.report;
    } catch (err) {
      this.emit('load-failed', err);
      throw err;
    }
  }

  /**
   * Loads again whenever the file changes (size or mtime, polled every `intervalMs`).
   * fs.watchFile rather than fs.watch: it survives the file being replaced by a rename,
   * which is how extracts are usually dropped.
   */
  watch(intervalMs = 2000): void {
    if (this.watching) return;
    this.watching = true;
    fs.watchFile(this.file, { interval: intervalMs, persistent: false }, (now, before) => {
      if (now.mtimeMs === before.mtimeMs && now.size === before.size) return;
      if (now.nlink === 0 && now.size === 0) return; // removed: keep what we have
      this.load().catch(() => {
        // reported through 'load-failed'; the previous extract stays in use
      });
    });
  }

  close(): void {
    if (this.watching) fs.unwatchFile(this.file);
    this.watching = false;
    this.removeAllListeners();
  }

  lookupUprn(uprn: string | number): GazetteerRecord | undefined {
    return this.byUprn.get(normaliseUprn(String(uprn)));
  }

  /** Every record at a postcode (any status); the postcode in any case and spacing. */
  atPostcode(postcode: string): GazetteerRecord[] {
    try {
      return this.byPostcode.get(normalisePostcode(postcode)) ?? [];
    } catch {
      return [];
    }
  }

  /** A UPRN is valid when the gazetteer has it and it is approved (logical status 1). */
  validateUprn(uprn: string | number): UprnCheck {
    this.assertLoaded();
    const text = String(uprn ?? '').trim();
    if (!/^\d{1,12}$/.test(text)) return { valid: false, reason: `UPRN "${text}" is not 1-12 digits` };
    const record = this.lookupUprn(text);
    if (!record) return { valid: false, reason: `UPRN ${text} is not in the gazetteer` };
    if (record.logicalStatus !== 1) {
      const name = LOGICAL_STATUS_NAMES[record.logicalStatus];
      return { valid: false, record, reason: `UPRN ${record.uprn} is ${name} in the gazetteer (logical status ${record.logicalStatus}), not an approved address` };
    }
    return { valid: true, record };
  }

  /** Resolves an address to BS7666, or says why a person must look at it. */
  resolve(address: AddressToResolve): AddressResolution {
    this.assertLoaded();
    if (!address || typeof address !== 'object') return { status: 'attention', reason: 'there is no address', candidates: [] };
    const uprn = address.uprn === undefined || address.uprn === null ? '' : String(address.uprn).trim();
    if (uprn) return this.resolveByUprn(uprn);
    return this.resolveByPostcodeAndHouse(address);
  }

  private resolveByUprn(uprn: string): AddressResolution {
    const check = this.validateUprn(uprn);
    if (!check.valid) return { status: 'attention', reason: check.reason, candidates: check.record ? [toCandidate(check.record)] : [] };
    return this.enriched(check.record, 'uprn');
  }

  private resolveByPostcodeAndHouse(address: AddressToResolve): AddressResolution {
    if (!address.postcode || !String(address.postcode).trim()) {
      return { status: 'attention', reason: 'the address has no UPRN and no postcode to match on', candidates: [] };
    }
    let postcode: string;
    try {
      postcode = normalisePostcode(address.postcode);
    } catch {
      return { status: 'attention', reason: `the address has no UPRN and "${address.postcode}" is not a UK postcode`, candidates: [] };
    }
    const atPostcode = this.byPostcode.get(postcode) ?? [];
    const approved = atPostcode.filter((r) => r.logicalStatus === 1);
    if (approved.length === 0) {
      return { status: 'attention', reason: `the gazetteer has no approved address at ${postcode}`, candidates: atPostcode.map(toCandidate) };
    }
    const house: ParsedHouse = address.paon
      ? { paon: address.paon, saon: address.saon, street: address.streetDescription }
      : parseFreeTextHouse(address.lines ?? [address.line1, address.line2, address.line3].filter((l): l is string => typeof l === 'string'));
    if (!house.paon) {
      return { status: 'attention', reason: `no house number or name found in the address lines to match at ${postcode}`, candidates: approved.map(toCandidate) };
    }
    const samePaon = approved.filter((r) => comparable(r.paon) === comparable(house.paon));
    let matches = samePaon.filter((r) => comparable(r.saon) === comparable(house.saon));
    if (matches.length > 1 && house.street) {
      // Two streets can share a postcode and a house number: the street decides, if it can.
      const onStreet = matches.filter((r) => comparable(r.streetDescription) === comparable(house.street));
      if (onStreet.length >= 1) matches = onStreet;
    }
    if (matches.length === 1) return this.enriched(matches[0], 'postcode-and-house');
    if (matches.length === 0) {
      return {
        status: 'attention',
        reason: `no approved gazetteer address at ${postcode} has ${quoted(house)}`,
        candidates: (samePaon.length ? samePaon : approved).map(toCandidate),
      };
    }
    return {
      status: 'attention',
      reason: `${matches.length} approved gazetteer addresses at ${postcode} have ${quoted(house)}: not guessing`,
      candidates: matches.map(toCandidate),
    };
  }

  private enriched(record: GazetteerRecord, matchedBy: 'uprn' | 'postcode-and-house'): AddressResolution {
    const address = toAddress(record);
    const check = checkSchema('bs7666-address', address);
    if (!check.valid) {
      const missing = check.problems.map((p) => `${p.instancePath || 'address'} ${p.message}`).join(', ');
      return { status: 'attention', reason: `gazetteer record UPRN ${record.uprn} is not a complete postal address (${missing})`, candidates: [toCandidate(record)] };
    }
    return { status: 'enriched', address, matchedBy };
  }

  private assertLoaded(): void {
    if (!this.report) throw transientError('GAZETTEER_NOT_LOADED', `the gazetteer extract ${this.file} has not loaded`);
  }
}

interface SharedEntry {
  gazetteer: Gazetteer;
  users: number;
  ready: Promise<GazetteerLoadReport>;
}

const shared = new Map<string, SharedEntry>();

export interface GazetteerHandle {
  gazetteer: Gazetteer;
  /** Settles when the first load has finished (rejects with GazetteerLoadError if it failed). */
  ready: Promise<GazetteerLoadReport>;
  /** Gives the gazetteer back; the last user to release it stops watching and frees it. */
  release(): void;
}

/**
 * One loaded, watched gazetteer per extract file, shared by every user of that file (a
 * 300,000-row extract is loaded once, not once per node).
 */
export function openSharedGazetteer(file: string, options: { watchIntervalMs?: number } = {}): GazetteerHandle {
  let entry = shared.get(file);
  if (!entry) {
    const gazetteer = new Gazetteer(file);
    const ready = gazetteer.load();
    ready.catch(() => undefined); // each user awaits `ready` and sees the failure
    gazetteer.watch(options.watchIntervalMs);
    entry = { gazetteer, users: 0, ready };
    shared.set(file, entry);
  }
  entry.users++;
  const current = entry;
  let released = false;
  return {
    gazetteer: current.gazetteer,
    ready: current.ready,
    release: () => {
      if (released) return;
      released = true;
      current.users--;
      if (current.users === 0 && shared.get(file) === current) {
        shared.delete(file);
        current.gazetteer.close();
      }
    },
  };
}
