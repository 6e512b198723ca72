import fs from 'fs';
import path from 'path';
import { ActionInputError, SimulatorControl } from './control';
import { FaultSwitch } from './faults';
import { Fund, Population } from './population';
import { Random } from './random';
import { isIsoDate } from './validate';

/**
 * The cash receipting system: writes payments/out/PAY_<yyyyMMdd>_<nnn>.txt, fixed-width
 * ASCII, exactly per CONTRACTS.md, on demand (given or generated payments, and faulty
 * variants for tests) or on a schedule. It keeps its own counters (file sequence per day,
 * transaction refs) in <root>/.payments-system.json, as a real system keeps them in its
 * database, so that a restart never repeats a sequence or a transaction ref by accident.
 */
export type Channel = 'T' | 'W' | 'C' | 'K';

export interface Payment {
  transactionRef: string;
  /** YYYY-MM-DD */
  date: string;
  /** HH:mm:ss */
  time: string;
  fund: Fund;
  accountRef: string;
  amountPence: number;
  channel: Channel;
  authCode: string;
}

/** bad-record: one detail record is malformed; wrong-count / wrong-total: the trailer does not match; repeated-sequence: the file sequence of the previous file of that day; repeated-transaction: a transaction ref from an earlier file. */
export type PaymentFileFault = 'bad-record' | 'wrong-count' | 'wrong-total' | 'repeated-sequence' | 'repeated-transaction';
export const PAYMENT_FILE_FAULTS: readonly PaymentFileFault[] = ['bad-record', 'wrong-count', 'wrong-total', 'repeated-sequence', 'repeated-transaction'];

export interface PaymentFileRequest {
  /** YYYY-MM-DD, default today */
  date?: string;
  /** default the next sequence of that date */
  sequence?: number;
  /** given payments (missing fields are generated); otherwise `count` generated ones */
  payments?: Partial<Payment>[];
  count?: number;
  fault?: PaymentFileFault;
  lineEnding?: 'LF' | 'CRLF';
}

export interface WrittenPaymentFile {
  name: string;
  path: string;
  sequence: number;
  payments: Payment[];
  totalPence: number;
  fault?: PaymentFileFault;
}

export interface PaymentsOptions {
  root: string;
  population: Population;
  /** the header's source id (10 characters at most), default CASHRCPT01 */
  sourceId?: string;
  /** write a generated file every scheduleMs (0 or unset: only on demand) */
  scheduleMs?: number;
  /** payments per scheduled file (default 20) */
  scheduleCount?: number;
  seed?: string;
}

const FUNDS: readonly Fund[] = ['CTX', 'NDR', 'HRA', 'SUN'];
const CHANNELS: readonly Channel[] = ['T', 'W', 'C', 'K'];
const AMOUNTS: Record<Fund, [number, number]> = { CTX: [1000, 25000], NDR: [10000, 500000], HRA: [5000, 60000], SUN: [500, 20000] };

const compactDate = (isoDate: string) => isoDate.replace(/-/g, '');
const left = (value: string, width: number) => value.padEnd(width, ' ').slice(0, width);
const zeros = (value: number, width: number) => String(value).padStart(width, '0');

/** The header record: H, date yyyyMMdd, sequence (3), source id (10, space-padded). 22 characters. */
export function headerRecord(date: string, sequence: number, sourceId: string): string {
  return `H${compactDate(date)}${zeros(sequence, 3)}${left(sourceId, 10)}`;
}

/** A detail record: 65 characters. */
export function detailRecord(p: Payment): string {
  return `D${left(p.transactionRef, 12)}${compactDate(p.date)}${p.time.replace(/:/g, '')}${p.fund}${left(p.accountRef, 15)}${zeros(p.amountPence, 11)}${p.channel}${left(p.authCode, 8)}`;
}

/** The trailer record: T, detail count (7), total pence (13). 21 characters. */
export function trailerRecord(count: number, totalPence: number): string {
  return `T${zeros(count, 7)}${zeros(totalPence, 13)}`;
}

interface Counters {
  sequences: Record<string, number>;
  nextTransaction: number;
  transactionRefs: string[];
}

