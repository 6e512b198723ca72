import { randomUUID } from 'crypto';
import { Bs7666Address, GazetteerRecord, sameAddress } from './addresses';
import { ActionInputError, SimulatorControl } from './control';
import { FaultSwitch, SystemFault } from './faults';
import { PlanningPartyRecord, Population } from './population';
import { Random } from './random';
import { SoapCall, SoapHost, startSoapHost } from './soap-host';
import { bs7666Address, isoDate, text, uprn, wholeNumber } from './validate';

/**
 * The planning system (Uniform-style): PlanningService over SOAP, in a connector session
 * (cookie ConnectorSession), with an ever-growing stream of application events.
 */
export interface PlanningCredentials {
  databaseId: string;
  userName: string;
  password: string;
}

export interface PlanningOptions {
  population: Population;
  host?: string;
  port?: number;
  /** a session ends after this long without a call (default 20 minutes) */
  sessionIdleMs?: number;
  /** default UNIFORM / hub / planning-demo */
  credentials?: PlanningCredentials;
  /** refuse addresses whose UPRN is not an approved or provisional gazetteer record (default true) */
  checkUprnAgainstGazetteer?: boolean;
  seed?: string;
}

export type ApplicationEventType = 'Received' | 'Validated' | 'ConsultationStarted' | 'Decided' | 'Withdrawn' | 'AppealLodged';

export interface ApplicationEvent {
  sequence: number;
  applicationRef: string;
  eventType: ApplicationEventType;
  status: string;
  decision?: 'Approved' | 'Refused';
  eventDate: string;
  officer: string;
  applicantPartyId: string;
}

export interface PlanningParty extends PlanningPartyRecord {
  addressEffectiveDate?: string;
}

export const DEFAULT_PLANNING_CREDENTIALS: PlanningCredentials = { databaseId: 'UNIFORM', userName: 'hub', password: 'planning-demo' };
export const SESSION_COOKIE = 'ConnectorSession';

const STATUS: Record<ApplicationEventType, string> = {
  Received: 'Registered',
  Validated: 'Valid',
  ConsultationStarted: 'Under consultation',
  Decided: 'Decided',
  Withdrawn: 'Withdrawn',
  AppealLodged: 'Appeal in progress',
};
const NEXT: Record<ApplicationEventType, ApplicationEventType[]> = {
  Received: ['Validated'],
  Validated: ['ConsultationStarted'],
  ConsultationStarted: ['Decided', 'Decided', 'Decided', 'Withdrawn'],
  Decided: ['AppealLodged'],
  Withdrawn: [],
  AppealLodged: [],
};
const EVENT_TYPES = Object.keys(STATUS) as ApplicationEventType[];
const OFFICERS = ['J. Patel', 'S. Okafor', 'R. Hughes', 'L. Chen', 'M. Doherty', 'A. Fraser'];
const APPLICATION_TYPES = ['FUL', 'HOU', 'HOU', 'LBC', 'OUT', 'ADV'];

export class PlanningSimulator implements SimulatorControl {
  readonly system = 'planning';
  readonly faults: FaultSwitch;
  readonly actions: SimulatorControl['actions'];
  private readonly parties = new Map<string, PlanningParty>();
  private readonly gazetteer = new Map<string, GazetteerRecord>();
  private readonly resultByRequest = new Map<string, 'Updated' | 'Unchanged'>();
  private readonly sessions = new Map<string, number>();
  private readonly applicationEvents: ApplicationEvent[] = [];
  /** the last event of each application still open */
  private readonly open = new Map<string, ApplicationEvent>();
  private readonly random: Random;
  private readonly credentials: PlanningCredentials;
  private sessionIdleMs: number;
  private nextApplication = 1;
  private host?: SoapHost;

  private constructor(private readonly options: PlanningOptions) {
    const seed = options.seed ?? options.population.seed;
    this.faults = new FaultSwitch(this.system, seed);
    this.random = new Random(`${seed}:planning`);
    this.credentials = options.credentials ?? DEFAULT_PLANNING_CREDENTIALS;
    this.sessionIdleMs = options.sessionIdleMs ?? 20 * 60 * 1000;
    for (const party of options.population.planningParties) this.parties.set(party.partyId, structuredClone(party));
    for (const record of options.population.gazetteer) this.gazetteer.set(record.uprn, record);
    // A history: applications from a tenth of the parties, at every stage, dated in the past.
    const start = Date.UTC(2026, 0, 5);
    for (const party of options.population.planningParties) {
      if (!this.random.chance(0.1)) continue;
      const stages = this.random.int(1, 5);
      let day = this.random.int(0, 200);
      for (let i = 0; i < stages; i++) {
        this.advance(party.partyId, new Date(start + day * 86400000).toISOString().slice(0, 10));
        day += this.random.int(3, 20);
      }
    }
    this.actions = {
      'raise-events': (input: { count?: number }) => this.raiseApplicationEvents(input.count ?? 1),
      'add-event': (input: Partial<ApplicationEvent>) => this.addApplicationEvent(input),
      'expire-sessions': () => ({ expired: this.expireSessions() }),
    };
  }

