import { HousingAddress, sameAddress } from './addresses';
import { ActionInputError, SimulatorControl } from './control';
import { FaultSwitch, SystemFault } from './faults';
import { HubSoapClient, Outbox, OutboxItem } from './outbox';
import { Population, TenancyRecord, TenantRecord } from './population';
import { Random } from './random';
import { SoapHost, startSoapHost } from './soap-host';
import { housingAddress, isIsoDate, isoDate, text, uprn } from './validate';

/**
 * The housing system: TenancyService over SOAP, and repair status pushed to the hub's
 * RepairNotificationService.
 */
export interface HousingOptions {
  population: Population;
  host?: string;
  port?: number;
  /** the hub's RepairNotificationService endpoint, e.g. http://127.0.0.1:1880/soap/repair-notifications */
  hubRepairNotificationsUrl?: string;
  /** how often an undelivered repair status is tried again (default 5000 ms) */
  retryMs?: number;
  seed?: string;
}

export interface Tenant extends TenantRecord {
  correspondenceAddress: HousingAddress;
  correspondenceEffectiveDate?: string;
}

export interface Tenancy extends Omit<TenancyRecord, 'tenants'> {
  tenants: Tenant[];
}

export type RepairStatus = 'Raised' | 'Scheduled' | 'Completed' | 'Cancelled';

export interface RepairStatusNotice {
  jobRef: string;
  tenancyRef: string;
  personRef: string;
  status: RepairStatus;
  statusDate: string;
  appointmentDate?: string;
  notes?: string;
}

const REPAIR_STATUSES: readonly RepairStatus[] = ['Raised', 'Scheduled', 'Completed', 'Cancelled'];
const REPAIRS = ['Leaking tap in kitchen', 'Boiler not heating water', 'Front door lock sticking', 'Damp patch in bedroom', 'Broken window catch', 'Blocked bath waste', 'Loose stair rail', 'Extractor fan not working'];

export class HousingSimulator implements SimulatorControl {
  readonly system = 'housing';
  readonly faults: FaultSwitch;
  readonly actions: SimulatorControl['actions'];
  private readonly tenancies = new Map<string, Tenancy>();
  private readonly resultByRequest = new Map<string, 'Updated' | 'Unchanged'>();
  private readonly outbox: Outbox<RepairStatusNotice>;
  private readonly hubClient?: HubSoapClient;
  /** the last status of each repair job still open */
  private readonly openJobs = new Map<string, RepairStatusNotice>();
  private readonly random: Random;
  private nextJob = 1;
  private host?: SoapHost;

  private constructor(options: HousingOptions) {
    const seed = options.seed ?? options.population.seed;
    this.faults = new FaultSwitch(this.system, seed);
    this.random = new Random(`${seed}:housing`);
    for (const record of options.population.tenancies) {
      const tenancy = structuredClone(record);
      this.tenancies.set(tenancy.tenancyRef, { ...tenancy, tenants: tenancy.tenants.map((t) => ({ ...t, correspondenceAddress: { ...tenancy.propertyAddress } })) });
    }
    if (options.hubRepairNotificationsUrl) this.hubClient = new HubSoapClient(options.hubRepairNotificationsUrl);
    this.outbox = new Outbox(async (notice) => {
      if (!this.hubClient) throw new Error('no hub RepairNotificationService URL configured');
      return this.hubClient.call('NotifyRepairStatus', notice);
    }, options.retryMs ?? 5000);
    this.actions = {
      'repair-status': (input: Partial<RepairStatusNotice>) => this.notifyRepairStatus(input),
      'raise-repairs': (input: { count?: number }) => this.raiseRepairs(input.count ?? 1),
      'retry-notifications': async () => {
        await this.outbox.flush();
        return this.notifications();
      },
    };
  }

  static async start(options: HousingOptions): Promise<HousingSimulator> {
    const housing = new HousingSimulator(options);
    housing.host = await startSoapHost({
      control: housing,
      wsdl: 'adapters/housing/TenancyService.wsdl',
      path: '/TenancyService',
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      operations: housing.operations(),
    });
    return housing;
  }

  get endpoint(): string {
    return this.host!.endpoint;
  }

  private findTenant(tenancyRef: string, personRef: string): { tenancy: Tenancy; tenant: Tenant } {
    const tenancy = this.tenancies.get(tenancyRef);
    const tenant = tenancy?.tenants.find((t) => t.personRef === personRef);
    if (!tenancy || !tenant) throw new SystemFault('TenantNotFound', `no tenant ${personRef} on tenancy ${tenancyRef}`);
    return { tenancy, tenant };
  }

