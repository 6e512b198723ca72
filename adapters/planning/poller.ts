import type Redis from 'ioredis';
import { HubError, permanentError } from '../errors';
import { withLock } from '../redis/lock';
import { parseHours, withinHours, type ParsedHours, type WorkingHours } from './hours';

/**
 * Takes planning's application events into the hub: GetApplicationEvents(afterSequence,
 * maxEvents) on an interval during working hours, each event handed to `onEvent`, one at a
 * time and in planning's order, and the cursor (the last sequence taken) advanced only
 * once every event up to it has been stored (onEvent resolved). A rejected event stops the
 * poll there: the next poll reads from the cursor again (the journal ignores duplicates).
 *
 * The session (LogonToConnector, logging on again on NotLoggedOn) belongs to the SOAP call
 * function it is given (the hub's SoapClient). With a Redis client each poll runs under a
 * lock, so only one hub instance polls planning at a time.
 *
 * No Node-RED here: the planning-poll node is a thin layer over this.
 */

/** One event as GetApplicationEvents gives it (CONTRACTS.md, "Planning"). */
export interface PlanningApplicationEvent {
  sequence: number;
  applicationRef: string;
  eventType: string;
  status: string;
  /** Approved or Refused; Decided events only. */
  decision?: string;
  eventDate: string;
  officer: string;
  applicantPartyId: string;
  [field: string]: unknown;
}

/** Calls one SOAP operation and resolves with its result (the hub's SoapClient.call). */
export type PlanningCall = (operation: string, args: Record<string, unknown>) => Promise<unknown>;

/** Where pollers keep their cursors (the hub's CursorStore: SQLite or Redis). */
export interface CursorStore {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
}

/**
 * A sequence that is not the next one. gap: planning skipped sequences (got > expected);
 * the event is still taken. backwards: a sequence at or below the last one taken (a repeat
 * or out of order); it is not handed on.
 */
export interface SequenceReport {
  kind: 'gap' | 'backwards';
  expected: number;
  got: number;
  applicationRef: string;
}

export type PollerState = 'polling' | 'idle' | 'outside-hours' | 'standby' | 'waiting' | 'error' | 'stopped';

export interface PollerStatus {
  state: PollerState;
  /** The cursor as last read or written (undefined before the first poll). */
  cursor?: number;
  /** When the last poll that ran (took the lock, called planning) ended. */
  lastPollAt?: Date;
  detail?: string;
}

/** What one poll did. */
export interface PollResult {
  /**
   * polled: it ran (see taken, notStored, error); busy: a poll was already under way;
   * standby: another instance holds the lock; stopped: the poller is stopped.
   */
  outcome: 'polled' | 'busy' | 'standby' | 'stopped';
  cursorName: string;
  /** The cursor when the poll began. */
  from?: number;
  /** The cursor when it ended (what the store now holds). */
  cursor?: number;
  /** Events handed on and stored. */
  taken: number;
  /** Sequences of the first and last event stored. */
  first?: number;
  last?: number;
  /** GetApplicationEvents calls made. */
  calls: number;
  reports: SequenceReport[];
  /** The event whose store failed: the poll stopped there. */
  notStored?: { sequence: number; applicationRef: string; reason: string };
  /** The poll failed (planning, the cursor store, a malformed reply, the lock). */
  error?: HubError;
  startedAt?: Date;
  endedAt?: Date;
}

export interface PlanningPollerOptions {
  call: PlanningCall;
  cursors: CursorStore;
  /** The cursor's name in the store (pollers with the same name share one cursor, and one lock). */
  cursorName: string;
  /** Stores one event; resolves once it is stored (the journal has it), rejects if it cannot be. */
  onEvent(event: PlanningApplicationEvent): Promise<void>;
  /** A gap or a backwards sequence (each told once per poller). */
  onReport?(report: SequenceReport): void;
  onStatus?(status: PollerStatus): void;
  /** A poll that failed, a lock lost; the poller carries on at the next interval. */
  onError?(error: HubError): void;
  /** Between polls, default 60 000 ms. */
  intervalMs?: number;
  /** maxEvents of each GetApplicationEvents call, default 100. */
  maxEvents?: number;
  /** When to poll; default always. */
  hours?: WorkingHours;
  /** Outside the hours, look again this often (default 60 000 ms, or the interval if shorter). */
  outsideHoursCheckMs?: number;
  /** The cursor while the store holds none, default 0 (from the first event). */
  initialCursor?: number;
  /** The time now (tests set the clock). */
  now?: () => Date;
  /** With a Redis client, one poller at a time across hub instances. */
  redis?: Redis;
  /** The lock's key is this and the cursor's name; default `councilhub:planning-poll:`. */
  lockKeyPrefix?: string;
  /** The lock's lease, renewed at a third of it while a poll runs; default 30 000 ms. */
  lockTtlMs?: number;
  /**
   * stop() waits this long for the event in hand to be stored (default 10 000 ms); then it
   * gives the event up (not stored: the cursor stays before it) and the poll ends.
   */
  stopWaitMs?: number;
}

