import { randomUUID } from 'crypto';
import amqp from 'amqplib';
import { CrmAddress, compact, sameAddress, toCrmAddress } from './addresses';
import { ActionInputError, SimulatorControl } from './control';
import { FaultSwitch, SystemFault } from './faults';
import { HubSoapClient, Outbox, OutboxItem } from './outbox';
import { AccountLink, CrmContactRecord, Fund, Population } from './population';
import { Random } from './random';
import { SoapHost, startSoapHost } from './soap-host';
import { isoDate, isoDateTime, text } from './validate';

/**
 * The contact-centre CRM: CrmService over SOAP, and ContactAddressChanged events when a
 * contact's address changes, published to RabbitMQ (crm.events) or, with no broker,
 * pushed to the hub's ContactEventService.
 */
export interface CrmOptions {
  population: Population;
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** amqp://...: events go to the exchange; otherwise to hubContactEventsUrl */
  rabbitmqUrl?: string;
  /** default crm.events */
  exchange?: string;
  /** the hub's ContactEventService endpoint, e.g. http://127.0.0.1:1880/soap/contact-events */
  hubContactEventsUrl?: string;
  /** how often an undelivered event is tried again (default 5000 ms) */
  retryMs?: number;
  seed?: string;
}

export interface CrmNote {
  noteId: string;
  text: string;
  sourceEventId: string;
  createdAt: string;
}

export interface CrmContact extends CrmContactRecord {
  notes: CrmNote[];
}

export interface CrmCaseUpdate {
  updateId: string;
  status: string;
  summary: string;
  occurredAt: string;
  sourceEventId: string;
  receivedAt: string;
}

export interface CrmCase {
  caseRef: string;
  caseType: string;
  title: string;
  externalSystem: string;
  externalRef: string;
  contactId?: string;
  createdAt: string;
  status?: string;
  updates: CrmCaseUpdate[];
}

export interface ContactAddressChangedEvent {
  eventType: 'ContactAddressChanged';
  eventId: string;
  raisedAt: string;
  contact: { contactId: string; title?: string; firstName: string; lastName: string; dateOfBirth?: string; email?: string; phone?: string };
  oldAddress: CrmAddress;
  newAddress: CrmAddress;
  effectiveDate: string;
  source: string;
}

export const CRM_ROUTING_KEY = 'contact.address.changed';
const FUNDS: readonly Fund[] = ['CTX', 'NDR', 'HRA', 'SUN'];
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const today = () => new Date().toISOString().slice(0, 10);

/** Publishes to the topic exchange on a confirm channel; reconnects on the next publish after a failure. */
class EventPublisher {
  private connection?: amqp.ChannelModel;
  private channel?: amqp.ConfirmChannel;

  constructor(
    private readonly url: string,
    private readonly exchange: string,
  ) {}

  async publish(event: ContactAddressChangedEvent): Promise<void> {
    try {
      if (!this.channel) {
        this.connection = await amqp.connect(this.url, { clientProperties: { connection_name: `council-hub-simulator-crm-${process.pid}` } });
        this.connection.on('error', () => undefined); // 'close' follows; the next publish reconnects
        this.connection.on('close', () => {
          this.connection = undefined;
          this.channel = undefined;
        });
        this.channel = await this.connection.createConfirmChannel();
        await this.channel.assertExchange(this.exchange, 'topic', { durable: true });
      }
      this.channel.publish(this.exchange, CRM_ROUTING_KEY, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        contentType: 'application/json',
        messageId: event.eventId,
        type: event.eventType,
        timestamp: Math.floor(Date.parse(event.raisedAt) / 1000),
      });
      await this.channel.waitForConfirms();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    await connection?.close().catch(() => undefined);
  }
}

export class CrmSimulator implements SimulatorControl {
  readonly system = 'crm';
  readonly faults: FaultSwitch;
  readonly actions: SimulatorControl['actions'];
  private readonly contacts = new Map<string, CrmContact>();
  private readonly contactByAccount = new Map<string, string>();
  private readonly cases = new Map<string, CrmCase>();
  private readonly caseByExternalRef = new Map<string, string>();
  private readonly updateBySourceEvent = new Map<string, string>();
  private readonly noteBySourceEvent = new Map<string, string>();
  private readonly outbox: Outbox<ContactAddressChangedEvent>;
  private readonly publisher?: EventPublisher;
  private readonly hubClient?: HubSoapClient;
  private readonly moves: Random;
  private host?: SoapHost;
  private nextUpdate = 1;
  private nextNote = 1;

