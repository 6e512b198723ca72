import { Random } from './random';

/**
 * The faults a test, demo or benchmark can switch on in a running simulator, and the
 * business faults of CONTRACTS.md that the systems raise.
 */
export type FaultName =
  | 'CaseNotFound'
  | 'ContactNotFound'
  | 'NotLoggedOn'
  | 'PartyNotFound'
  | 'InvalidAddress'
  | 'ServiceUnavailable'
  | 'TenantNotFound'
  | 'InvalidRequest';

/** A fault a system answers with; the SOAP layer turns it into a SOAP fault. */
export class SystemFault extends Error {
  constructor(
    readonly faultName: FaultName,
    readonly reason: string,
  ) {
    super(`${faultName}: ${reason}`);
    this.name = 'SystemFault';
  }
}

/** 'refuse': the port is closed (connection refused); 'unavailable': HTTP 503 (file systems: no processing either way). */
export type DownMode = 'refuse' | 'unavailable';

/** Rejects a request whose `field` is present (or, with `value`, equals it, ignoring case). */
export interface FieldRejection {
  field: string;
  value?: string;
}

export interface FaultSettings {
  down: DownMode | false;
  /** added before every call is answered (file systems: before each file) */
  slowMs: number;
  /** the next N calls fail with ServiceUnavailable */
  failNext: number;
  /** this percentage (0-100) of calls fail with ServiceUnavailable, chosen by the seeded generator */
  failPercent: number;
  /** InvalidAddress (SOAP) or REJECTED (revenues rows) for this field */
  rejectField: FieldRejection | null;
}

export class FaultSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSettingsError';
  }
}

const NO_FAULTS: FaultSettings = { down: false, slowMs: 0, failNext: 0, failPercent: 0, rejectField: null };

function checkSettings(input: unknown): Partial<FaultSettings> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new FaultSettingsError('fault settings must be a JSON object');
  const out: Partial<FaultSettings> = {};
  for (const [key, value] of Object.entries(input)) {
    const count = (max = Number.MAX_SAFE_INTEGER) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) throw new FaultSettingsError(`${key} must be an integer from 0 to ${max}`);
      return value;
    };
    switch (key) {
      case 'down':
        if (value !== false && value !== 'refuse' && value !== 'unavailable') throw new FaultSettingsError(`down must be false, "refuse" or "unavailable"`);
        out.down = value;
        break;
      case 'slowMs':
        out.slowMs = count(600000);
        break;
      case 'failNext':
        out.failNext = count();
        break;
      case 'failPercent':
        out.failPercent = count(100);
        break;
      case 'rejectField':
        if (value === null || value === false) out.rejectField = null;
        else if (typeof value === 'object' && typeof (value as FieldRejection).field === 'string' && ((value as FieldRejection).value === undefined || typeof (value as FieldRejection).value === 'string'))
          out.rejectField = { field: (value as FieldRejection).field, value: (value as FieldRejection).value };
        else throw new FaultSettingsError('rejectField must be null or {"field": "...", "value"?: "..."}');
        break;
      default:
        throw new FaultSettingsError(`unknown fault setting "${key}" (known: ${Object.keys(NO_FAULTS).join(', ')})`);
    }
  }
  return out;
}

export type FaultApplier = (settings: FaultSettings) => Promise<void>;

/**
 * The fault switches of one simulator. Changes take effect on the next call, without a
 * restart. set() and reset() resolve once every applier has acted on the change (the SOAP
 * host closes or reopens its port), so a caller can rely on the new state at once.
 */
export class FaultSwitch {
  private current: FaultSettings = { ...NO_FAULTS };
  private readonly random: Random;
  private readonly appliers = new Set<FaultApplier>();
  private applying: Promise<void> = Promise.resolve();

  constructor(
    readonly system: string,
    seed = 'faults',
  ) {
    this.random = new Random(`${seed}:${system}`);
  }

  addApplier(applier: FaultApplier): void {
    this.appliers.add(applier);
  }

  removeApplier(applier: FaultApplier): void {
    this.appliers.delete(applier);
  }

  /** Appliers run one change at a time, in order. */
  private apply(): Promise<FaultSettings> {
    const settings = this.settings;
    this.applying = this.applying.then(async () => {
      for (const applier of this.appliers) await applier(settings);
    });
    return this.applying.then(() => this.settings);
  }

  get settings(): FaultSettings {
    return { ...this.current, rejectField: this.current.rejectField ? { ...this.current.rejectField } : null };
  }

  /** Merges the given settings in; throws FaultSettingsError (nothing changed) on a bad one. */
  async set(changes: Partial<FaultSettings> | unknown): Promise<FaultSettings> {
    const checked = checkSettings(changes);
    this.current = { ...this.current, ...checked };
    return this.apply();
  }

  async reset(): Promise<FaultSettings> {
    this.current = { ...NO_FAULTS };
    return this.apply();
  }

  get isDown(): boolean {
    return this.current.down !== false;
  }

  /** Waits slowMs, then throws ServiceUnavailable when failNext or failPercent says so. */
  async beforeCall(): Promise<void> {
    if (this.current.slowMs > 0) await new Promise((resolve) => setTimeout(resolve, this.current.slowMs));
    if (this.current.failNext > 0) {
      this.current.failNext--;
      throw new SystemFault('ServiceUnavailable', `${this.system} is unavailable (failNext switched on)`);
    }
    if (this.current.failPercent > 0 && this.random.next() * 100 < this.current.failPercent) {
      throw new SystemFault('ServiceUnavailable', `${this.system} is unavailable (failPercent ${this.current.failPercent})`);
    }
  }

  /** The reason a record is refused by the rejectField switch, or undefined. */
  rejection(record: object): string | undefined {
    const rule = this.current.rejectField;
    if (!rule) return undefined;
    const value = (record as Record<string, unknown>)[rule.field];
    if (value === undefined || value === null || value === '') return undefined;
    if (rule.value !== undefined && String(value).trim().toUpperCase() !== rule.value.trim().toUpperCase()) return undefined;
    return `${rule.field} "${String(value)}" is not accepted by ${this.system}`;
  }
}
