import fs from 'fs';
import os from 'os';
import path from 'path';
import { SimulatorControl, ControlServer, startControlServer } from './control';
import { CrmSimulator } from './crm';
import { FinanceSimulator } from './finance';
import { GovukPaySimulator } from './govuk-pay';
import { HousingSimulator } from './housing';
import { PaymentsSimulator } from './payments';
import { PlanningCredentials, PlanningSimulator } from './planning';
import { SimulatedLlpg } from './llpg';
import { Population, generatePopulation } from './population';
import { RevenuesSimulator } from './revenues';
import { EmbeddedSftpServer, generateSshKeyPair, startEmbeddedSftp } from './sftp-server';

/**
 * Starts every back-office simulator in this process: CRM, planning and housing over
 * SOAP, revenues, finance and payments on a folder served by an embedded SFTP server, one
 * control server for all of them, and the gazetteer system's DTF 7.3 volumes. The hub's demo
 * profile calls it.
 */
export interface SimulatorsOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 for each (a free port) */
  ports?: { crm?: number; planning?: number; housing?: number; sftp?: number; control?: number };
  /** where the gazetteer and the SFTP root go; default a new temp folder */
  dataDir?: string;
  /** default 'council-hub' */
  seed?: string;
  /** gazetteer size, default 20,000 */
  properties?: number;
  /** CRM events to RabbitMQ when set; otherwise pushed to the hub */
  rabbitmqUrl?: string;
  /** default crm.events */
  crmExchange?: string;
  /** the hub's base URL (e.g. http://127.0.0.1:1880): its SOAP services at /soap/contact-events and /soap/repair-notifications */
  hubUrl?: string;
  /** the embedded SFTP server's login; false: no embedded server (serve sftpRoot with another SFTP server) */
  sftp?: false | { username?: string; password?: string; authorizedKeys?: string[] };
  /** how often revenues and finance look at their folders, default 1000 ms */
  pollMs?: number;
  /** write a payments file this often (0: only on demand) */
  paymentsScheduleMs?: number;
  planning?: { sessionIdleMs?: number; credentials?: PlanningCredentials };
  /** how often undelivered CRM events and repair notices are retried, default 5000 ms */
  retryMs?: number;
  /** GOV.UK Pay, calling the hub's ${hubUrl}/webhooks/govuk-pay (set later with setWebhookUrl when hubUrl is not given) */
  govukPay?: { signingSecret: string; retryScheduleMs?: number[] };
}

export interface SftpDetails {
  host: string;
  port: number;
  username: string;
  password?: string;
  /** a private key (OpenSSH format) the server accepts for username */
  privateKey: string;
  hostKeyFingerprint: string;
  hostPublicKey: string;
}

export interface RunningSimulators {
  population: Population;
  /** the folder of the LLPG's DTF 7.3 volumes, each under its own name */
  gazetteerFolder: string;
  /** the latest volume, replaced by each new one (what the demo hub's GAZETTEER_FILE names) */
  gazetteerFile: string;
  /** the gazetteer system: addProperties / retireProperties write change-only volumes */
  llpg: SimulatedLlpg;
  /** the folder served over SFTP (revenues/, finance/, payments/ under it) */
  sftpRoot: string;
  /** SOAP endpoints; each WSDL at endpoint + '?wsdl' */
  endpoints: { crm: string; planning: string; housing: string };
  /** the embedded SFTP server; undefined with sftp: false */
  sftp?: SftpDetails;
  /** every simulator's control at <controlUrl>/<system> (GET state, POST faults, POST actions/<name>) */
  controlUrl: string;
  crm: CrmSimulator;
  planning: PlanningSimulator;
  housing: HousingSimulator;
  revenues: RevenuesSimulator;
  finance: FinanceSimulator;
  payments: PaymentsSimulator;
  /** only with the govukPay option */
  govukPay?: GovukPaySimulator;
  /** the control handles by system name */
  controls: Record<'crm' | 'planning' | 'housing' | 'revenues' | 'finance' | 'payments', SimulatorControl> & { 'govuk-pay'?: SimulatorControl };
  stop(): Promise<void>;
}