/** The error codes of the planning poller (besides the SOAP client's own, which pass as they are). */
export const PLANNING_POLL_CODES = {
  configuration: 'PLANNING_POLL_CONFIGURATION',
  malformedReply: 'PLANNING_REPLY_MALFORMED',
  malformedEvent: 'PLANNING_EVENT_MALFORMED',
  cursorInvalid: 'PLANNING_CURSOR_INVALID',
  cursorStore: 'PLANNING_CURSOR_STORE_FAILED',
  lockUnavailable: 'PLANNING_POLL_LOCK_UNAVAILABLE',
  lockLost: 'PLANNING_POLL_LOCK_LOST',
  failed: 'PLANNING_POLL_FAILED',
} as const;

const OPERATION = 'GetApplicationEvents';
const MAX_REMEMBERED_REPORTS = 10_000;

/** Any failure as a hub error: one that already says transient or permanent is kept. */
function asHubError(err: unknown, code: string, what: string, transient: boolean): HubError {
  if (err instanceof HubError) return err;
  const e = err as { code?: unknown; transient?: unknown; message?: unknown } | null;
  if (typeof e?.transient === 'boolean' && typeof e.code === 'string') {
    return new HubError(e.code, String(e.message ?? err), { transient: e.transient, cause: err });
  }
  return new HubError(code, `${what}: ${(err as Error)?.message ?? String(err)}`, { transient, cause: err });
}

/** Whether a promise settles within ms. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([promise.then(() => true, () => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  clearTimeout(timer);
  return settled;
}

function positiveInteger(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The events of a GetApplicationEvents result ({ event: [...] }, one event, or none). */
export function eventsOf(result: unknown): PlanningApplicationEvent[] {
  if (result === null || result === undefined || result === '') return [];
  if (typeof result !== 'object' || Array.isArray(result)) throw permanentError(PLANNING_POLL_CODES.malformedReply, `${OPERATION} answered ${JSON.stringify(result)?.slice(0, 100)}, not a list of events`);
  const raw = (result as { event?: unknown }).event;
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((item, index) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw permanentError(PLANNING_POLL_CODES.malformedEvent, `${OPERATION}: event ${index + 1} of the reply is not an event: ${JSON.stringify(item)?.slice(0, 100)}`);
    const event = item as Record<string, unknown>;
    const sequence = positiveInteger(event.sequence);
    if (sequence === undefined) throw permanentError(PLANNING_POLL_CODES.malformedEvent, `${OPERATION}: event ${index + 1} of the reply has no sequence (a whole number above 0): ${JSON.stringify(item).slice(0, 160)}`);
    return { ...event, sequence } as PlanningApplicationEvent;
  });
}

export class PlanningPoller {
  private readonly intervalMs: number;
  private readonly maxEvents: number;
  private readonly hours?: ParsedHours;
  private readonly now: () => Date;
  private readonly cursorNameValue: string;
  private timer?: NodeJS.Timeout;
  private current?: Promise<PollResult>;
  private started = false;
  private stopped = false;
  private lastCursor?: number;
  private lastPollAt?: Date;
  private readonly reported = new Set<string>();
  /** Ends the poll under way at once, its event in hand counted as not stored (stop() after stopWaitMs). */
  private abandonCurrent?: () => void;

  constructor(private readonly options: PlanningPollerOptions) {
    if (typeof options.call !== 'function') throw permanentError(PLANNING_POLL_CODES.configuration, 'planning poller: no SOAP call function (a soap-endpoint for planning)');
    if (!options.cursors) throw permanentError(PLANNING_POLL_CODES.configuration, 'planning poller: no cursor store');
    if (typeof options.onEvent !== 'function') throw permanentError(PLANNING_POLL_CODES.configuration, 'planning poller: no onEvent');
    this.cursorNameValue = String(options.cursorName ?? '').trim();
    if (!this.cursorNameValue) throw permanentError(PLANNING_POLL_CODES.configuration, 'planning poller: the cursor name is empty');
    this.intervalMs = options.intervalMs ?? 60_000;
    if (!(this.intervalMs > 0)) throw permanentError(PLANNING_POLL_CODES.configuration, `planning poller: the interval must be above 0 ms, got ${options.intervalMs}`);
    this.maxEvents = options.maxEvents ?? 100;
    if (!Number.isInteger(this.maxEvents) || this.maxEvents < 1) throw permanentError(PLANNING_POLL_CODES.configuration, `planning poller: max events must be a whole number from 1, got ${options.maxEvents}`);
    const initial = options.initialCursor ?? 0;
    if (!Number.isSafeInteger(initial) || initial < 0) throw permanentError(PLANNING_POLL_CODES.configuration, `planning poller: the initial cursor must be a whole number from 0, got ${options.initialCursor}`);
    this.hours = options.hours ? parseHours(options.hours) : undefined;
    this.now = options.now ?? (() => new Date());
  }

