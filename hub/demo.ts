import { randomBytes } from 'crypto';
import fs from 'fs';
import path from 'path';
import type { HubConfig } from './config';
import { startSimulators, RunningSimulators, DEFAULT_PLANNING_CREDENTIALS } from '../simulators';

/**
 * The demo profile's back office: every simulator in this process, and the environment the
 * hub's flows read their endpoints from (`${PLANNING_WSDL}` in a config node), so the same
 * flows run against the simulators here and against the council's systems in production.
 */
/** The SFTP login the flows' `sftp-server` config node is given. */
export interface SftpLogin {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: string;
  hostKeyFingerprint: string;
}

/**
 * The environment the flows read the simulated back office from: SOAP endpoints and the
 * planning logon, the SFTP login (the simulators' embedded server unless another is
 * given), the gazetteer's latest DTF volume. Variables with no value are left out.
 */
export function backOfficeEnvironment(sims: RunningSimulators, sftp: SftpLogin | undefined = sims.sftp): Record<string, string> {
  const variables: Record<string, string | undefined> = {
    CRM_WSDL: `${sims.endpoints.crm}?wsdl`,
    PLANNING_WSDL: `${sims.endpoints.planning}?wsdl`,
    PLANNING_DATABASE: DEFAULT_PLANNING_CREDENTIALS.databaseId,
    PLANNING_USER: DEFAULT_PLANNING_CREDENTIALS.userName,
    PLANNING_PASSWORD: DEFAULT_PLANNING_CREDENTIALS.password,
    HOUSING_WSDL: `${sims.endpoints.housing}?wsdl`,
    SFTP_HOST: sftp?.host,
    SFTP_PORT: sftp ? String(sftp.port) : undefined,
    SFTP_USER: sftp?.username,
    SFTP_PASSWORD: sftp?.password,
    SFTP_PRIVATE_KEY: sftp?.privateKey,
    SFTP_HOST_FINGERPRINT: sftp?.hostKeyFingerprint,
    GAZETTEER_FILE: sims.gazetteerFile,
  };
  return Object.fromEntries(Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** The demo's back office, with the SFTP client key written to a file for OpenSSH's sftp (-i). */
export type DemoBackOffice = RunningSimulators & { sftpKeyFile?: string };

export async function startDemoBackOffice(config: HubConfig, hubUrl: string): Promise<DemoBackOffice> {
  // GOV.UK Pay and the hub share the webhook's signing secret: the operator's, or one made for this run.
  const signingSecret = config.govukPayWebhookSecret ?? randomBytes(24).toString('hex');
  const sims = await startSimulators({
    govukPay: { signingSecret },
    dataDir: path.join(config.dataDir, 'simulators'),
    hubUrl,
    rabbitmqUrl: config.rabbitmqUrl,
    properties: config.demoProperties,
  });
  // The flows read their endpoints from the environment (`${PLANNING_WSDL}` in a config node,
  // as in production): the simulators' are written into it; an operator's own setting wins.
  const variables = { ...backOfficeEnvironment(sims), GOVUK_PAY_WEBHOOK_SECRET: signingSecret };
  for (const [name, value] of Object.entries(variables)) if (!process.env[name]) process.env[name] = value;
  let sftpKeyFile: string | undefined;
  if (sims.sftp) {
    sftpKeyFile = path.join(config.dataDir, 'simulators', 'sftp-client-key');
    fs.writeFileSync(sftpKeyFile, sims.sftp.privateKey, { mode: 0o600 });
    fs.chmodSync(sftpKeyFile, 0o600); // ssh refuses a key others can read; an old file keeps its mode otherwise
  }
  return Object.assign(sims, { sftpKeyFile });
}