  private operations() {
    return {
      FindTenant: (args: any) => {
        const surname = text(args, 'surname').toUpperCase();
        const at = uprn(args, 'uprn');
        const dateOfBirth = isoDate(args, 'dateOfBirth', true);
        const found = [];
        for (const tenancy of this.tenancies.values())
          for (const tenant of tenancy.tenants)
            if (tenant.surname.toUpperCase() === surname && tenant.correspondenceAddress.uprn === at && (!dateOfBirth || tenant.dateOfBirth === dateOfBirth))
              found.push({ tenancyRef: tenancy.tenancyRef, personRef: tenant.personRef, forename: tenant.forename, surname: tenant.surname, uprn: at });
        return { tenant: found };
      },
      UpdateCorrespondenceAddress: (args: any) => {
        const tenancyRef = text(args, 'tenancyRef');
        const personRef = text(args, 'personRef');
        const effectiveDate = isoDate(args, 'effectiveDate');
        const requestId = text(args, 'requestId');
        const repeat = this.resultByRequest.get(requestId);
        if (repeat) return { result: repeat };
        const { tenant } = this.findTenant(tenancyRef, personRef);
        const address = housingAddress(args);
        const rejected = this.faults.rejection(address);
        if (rejected) throw new SystemFault('InvalidAddress', rejected);
        let result: 'Updated' | 'Unchanged' = 'Unchanged';
        if (!sameAddress(address, tenant.correspondenceAddress)) {
          tenant.correspondenceAddress = address;
          tenant.correspondenceEffectiveDate = effectiveDate;
          result = 'Updated';
        }
        this.resultByRequest.set(requestId, result);
        return { result };
      },
      GetTenant: (args: any) => {
        const { tenancy, tenant } = this.findTenant(text(args, 'tenancyRef'), text(args, 'personRef'));
        return { tenant: { tenancyRef: tenancy.tenancyRef, ...tenant, rentAccountRef: tenancy.rentAccountRef, propertyAddress: tenancy.propertyAddress } };
      },
    };
  }

  /**
   * A repair job changes status: the notice goes to the hub (resolves once delivered or
   * queued for retry). Without jobRef a new job is raised.
   */
  async notifyRepairStatus(input: Partial<RepairStatusNotice>): Promise<OutboxItem<RepairStatusNotice>> {
    const status = input.status ?? 'Raised';
    if (!REPAIR_STATUSES.includes(status)) throw new ActionInputError(`status must be one of ${REPAIR_STATUSES.join(', ')}`);
    const statusDate = input.statusDate ?? new Date().toISOString().slice(0, 10);
    if (!isIsoDate(statusDate) || (input.appointmentDate !== undefined && !isIsoDate(input.appointmentDate))) throw new ActionInputError('statusDate and appointmentDate are YYYY-MM-DD');
    const tenancy = input.tenancyRef ? this.tenancies.get(input.tenancyRef) : undefined;
    if (!tenancy) throw new ActionInputError(`no tenancy ${input.tenancyRef}`);
    const personRef = input.personRef ?? tenancy.tenants[0].personRef;
    this.findTenant(tenancy.tenancyRef, personRef);
    const notice: RepairStatusNotice = {
      jobRef: input.jobRef ?? `J${String(this.nextJob++).padStart(7, '0')}`,
      tenancyRef: tenancy.tenancyRef,
      personRef,
      status,
      statusDate,
      ...(input.appointmentDate ? { appointmentDate: input.appointmentDate } : {}),
      ...(input.notes ? { notes: input.notes } : {}),
    };
    if (status === 'Completed' || status === 'Cancelled') this.openJobs.delete(notice.jobRef);
    else this.openJobs.set(notice.jobRef, notice);
    return this.outbox.add(`${notice.jobRef}:${status}:${this.outbox.list().length}`, notice);
  }

  /** `count` repair status changes chosen by the seed: open jobs move on, or tenants report new repairs. */
  async raiseRepairs(count: number): Promise<OutboxItem<RepairStatusNotice>[]> {
    if (!Number.isInteger(count) || count < 1 || count > 100000) throw new ActionInputError('count must be a whole number from 1 to 100000');
    const tenancyRefs = [...this.tenancies.keys()];
    const raised = [];
    for (let i = 0; i < count; i++) {
      const open = [...this.openJobs.values()];
      if (open.length && this.random.chance(0.6)) {
        const job = this.random.pick(open);
        const status: RepairStatus = job.status === 'Raised' ? 'Scheduled' : this.random.chance(0.9) ? 'Completed' : 'Cancelled';
        const appointment = status === 'Scheduled' ? { appointmentDate: new Date(Date.now() + this.random.int(1, 14) * 86400000).toISOString().slice(0, 10) } : {};
        raised.push(await this.notifyRepairStatus({ jobRef: job.jobRef, tenancyRef: job.tenancyRef, personRef: job.personRef, status, ...appointment }));
      } else {
        raised.push(await this.notifyRepairStatus({ tenancyRef: this.random.pick(tenancyRefs), status: 'Raised', notes: this.random.pick(REPAIRS) }));
      }
    }
    return raised;
  }

  notifications(): OutboxItem<RepairStatusNotice>[] {
    return this.outbox.list();
  }

  getTenancy(tenancyRef: string): Tenancy | undefined {
    const tenancy = this.tenancies.get(tenancyRef);
    return tenancy && structuredClone(tenancy);
  }

  state() {
    return {
      tenancies: this.tenancies.size,
      updatedTenants: [...this.tenancies.values()].flatMap((t) => t.tenants.filter((p) => p.correspondenceEffectiveDate).map((p) => ({ tenancyRef: t.tenancyRef, ...p }))),
      requests: Object.fromEntries(this.resultByRequest),
      notifications: this.notifications(),
    };
  }

  async stop(): Promise<void> {
    await this.outbox.close();
    await this.host?.close();
  }
}