export class PaymentsSimulator implements SimulatorControl {
  readonly system = 'payments';
  readonly faults: FaultSwitch;
  readonly actions: SimulatorControl['actions'];
  private readonly random: Random;
  private readonly countersFile: string;
  private counters: Counters;
  private readonly written: WrittenPaymentFile[] = [];
  private timer?: NodeJS.Timeout;
  private writing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PaymentsOptions) {
    const seed = options.seed ?? options.population.seed;
    this.faults = new FaultSwitch(this.system, seed);
    this.random = new Random(`${seed}:payments`);
    fs.mkdirSync(path.join(options.root, 'payments', 'out'), { recursive: true });
    this.countersFile = path.join(options.root, '.payments-system.json');
    this.counters = fs.existsSync(this.countersFile) ? JSON.parse(fs.readFileSync(this.countersFile, 'utf8')) : { sequences: {}, nextTransaction: 1, transactionRefs: [] };
    this.actions = {
      'write-file': (input: PaymentFileRequest) => this.writeFile(input),
    };
  }

  /** Starts the schedule (if scheduleMs is set). */
  start(): void {
    const every = this.options.scheduleMs ?? 0;
    if (every <= 0) return;
    this.timer = setInterval(() => {
      if (this.faults.isDown) return;
      void this.writeFile({ count: this.options.scheduleCount ?? 20 }).catch(() => undefined);
    }, every);
    this.timer.unref();
  }

  private generate(date: string, given: Partial<Payment> = {}): Payment {
    const account = given.fund && given.accountRef ? { fund: given.fund, accountRef: given.accountRef } : this.random.pick(this.options.population.accounts);
    const channel = given.channel ?? this.random.pick(CHANNELS);
    const [min, max] = AMOUNTS[account.fund];
    const transactionRef = given.transactionRef ?? `${compactDate(date).slice(2)}${zeros(this.counters.nextTransaction++ % 1000000, 6)}`;
    return {
      transactionRef,
      date: given.date ?? date,
      time: given.time ?? `${zeros(this.random.int(7, 21), 2)}:${zeros(this.random.int(0, 59), 2)}:${zeros(this.random.int(0, 59), 2)}`,
      fund: account.fund,
      accountRef: account.accountRef,
      amountPence: given.amountPence ?? this.random.int(min, max),
      channel,
      authCode: given.authCode ?? (channel === 'C' ? '' : this.random.chars(6, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')),
    };
  }

  private check(p: Payment): void {
    if (!/^[\x20-\x7e]{1,12}$/.test(p.transactionRef)) throw new ActionInputError(`transactionRef "${p.transactionRef}" must be 1-12 ASCII characters`);
    if (!isIsoDate(p.date) || !/^\d{2}:\d{2}:\d{2}$/.test(p.time)) throw new ActionInputError('date is YYYY-MM-DD and time HH:mm:ss');
    if (!FUNDS.includes(p.fund)) throw new ActionInputError(`fund must be one of ${FUNDS.join(', ')}`);
    if (!/^[\x20-\x7e]{1,15}$/.test(p.accountRef)) throw new ActionInputError('accountRef must be 1-15 ASCII characters');
    if (!Number.isInteger(p.amountPence) || p.amountPence <= 0 || p.amountPence > 99999999999) throw new ActionInputError('amountPence must be a whole number above 0 and at most 11 digits');
    if (!CHANNELS.includes(p.channel)) throw new ActionInputError(`channel must be one of ${CHANNELS.join(', ')}`);
    if (!/^[\x20-\x7e]{0,8}$/.test(p.authCode)) throw new ActionInputError('authCode is at most 8 ASCII characters');
  }

  /** Writes one payment file now (one at a time) and returns what it holds. */
  writeFile(request: PaymentFileRequest = {}): Promise<WrittenPaymentFile> {
    const next = this.writing.catch(() => undefined).then(() => this.write(request));
    this.writing = next;
    return next;
  }

  private async write(request: PaymentFileRequest): Promise<WrittenPaymentFile> {
    const date = request.date ?? new Date().toISOString().slice(0, 10);
    if (!isIsoDate(date)) throw new ActionInputError('date is YYYY-MM-DD');
    if (request.fault !== undefined && !PAYMENT_FILE_FAULTS.includes(request.fault)) throw new ActionInputError(`fault must be one of ${PAYMENT_FILE_FAULTS.join(', ')}`);
    const day = compactDate(date);
    const last = this.counters.sequences[day] ?? 0;
    let sequence = request.sequence ?? last + 1;
    if (request.fault === 'repeated-sequence') {
      if (last === 0) throw new ActionInputError(`no file was written for ${date} yet, so no sequence to repeat`);
      sequence = last;
    }
    if (!Number.isInteger(sequence) || sequence < 1 || sequence > 999) throw new ActionInputError('sequence must be 1-999');
    const count = request.count ?? 10;
    if (!request.payments && (!Number.isInteger(count) || count < 1 || count > 100000)) throw new ActionInputError('count must be 1-100000');
    const payments = request.payments ? request.payments.map((p) => this.generate(date, p)) : Array.from({ length: count }, () => this.generate(date));
    if (payments.length === 0) throw new ActionInputError('a payment file holds at least one payment');
    payments.forEach((p) => this.check(p));
    if (request.fault === 'repeated-transaction') {
      const earlier = this.counters.transactionRefs[this.counters.transactionRefs.length - 1];
      if (!earlier) throw new ActionInputError('no earlier file, so no transaction ref to repeat');
      payments[0].transactionRef = earlier;
    }
    const totalPence = payments.reduce((sum, p) => sum + p.amountPence, 0);
    const details = payments.map(detailRecord);
    if (request.fault === 'bad-record') details[details.length > 1 ? 1 : 0] = details[details.length > 1 ? 1 : 0].replace(/^(.{27})(CTX|NDR|HRA|SUN)/, '$1XXX').replace(/^(.{45}).{11}/, '$1000000000A0');
    const trailer = trailerRecord(details.length + (request.fault === 'wrong-count' ? 1 : 0), totalPence + (request.fault === 'wrong-total' ? 1 : 0));
    const eol = request.lineEnding === 'CRLF' ? '\r\n' : '\n';
    const content = [headerRecord(date, sequence, this.options.sourceId ?? 'CASHRCPT01'), ...details, trailer].join(eol) + eol;
    const name = `PAY_${day}_${zeros(sequence, 3)}.txt`;
    const file = path.join(this.options.root, 'payments', 'out', name);
    await fs.promises.writeFile(file, content, 'ascii');
    this.counters.sequences[day] = Math.max(last, sequence);
    this.counters.transactionRefs = [...this.counters.transactionRefs, ...payments.map((p) => p.transactionRef)].slice(-1000);
    await fs.promises.writeFile(this.countersFile, JSON.stringify(this.counters));
    const written: WrittenPaymentFile = { name, path: file, sequence, payments, totalPence, ...(request.fault ? { fault: request.fault } : {}) };
    this.written.push(written);
    return written;
  }

  files(): WrittenPaymentFile[] {
    return this.written.slice();
  }

  state() {
    return { files: this.written.map(({ payments, ...rest }) => ({ ...rest, count: payments.length })), counters: { sequences: this.counters.sequences } };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.writing.catch(() => undefined);
  }
}
