import { createSoapClient, SoapClient } from '../../adapters/soap';
import type { JournalStore } from '../journal/types';
import type { CrossReferenceStore } from '../xref';
import type { CrmReader, HousingReader, JournalReader, PlanningReader, ReconcileSources, SystemName } from './reconcile';

/**
 * Where the reconciliation reads from: the systems' SOAP services at the endpoints the
 * flows use (the same environment variables: CRM_WSDL, PLANNING_WSDL, PLANNING_DATABASE,
 * PLANNING_USER, PLANNING_PASSWORD, HOUSING_WSDL), the hub's cross-references, and the
 * journal's store.
 */
export class ReconcileConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconcileConfigError';
  }
}

export interface SystemReaders {
  crm: CrmReader;
  planning?: PlanningReader;
  housing?: HousingReader;
  close(): Promise<void>;
}

const TIMEOUT_MS = 15000;

/** SOAP readers from the environment; CRM_WSDL is required, planning and housing are optional. */
export function systemReadersFromEnv(env: Readonly<Record<string, string | undefined>>): SystemReaders {
  if (!env.CRM_WSDL) throw new ReconcileConfigError('CRM_WSDL is not set: the reconciliation reads every address from the CRM (GetContact)');
  const clients: SoapClient[] = [];
  const client = (wsdl: string, session?: Parameters<typeof createSoapClient>[0]['session']) => {
    const made = createSoapClient({ wsdl, timeoutMs: TIMEOUT_MS, session });
    clients.push(made);
    return made;
  };
  const crm = client(env.CRM_WSDL);
  let planning: PlanningReader | undefined;
  if (env.PLANNING_WSDL) {
    if (!env.PLANNING_DATABASE || !env.PLANNING_USER || !env.PLANNING_PASSWORD) throw new ReconcileConfigError('PLANNING_WSDL is set but PLANNING_DATABASE, PLANNING_USER or PLANNING_PASSWORD is not: planning needs a connector logon');
    const soap = client(env.PLANNING_WSDL, { databaseId: env.PLANNING_DATABASE, userName: env.PLANNING_USER, password: env.PLANNING_PASSWORD });
    planning = { getParty: async (partyId) => (await soap.call('GetParty', { partyId }))?.party };
  }
  let housing: HousingReader | undefined;
  if (env.HOUSING_WSDL) {
    const soap = client(env.HOUSING_WSDL);
    housing = { getTenant: async (tenancyRef, personRef) => (await soap.call('GetTenant', { tenancyRef, personRef }))?.tenant };
  }
  return {
    crm: { getContact: async (contactId) => (await crm.call('GetContact', { contactId }))?.contact },
    planning,
    housing,
    async close() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    },
  };
}

const PAGE = 500;

/** The journal as the reconciliation reads it, straight from its store. */
export function journalReader(store: JournalStore): JournalReader {
  return {
    async contactIds() {
      const ids = new Set<string>();
      for (let offset = 0; ; offset += PAGE) {
        const page = await store.listMessages({ source: 'crm', limit: PAGE, offset });
        for (const message of page.items) if (message.key) ids.add(message.key);
        if (page.items.length < PAGE || offset + PAGE >= page.total) break;
      }
      return [...ids];
    },
    async latestDelivery(target: SystemName, contactId: string) {
      // Newest change first; a superseded one was never the latest word.
      for (let offset = 0; ; offset += PAGE) {
        const page = await store.listDeliveries({ target, key: contactId, limit: PAGE, offset });
        const delivery = page.items.find((d) => d.status !== 'superseded');
        if (delivery) return { delivery, payload: (await store.getMessage(delivery.messageId))?.payload };
        if (page.items.length < PAGE || offset + PAGE >= page.total) return undefined;
      }
    },
  };
}

/** Everything in one: SOAP readers from the environment, the cross-references and the journal given. */
export function reconcileSources(readers: SystemReaders, crossReferences: CrossReferenceStore, journal?: JournalStore): ReconcileSources {
  return { crm: readers.crm, planning: readers.planning, housing: readers.housing, crossReferences, journal: journal && journalReader(journal) };
}