  private constructor(private readonly options: CrmOptions) {
    const seed = options.seed ?? options.population.seed;
    this.faults = new FaultSwitch(this.system, seed);
    this.moves = new Random(`${seed}:crm-moves`);
    for (const record of options.population.crmContacts) {
      const contact: CrmContact = { ...structuredClone(record), notes: [] };
      this.contacts.set(contact.contactId, contact);
      // A joint account: the first holder (the lead liable person) is the account's contact.
      for (const link of contact.accounts) if (!this.contactByAccount.has(`${link.fund}|${link.accountRef}`)) this.contactByAccount.set(`${link.fund}|${link.accountRef}`, contact.contactId);
    }
    if (options.rabbitmqUrl) this.publisher = new EventPublisher(options.rabbitmqUrl, options.exchange ?? 'crm.events');
    else if (options.hubContactEventsUrl) this.hubClient = new HubSoapClient(options.hubContactEventsUrl);
    this.outbox = new Outbox((event) => this.deliver(event), options.retryMs ?? 5000);
    this.actions = {
      'change-address': (input: { contactId?: string; newAddress?: CrmAddress; effectiveDate?: string }) => {
        if (!input.contactId || !input.newAddress) throw new ActionInputError('contactId and newAddress are required');
        return this.changeContactAddress(input.contactId, input.newAddress, input.effectiveDate);
      },
      'move-contacts': (input: { count?: number }) => this.moveRandomContacts(input.count ?? 1),
      'retry-events': async () => {
        await this.outbox.flush();
        return this.events();
      },
    };
  }

  static async start(options: CrmOptions): Promise<CrmSimulator> {
    const crm = new CrmSimulator(options);
    crm.host = await startSoapHost({
      control: crm,
      wsdl: 'adapters/crm/CrmService.wsdl',
      path: '/CrmService',
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      operations: crm.operations(),
    });
    return crm;
  }

  /** http://host:port/CrmService (WSDL at endpoint + '?wsdl') */
  get endpoint(): string {
    return this.host!.endpoint;
  }

  /** Where events go: 'rabbitmq', 'hub' or 'nowhere' (kept pending). */
  get eventTarget(): 'rabbitmq' | 'hub' | 'nowhere' {
    return this.publisher ? 'rabbitmq' : this.hubClient ? 'hub' : 'nowhere';
  }

  private async deliver(event: ContactAddressChangedEvent): Promise<unknown> {
    if (this.publisher) return this.publisher.publish(event);
    if (this.hubClient) return this.hubClient.call('NotifyContactEvent', event);
    throw new Error('no RabbitMQ URL and no hub ContactEventService URL configured');
  }

  private operations() {
    const findCase = (caseRef: string) => {
      const found = this.cases.get(caseRef);
      if (!found) throw new SystemFault('CaseNotFound', `no case ${caseRef}`);
      return found;
    };
    const findContact = (contactId: string) => {
      const found = this.contacts.get(contactId);
      if (!found) throw new SystemFault('ContactNotFound', `no contact ${contactId}`);
      return found;
    };
    return {
      FindCaseByExternalRef: (args: any) => {
        const externalSystem = text(args, 'externalSystem');
        const externalRef = text(args, 'externalRef');
        const caseRef = this.caseByExternalRef.get(`${externalSystem}|${externalRef}`);
        if (!caseRef) throw new SystemFault('CaseNotFound', `no case for ${externalSystem}/${externalRef}`);
        return { caseRef };
      },
      CreateCase: (args: any) => {
        const caseType = text(args, 'caseType');
        const title = text(args, 'title');
        const externalSystem = text(args, 'externalSystem');
        const externalRef = text(args, 'externalRef');
        const contactId = text(args, 'contactId', true);
        const existing = this.caseByExternalRef.get(`${externalSystem}|${externalRef}`);
        if (existing) return { caseRef: existing };
        if (contactId) findContact(contactId);
        const caseRef = `CAS-${pad(this.cases.size + 1, 6)}`;
        this.cases.set(caseRef, compact({ caseRef, caseType, title, externalSystem, externalRef, contactId, createdAt: new Date().toISOString(), updates: [] }) as CrmCase);
        this.caseByExternalRef.set(`${externalSystem}|${externalRef}`, caseRef);
        return { caseRef };
      },
      AddCaseUpdate: (args: any) => {
        const caseRef = text(args, 'caseRef');
        const status = text(args, 'status');
        const summary = text(args, 'summary');
        const occurredAt = isoDateTime(args, 'occurredAt');
        const sourceEventId = text(args, 'sourceEventId');
        const repeat = this.updateBySourceEvent.get(sourceEventId);
        if (repeat) return { updateId: repeat };
        const target = findCase(caseRef);
        const updateId = `U${pad(this.nextUpdate++, 7)}`;
        target.updates.push({ updateId, status, summary, occurredAt, sourceEventId, receivedAt: new Date().toISOString() });
        target.status = status;
        this.updateBySourceEvent.set(sourceEventId, updateId);
        return { updateId };
      },
      FindContactByAccount: (args: any) => {
        const fund = text(args, 'fund');
        const accountRef = text(args, 'accountRef');
        if (!FUNDS.includes(fund as Fund)) throw new SystemFault('InvalidRequest', `fund "${fund}" is not one of ${FUNDS.join(', ')}`);
        const contactId = this.contactByAccount.get(`${fund}|${accountRef}`);
        if (!contactId) throw new SystemFault('ContactNotFound', `no contact holds ${fund} account ${accountRef}`);
        return { contactId };
      },
      AddContactNote: (args: any) => {
        const contactId = text(args, 'contactId');
        const noteText = text(args, 'text');
        const sourceEventId = text(args, 'sourceEventId');
        const repeat = this.noteBySourceEvent.get(sourceEventId);
        if (repeat) return { noteId: repeat };
        const contact = findContact(contactId);
        const noteId = `N${pad(this.nextNote++, 7)}`;
        contact.notes.push({ noteId, text: noteText, sourceEventId, createdAt: new Date().toISOString() });
        this.noteBySourceEvent.set(sourceEventId, noteId);
        return { noteId };
      },
      GetCase: (args: any) => {
        const found = findCase(text(args, 'caseRef'));
        const { updates, ...rest } = found;
        return { case: { ...rest, update: updates } };
      },
      GetContact: (args: any) => {
        const { accounts, notes, ...rest } = findContact(text(args, 'contactId'));
        return { contact: { ...rest, account: accounts, note: notes } };
      },
    };
  }

