import path from 'path';
import type { HubConfig } from './config';
import { startSimulators, RunningSimulators, DEFAULT_PLANNING_CREDENTIALS } from '../simulators';

/**
 * The demo profile's back office: every simulator in this process, and the environment the
 * hub's flows read their endpoints from (`${PLANNING_WSDL}` in a config node), so the same
 * flows run against the simulators here and against the council's systems in production.
 */
export const endpointVariables = [
  'CRM_WSDL',
  'PLANNING_WSDL',
  'PLANNING_DATABASE',
  'PLANNING_USER',
  'PLANNING_PASSWORD',
  'HOUSING_WSDL',
  'SFTP_HOST',
  'SFTP_PORT',
  'SFTP_USER',
  'SFTP_PASSWORD',
  'SFTP_PRIVATE_KEY',
  'SFTP_HOST_FINGERPRINT',
  'GAZETTEER_FILE',
] as const;

export async function startDemoBackOffice(config: HubConfig, hubUrl: string): Promise<RunningSimulators> {
  const sims = await startSimulators({
    dataDir: path.join(config.dataDir, 'simulators'),
    hubUrl,
    rabbitmqUrl: config.rabbitmqUrl,
    properties: Number(process.env.HUB_DEMO_PROPERTIES) || undefined,
  });
  const variables: Record<(typeof endpointVariables)[number], string | undefined> = {
    CRM_WSDL: `${sims.endpoints.crm}?wsdl`,
    PLANNING_WSDL: `${sims.endpoints.planning}?wsdl`,
    PLANNING_DATABASE: DEFAULT_PLANNING_CREDENTIALS.databaseId,
    PLANNING_USER: DEFAULT_PLANNING_CREDENTIALS.userName,
    PLANNING_PASSWORD: DEFAULT_PLANNING_CREDENTIALS.password,
    HOUSING_WSDL: `${sims.endpoints.housing}?wsdl`,
    SFTP_HOST: sims.sftp?.host,
    SFTP_PORT: sims.sftp ? String(sims.sftp.port) : undefined,
    SFTP_USER: sims.sftp?.username,
    SFTP_PASSWORD: sims.sftp?.password,
    SFTP_PRIVATE_KEY: sims.sftp?.privateKey,
    SFTP_HOST_FINGERPRINT: sims.sftp?.hostKeyFingerprint,
    GAZETTEER_FILE: sims.gazetteerFile,
  };
  // An operator's own setting wins over the simulators'.
  for (const [name, value] of Object.entries(variables)) if (value !== undefined && !process.env[name]) process.env[name] = value;
  return sims;
}