  get cursorName(): string {
    return this.cursorNameValue;
  }

  /** The cursor as last read or written. */
  get cursor(): number | undefined {
    return this.lastCursor;
  }

  get lockKey(): string {
    return `${this.options.lockKeyPrefix ?? 'councilhub:planning-poll:'}${this.cursorNameValue}`;
  }

  /** Is a poll under way? */
  get busy(): boolean {
    return !!this.current;
  }

  /** Is it working hours now? */
  withinHours(): boolean {
    return !this.hours || withinHours(this.hours, this.now());
  }

  /** Polls now (if within the hours), then every interval until stop(). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /**
   * One poll now, whatever the hours (for support). Does not wait: `busy` when a poll is
   * under way, `standby` when another instance holds the lock.
   */
  pollNow(): Promise<PollResult> {
    if (this.stopped) return Promise.resolve({ outcome: 'stopped', taken: 0, calls: 0, reports: [], cursorName: this.cursorNameValue, cursor: this.lastCursor });
    if (this.current) return Promise.resolve({ outcome: 'busy', taken: 0, calls: 0, reports: [], cursorName: this.cursorNameValue, cursor: this.lastCursor });
    const cycle = this.runCycle().finally(() => {
      if (this.current === cycle) this.current = undefined;
    });
    this.current = cycle;
    return cycle;
  }