  getContact(contactId: string): CrmContact | undefined {
    const contact = this.contacts.get(contactId);
    return contact && structuredClone(contact);
  }

  /** Every case the CRM holds (for reconciliation checks in tests: two cases for one external ref would show here). */
  allCases(): CrmCase[] {
    return [...this.cases.values()].map((c) => structuredClone(c));
  }

  getCase(caseRef: string): CrmCase | undefined {
    const found = this.cases.get(caseRef);
    return found && structuredClone(found);
  }

  /** The contact whose account this is, as FindContactByAccount answers. */
  contactIdForAccount(account: AccountLink): string | undefined {
    return this.contactByAccount.get(`${account.fund}|${account.accountRef}`);
  }

  /**
   * The contact centre records a new address: the contact changes and a
   * ContactAddressChanged event goes out (resolves once delivered or queued for retry).
   */
  async changeContactAddress(contactId: string, newAddress: CrmAddress, effectiveDate = today()): Promise<ContactAddressChangedEvent> {
    const contact = this.contacts.get(contactId);
    if (!contact) throw new ActionInputError(`no contact ${contactId}`);
    if (!newAddress || typeof newAddress.line1 !== 'string' || typeof newAddress.postcode !== 'string') throw new ActionInputError('newAddress needs line1 and postcode');
    try {
      isoDate({ effectiveDate }, 'effectiveDate');
    } catch (err) {
      throw new ActionInputError((err as SystemFault).reason);
    }
    const oldAddress = contact.address;
    contact.address = compact({ ...newAddress });
    const event: ContactAddressChangedEvent = {
      eventType: 'ContactAddressChanged',
      eventId: randomUUID(), // unique across restarts: the hub is idempotent on eventId
      raisedAt: new Date().toISOString(),
      contact: compact({ contactId, title: contact.title, firstName: contact.firstName, lastName: contact.lastName, dateOfBirth: contact.dateOfBirth, email: contact.email, phone: contact.phone }),
      oldAddress,
      newAddress: contact.address,
      effectiveDate,
      source: 'ContactCentre',
    };
    await this.outbox.add(event.eventId, event);
    return event;
  }

  /** Moves `count` contacts, chosen by the seed, to other approved gazetteer addresses. */
  async moveRandomContacts(count: number): Promise<ContactAddressChangedEvent[]> {
    if (!Number.isInteger(count) || count < 1 || count > 100000) throw new ActionInputError('count must be a whole number from 1 to 100000');
    const contactIds = [...this.contacts.keys()];
    const homes = this.options.population.gazetteer.filter((r) => r.logicalStatus === 1);
    const events: ContactAddressChangedEvent[] = [];
    for (let i = 0; i < count; i++) {
      const contact = this.contacts.get(this.moves.pick(contactIds))!;
      let home = this.moves.pick(homes);
      while (sameAddress(toCrmAddress(home, false), { ...contact.address, uprn: undefined })) home = this.moves.pick(homes);
      events.push(await this.changeContactAddress(contact.contactId, toCrmAddress(home, this.moves.chance(0.75))));
    }
    return events;
  }

  /** Every event raised, with its delivery status. */
  events(): OutboxItem<ContactAddressChangedEvent>[] {
    return this.outbox.list();
  }

  state() {
    return {
      eventTarget: this.eventTarget,
      contacts: this.contacts.size,
      cases: [...this.cases.values()],
      notes: [...this.contacts.values()].flatMap((c) => c.notes.map((n) => ({ contactId: c.contactId, ...n }))),
      events: this.events(),
    };
  }

  async stop(): Promise<void> {
    await this.outbox.close();
    await this.publisher?.close();
    await this.host?.close();
  }
}