  static async start(options: PlanningOptions): Promise<PlanningSimulator> {
    const planning = new PlanningSimulator(options);
    planning.host = await startSoapHost({
      control: planning,
      wsdl: 'adapters/planning/PlanningService.wsdl',
      path: '/PlanningService',
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      operations: planning.operations(),
    });
    return planning;
  }

  get endpoint(): string {
    return this.host!.endpoint;
  }

  /** The next event of an open application of this party, or a new application. */
  private advance(partyId: string, eventDate: string): ApplicationEvent {
    const current = [...this.open.values()].find((e) => e.applicantPartyId === partyId);
    if (current) {
      const choices = NEXT[current.eventType];
      const eventType = this.random.pick(choices);
      return this.record({ applicationRef: current.applicationRef, eventType, applicantPartyId: partyId, eventDate, decision: eventType === 'Decided' ? (this.random.chance(0.8) ? 'Approved' : 'Refused') : undefined });
    }
    const applicationRef = `26/${String(this.nextApplication++).padStart(5, '0')}/${this.random.pick(APPLICATION_TYPES)}`;
    return this.record({ applicationRef, eventType: 'Received', applicantPartyId: partyId, eventDate });
  }

  private record(input: { applicationRef: string; eventType: ApplicationEventType; applicantPartyId: string; eventDate: string; decision?: 'Approved' | 'Refused'; officer?: string }): ApplicationEvent {
    const event: ApplicationEvent = {
      sequence: this.applicationEvents.length + 1,
      applicationRef: input.applicationRef,
      eventType: input.eventType,
      status: STATUS[input.eventType],
      ...(input.eventType === 'Decided' ? { decision: input.decision ?? 'Approved' } : {}),
      eventDate: input.eventDate,
      officer: input.officer ?? this.random.pick(OFFICERS),
      applicantPartyId: input.applicantPartyId,
    };
    this.applicationEvents.push(event);
    const closed = NEXT[event.eventType].length === 0 || (event.eventType === 'Decided' && event.decision === 'Approved');
    if (closed) this.open.delete(event.applicationRef);
    else this.open.set(event.applicationRef, event);
    return event;
  }

  /** `count` new events today: open applications move on, or parties apply (chosen by the seed). */
  raiseApplicationEvents(count: number): ApplicationEvent[] {
    if (!Number.isInteger(count) || count < 1 || count > 100000) throw new ActionInputError('count must be a whole number from 1 to 100000');
    const partyIds = [...this.parties.keys()];
    const today = new Date().toISOString().slice(0, 10);
    const raised: ApplicationEvent[] = [];
    for (let i = 0; i < count; i++) {
      const openOnes = [...this.open.values()];
      const partyId = openOnes.length && this.random.chance(0.6) ? this.random.pick(openOnes).applicantPartyId : this.random.pick(partyIds);
      raised.push(this.advance(partyId, today));
    }
    return raised;
  }

  /** One event as given (a test decides an application): applicationRef, eventType, applicantPartyId needed. */
  addApplicationEvent(input: Partial<ApplicationEvent>): ApplicationEvent {
    if (!input.applicationRef || !input.applicantPartyId || !input.eventType || !EVENT_TYPES.includes(input.eventType)) throw new ActionInputError(`applicationRef, applicantPartyId and eventType (${EVENT_TYPES.join(', ')}) are required`);
    if (input.decision !== undefined && input.decision !== 'Approved' && input.decision !== 'Refused') throw new ActionInputError('decision must be Approved or Refused');
    return this.record({ applicationRef: input.applicationRef, eventType: input.eventType, applicantPartyId: input.applicantPartyId, eventDate: input.eventDate ?? new Date().toISOString().slice(0, 10), decision: input.decision, officer: input.officer });
  }

  /** Ends every session at once, as 20 idle minutes would; returns how many ended. */
  expireSessions(): number {
    const count = this.sessions.size;
    this.sessions.clear();
    return count;
  }

  /** For tests: a shorter idle time from now on. */
  setSessionIdleMs(ms: number): void {
    this.sessionIdleMs = ms;
  }