  /**
   * Stops polling. A poll under way hands out no further event and ends once the event in
   * hand is stored; if that takes longer than stopWaitMs, the event is given up (the cursor
   * stays before it, the next start takes it again) and the poll ends, releasing its lock.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const current = this.current;
    if (current) {
      if (!(await settlesWithin(current, this.options.stopWaitMs ?? 10_000))) {
        this.abandonCurrent?.();
        await settlesWithin(current, 5_000); // the cursor write and the lock's release
      }
    }
    this.status('stopped');
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    if (!this.withinHours()) {
      this.status('outside-hours');
      this.schedule(Math.min(this.intervalMs, this.options.outsideHoursCheckMs ?? 60_000));
      return;
    }
    // A poll started by pollNow is under way: this turn is skipped, not queued.
    if (!this.current) await this.pollNow();
    this.schedule(this.intervalMs);
  }

  private status(state: PollerState, detail?: string): void {
    try {
      this.options.onStatus?.({ state, cursor: this.lastCursor, lastPollAt: this.lastPollAt, detail });
    } catch {
      // a status display must not break the poller
    }
  }

  private error(error: HubError): void {
    if (this.stopped && error.code !== PLANNING_POLL_CODES.lockLost) return; // a node closing: its client is closing too
    try {
      this.options.onError?.(error);
    } catch {
      // reporting must not break the poller
    }
  }

  private report(report: SequenceReport, result: PollResult): void {
    result.reports.push(report);
    const key = `${report.kind}:${report.expected}:${report.got}:${report.applicationRef}`;
    if (this.reported.has(key)) return;
    if (this.reported.size >= MAX_REMEMBERED_REPORTS) this.reported.clear();
    this.reported.add(key);
    try {
      this.options.onReport?.(report);
    } catch {
      // a report that cannot be shown must not stop the events
    }
  }

  private async runCycle(): Promise<PollResult> {
    const result: PollResult = { outcome: 'polled', cursorName: this.cursorNameValue, taken: 0, calls: 0, reports: [], startedAt: this.now() };
    const abandoned = new Promise<'abandoned'>((resolve) => (this.abandonCurrent = () => resolve('abandoned')));
    try {
      const redis = this.options.redis;
      if (redis) {
        let lost: HubError | undefined;
        let held: { result: void } | undefined;
        try {
          held = await withLock(
            redis,
            this.lockKey,
            this.options.lockTtlMs ?? 30_000,
            () => this.poll(result, abandoned, () => lost),
            (error) => {
              // Never swallowed: another instance may be polling now. Stop handing out events, keep the cursor as it is.
              lost = new HubError(PLANNING_POLL_CODES.lockLost, `planning poll ${result.cursorName}: ${error.message}`, { transient: true, cause: error });
              this.error(lost);
            },
          );
        } catch (err) {
          if (err instanceof HubError) throw err;
          throw asHubError(err, PLANNING_POLL_CODES.lockUnavailable, `planning poll ${result.cursorName}: the lock in Redis could not be taken`, true);
        }
        if (!held) {
          result.outcome = 'standby';
          this.status('standby', 'another hub instance is polling planning');
          return result;
        }
        if (lost && !result.error) result.error = lost;
      } else {
        await this.poll(result, abandoned, () => undefined);
      }
    } catch (err) {
      result.error = asHubError(err, PLANNING_POLL_CODES.failed, `planning poll ${result.cursorName}`, true);
      this.error(result.error);
    }
    result.endedAt = this.now();
    if (result.outcome === 'polled') this.lastPollAt = result.endedAt;
    result.cursor = this.lastCursor;
    if (result.error) this.status('error', result.error.message);
    else if (result.notStored) this.status('waiting', `event ${result.notStored.sequence} not stored: ${result.notStored.reason}`);
    else if (this.stopped) this.status('stopped');
    else this.status(this.withinHours() ? 'idle' : 'outside-hours');
    return result;
  }

  private async readCursor(name: string): Promise<number> {
    let raw: string | undefined;
    try {
      raw = await this.options.cursors.get(name);
    } catch (err) {
      throw asHubError(err, PLANNING_POLL_CODES.cursorStore, `planning poll: the cursor ${name} could not be read`, true);
    }
    if (raw === undefined || raw === null || raw === '') return this.options.initialCursor ?? 0;
    const value = String(raw).trim();
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw permanentError(PLANNING_POLL_CODES.cursorInvalid, `planning poll: the cursor ${name} holds "${raw}", not a sequence number`);
    return Number(value);
  }

  private async writeCursor(name: string, value: number): Promise<void> {
    try {
      await this.options.cursors.set(name, String(value));
    } catch (err) {
      throw asHubError(err, PLANNING_POLL_CODES.cursorStore, `planning poll: the cursor ${name} could not be advanced to ${value}`, true);
    }
    this.lastCursor = value;
  }

  /** Reads pages from the cursor until planning has no more, an event is not stored, or the poll must stop. */
  private async poll(result: PollResult, abandoned: Promise<'abandoned'>, lost: () => HubError | undefined): Promise<void> {
    const name = result.cursorName;
    this.status('polling');
    let cursor = await this.readCursor(name);
    this.lastCursor = cursor;
    result.from = cursor;
    for (;;) {
      if (this.stopped || lost()) return;
      result.calls += 1;
      const events = eventsOf(await this.options.call(OPERATION, { afterSequence: cursor, maxEvents: this.maxEvents }));
      // Every event up to `stored` has been stored, in order.
      let stored = cursor;
      let halted = false;
      for (const event of events) {
        if (this.stopped || lost()) {
          halted = true;
          break;
        }
        if (event.sequence <= stored) {
          this.report({ kind: 'backwards', expected: stored + 1, got: event.sequence, applicationRef: String(event.applicationRef ?? '') }, result);
          continue;
        }
        if (event.sequence !== stored + 1) this.report({ kind: 'gap', expected: stored + 1, got: event.sequence, applicationRef: String(event.applicationRef ?? '') }, result);
        let outcome: 'stored' | 'abandoned';
        try {
          outcome = await Promise.race([this.options.onEvent(event).then(() => 'stored' as const), abandoned]);
        } catch (err) {
          result.notStored = { sequence: event.sequence, applicationRef: String(event.applicationRef ?? ''), reason: (err as Error)?.message ?? String(err) };
          halted = true;
          break;
        }
        if (outcome === 'abandoned') {
          result.notStored = { sequence: event.sequence, applicationRef: String(event.applicationRef ?? ''), reason: 'the poller stopped before the event was stored' };
          halted = true;
          break;
        }
        stored = event.sequence;
        result.taken += 1;
        result.first ??= event.sequence;
        result.last = event.sequence;
      }
      // A poller that lost its lock leaves the cursor to the instance that has it now.
      if (stored > cursor && !lost()) await this.writeCursor(name, stored);
      const progressed = stored > cursor;
      cursor = stored;
      if (halted || !progressed || events.length < this.maxEvents) return;
    }
  }
}
