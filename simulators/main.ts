import path from 'path';
import { DEFAULT_PLANNING_CREDENTIALS } from './planning';
import { startSimulators } from './index';

/**
 * `npm run simulators`: every back-office simulator in one process, on fixed ports,
 * until Ctrl-C. Configured by environment (docs/simulators.md).
 */
const env = process.env;
const port = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);

async function main(): Promise<void> {
  const running = await startSimulators({
    host: env.SIMULATORS_HOST ?? '127.0.0.1',
    ports: { control: port('SIMULATORS_CONTROL_PORT', 8080), crm: port('SIMULATORS_CRM_PORT', 8081), planning: port('SIMULATORS_PLANNING_PORT', 8082), housing: port('SIMULATORS_HOUSING_PORT', 8083), sftp: port('SIMULATORS_SFTP_PORT', 2222) },
    dataDir: path.resolve(env.SIMULATORS_DATA_DIR ?? 'var/simulators'),
    seed: env.SIMULATORS_SEED,
    properties: env.SIMULATORS_PROPERTIES ? Number(env.SIMULATORS_PROPERTIES) : undefined,
    rabbitmqUrl: env.RABBITMQ_URL,
    hubUrl: env.SIMULATORS_HUB_URL ?? 'http://127.0.0.1:1880',
    sftp: { username: env.SIMULATORS_SFTP_USER ?? 'council', password: env.SIMULATORS_SFTP_PASSWORD ?? 'council-hub-demo' },
    paymentsScheduleMs: env.SIMULATORS_PAYMENTS_EVERY_MS ? Number(env.SIMULATORS_PAYMENTS_EVERY_MS) : 0,
  });
  const lines = [
    `council-hub simulators (seed "${running.population.seed}": ${running.population.gazetteer.length} properties, ${running.population.residents.length} residents)`,
    `  CRM       ${running.endpoints.crm}?wsdl  (events: ${running.crm.eventTarget})`,
    `  planning  ${running.endpoints.planning}?wsdl  (logon ${DEFAULT_PLANNING_CREDENTIALS.databaseId} / ${DEFAULT_PLANNING_CREDENTIALS.userName} / ${DEFAULT_PLANNING_CREDENTIALS.password})`,
    `  housing   ${running.endpoints.housing}?wsdl`,
    `  SFTP      sftp://${running.sftp!.username}@${running.sftp!.host}:${running.sftp!.port}  password "${running.sftp!.password}", host key ${running.sftp!.hostKeyFingerprint}`,
    `            root ${running.sftpRoot} (revenues/, finance/, payments/)`,
    `  gazetteer ${running.gazetteerFile} (latest DTF 7.3 volume; every volume in ${running.gazetteerFolder})`,
    `  control   ${running.controlUrl}/<crm|planning|housing|revenues|finance|payments>`,
  ];
  console.log(lines.join('\n'));
  const stop = () => {
    void running.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`simulators: ${(err as Error).message}`);
  process.exit(1);
});