  private requireSession(call: SoapCall): void {
    const cookies = String(call.req.headers.cookie ?? '');
    const token = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(cookies)?.[1];
    const lastUsed = token ? this.sessions.get(token) : undefined;
    if (!token || lastUsed === undefined) throw new SystemFault('NotLoggedOn', token ? 'the session has ended; log on again' : 'no session cookie; call LogonToConnector first');
    if (Date.now() - lastUsed > this.sessionIdleMs) {
      this.sessions.delete(token);
      throw new SystemFault('NotLoggedOn', 'the session expired after being idle; log on again');
    }
    this.sessions.set(token, Date.now());
  }

  private sessionToken(call: SoapCall): string | undefined {
    return new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(String(call.req.headers.cookie ?? ''))?.[1];
  }

  private operations() {
    const findParty = (partyId: string) => {
      const party = this.parties.get(partyId);
      if (!party) throw new SystemFault('PartyNotFound', `no party ${partyId}`);
      return party;
    };
    return {
      LogonToConnector: (args: any, call: SoapCall) => {
        const databaseId = text(args, 'databaseId');
        const userName = text(args, 'userName');
        const password = text(args, 'password');
        const c = this.credentials;
        if (databaseId !== c.databaseId || userName !== c.userName || password !== c.password) throw new SystemFault('NotLoggedOn', 'logon refused: unknown database, user or password');
        const token = randomUUID();
        this.sessions.set(token, Date.now());
        call.res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${token}; Path=/; HttpOnly`);
        return { result: 'LoggedOn', sessionTimeoutMinutes: Math.ceil(this.sessionIdleMs / 60000) };
      },
      LogoffFromConnector: (_args: any, call: SoapCall) => {
        this.requireSession(call);
        this.sessions.delete(this.sessionToken(call)!);
        call.res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; Path=/; Max-Age=0`);
        return { result: 'LoggedOff' };
      },
      GetApplicationEvents: (args: any, call: SoapCall) => {
        this.requireSession(call);
        const afterSequence = wholeNumber(args, 'afterSequence', 0, Number.MAX_SAFE_INTEGER);
        const maxEvents = wholeNumber(args, 'maxEvents', 1, 1000);
        // sequence n sits at index n-1
        return { event: this.applicationEvents.slice(afterSequence, afterSequence + maxEvents) };
      },
      FindParty: (args: any, call: SoapCall) => {
        this.requireSession(call);
        const surname = text(args, 'surname').toUpperCase();
        const at = uprn(args, 'uprn');
        const found = [...this.parties.values()].filter((p) => p.surname.toUpperCase() === surname && p.address.uprn === at);
        return { party: found.map((p) => ({ partyId: p.partyId, forename: p.forename, surname: p.surname, uprn: p.address.uprn })) };
      },
      UpdatePartyAddress: (args: any, call: SoapCall) => {
        this.requireSession(call);
        const partyId = text(args, 'partyId');
        const requestId = text(args, 'requestId');
        const effectiveDate = isoDate(args, 'effectiveDate');
        const repeat = this.resultByRequest.get(requestId);
        if (repeat) return { result: repeat };
        const party = findParty(partyId);
        const address = bs7666Address(args);
        this.checkAddress(address);
        let result: 'Updated' | 'Unchanged' = 'Unchanged';
        if (!sameAddress(address, party.address)) {
          party.address = address;
          party.addressEffectiveDate = effectiveDate;
          result = 'Updated';
        }
        this.resultByRequest.set(requestId, result);
        return { result };
      },
      GetParty: (args: any, call: SoapCall) => {
        this.requireSession(call);
        return { party: findParty(text(args, 'partyId')) };
      },
    };
  }

  private checkAddress(address: Bs7666Address): void {
    const rejected = this.faults.rejection(address);
    if (rejected) throw new SystemFault('InvalidAddress', rejected);
    if (this.options.checkUprnAgainstGazetteer === false) return;
    const record = this.gazetteer.get(address.uprn);
    if (!record) throw new SystemFault('InvalidAddress', `uprn ${address.uprn} is not in the gazetteer`);
    if (record.logicalStatus === 8) throw new SystemFault('InvalidAddress', `uprn ${address.uprn} is a historic address`);
  }

  getParty(partyId: string): PlanningParty | undefined {
    const party = this.parties.get(partyId);
    return party && structuredClone(party);
  }

  events(): ApplicationEvent[] {
    return this.applicationEvents.slice();
  }

  state() {
    return {
      parties: this.parties.size,
      sessions: this.sessions.size,
      lastSequence: this.applicationEvents.length,
      updatedParties: [...this.parties.values()].filter((p) => p.addressEffectiveDate),
      requests: Object.fromEntries(this.resultByRequest),
    };
  }

  async stop(): Promise<void> {
    await this.host?.close();
  }
}