export async function startSimulators(options: SimulatorsOptions = {}): Promise<RunningSimulators> {
  const host = options.host ?? '127.0.0.1';
  const ports = options.ports ?? {};
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-simulators-'));
  const sftpRoot = path.join(dataDir, 'sftp');
  fs.mkdirSync(sftpRoot, { recursive: true });
  const population = generatePopulation({ seed: options.seed, properties: options.properties });
  const gazetteerFolder = path.join(dataDir, 'gazetteer');
  const llpg = new SimulatedLlpg(gazetteerFolder, population.gazetteer);
  llpg.writeFull();
  const gazetteerFile = llpg.current;

  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const item of started.reverse()) await item.stop().catch(() => undefined);
  };
  try {
    const hub = options.hubUrl?.replace(/\/$/, '');
    const crm = await CrmSimulator.start({ population, host, port: ports.crm ?? 0, rabbitmqUrl: options.rabbitmqUrl, exchange: options.crmExchange, hubContactEventsUrl: hub && `${hub}/soap/contact-events`, retryMs: options.retryMs });
    started.push(crm);
    const planning = await PlanningSimulator.start({ population, host, port: ports.planning ?? 0, sessionIdleMs: options.planning?.sessionIdleMs, credentials: options.planning?.credentials });
    started.push(planning);
    const housing = await HousingSimulator.start({ population, host, port: ports.housing ?? 0, hubRepairNotificationsUrl: hub && `${hub}/soap/repair-notifications`, retryMs: options.retryMs });
    started.push(housing);
    const revenues = new RevenuesSimulator({ root: sftpRoot, population, pollMs: options.pollMs });
    revenues.start();
    started.push(revenues);
    const finance = new FinanceSimulator({ root: sftpRoot, pollMs: options.pollMs, seed: population.seed });
    finance.start();
    started.push(finance);
    const payments = new PaymentsSimulator({ root: sftpRoot, population, scheduleMs: options.paymentsScheduleMs });
    payments.start();
    started.push(payments);
    const govukPay = options.govukPay && new GovukPaySimulator({ population, signingSecret: options.govukPay.signingSecret, retryScheduleMs: options.govukPay.retryScheduleMs, webhookUrl: hub && `${hub}/webhooks/govuk-pay` });
    if (govukPay) started.push(govukPay);

    let sftp: SftpDetails | undefined;
    if (options.sftp !== false) {
      const clientKey = generateSshKeyPair('council-hub-demo-client');
      const login = options.sftp ?? {};
      const server: EmbeddedSftpServer = await startEmbeddedSftp({ root: sftpRoot, host, port: ports.sftp ?? 0, username: login.username, password: login.password, authorizedKeys: [clientKey.publicKey, ...(login.authorizedKeys ?? [])] });
      started.push(server);
      sftp = { host: server.host, port: server.port, username: server.username, password: server.password, privateKey: clientKey.privateKey, hostKeyFingerprint: server.hostKeyFingerprint, hostPublicKey: server.hostPublicKey };
    }
    const systems = { crm, planning, housing, revenues, finance, payments };
    const controls: RunningSimulators['controls'] = govukPay ? { ...systems, 'govuk-pay': govukPay } : systems;
    const control: ControlServer = await startControlServer(Object.values(controls), host, ports.control ?? 0);
    started.push({ stop: () => control.close() });

    return {
      population,
      gazetteerFolder,
      gazetteerFile,
      llpg,
      sftpRoot,
      endpoints: { crm: crm.endpoint, planning: planning.endpoint, housing: housing.endpoint },
      sftp,
      controlUrl: control.url,
      ...systems,
      ...(govukPay ? { govukPay } : {}),
      controls,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export { generatePopulation, writeGazetteer, gazetteerCsv } from './population';
export { SimulatedLlpg, gazetteerDtf } from './llpg';
export type { Population } from './population';
export { CrmSimulator } from './crm';
export { PlanningSimulator, DEFAULT_PLANNING_CREDENTIALS, SESSION_COOKIE } from './planning';
export { HousingSimulator } from './housing';
export { RevenuesSimulator } from './revenues';
export { FinanceSimulator } from './finance';
export { PaymentsSimulator } from './payments';
export { GovukPaySimulator } from './govuk-pay';
export { startEmbeddedSftp, generateSshKeyPair, sshFingerprint } from './sftp-server';
export type { SimulatorControl } from './control';
export type { FaultSettings } from './faults';
