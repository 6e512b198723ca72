import { describeFigures, problems, runChangeOfAddressJourney } from './journey';

/**
 * `npm run e2e:change-of-address [-- --events N]` (or E2E_EVENTS=N): the change-of-address
 * journey with every fault, at size (default 500 events). Prints the figures; exit code 0
 * when everything converged, 1 when any figure is off, 2 when the run itself failed.
 * Needs RabbitMQ on 127.0.0.1:5672 (or RABBITMQ_URL). E2E_KEEP=1 keeps the data folder.
 */
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const events = Number(option('events') ?? process.env.E2E_EVENTS ?? 500);
  if (!Number.isInteger(events) || events < 10 || events > 100000) throw new Error(`--events must be a whole number from 10 to 100000, got ${events}`);
  const properties = Number(option('properties') ?? process.env.E2E_PROPERTIES ?? 8000);
  const rate = Number(option('rate') ?? process.env.E2E_RATE ?? 20);
  console.log(`change-of-address e2e: ${events} events, ${properties} properties, ${rate} events/s`);
  const figures = await runChangeOfAddressJourney({ events, properties, ratePerSecond: rate, log: (line) => console.log(line) });
  console.log(describeFigures(figures));
  if (process.env.E2E_JSON) console.log(JSON.stringify(figures, null, 2));
  return problems(figures).length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`e2e: ${(err as Error).stack ?? err}`);
    process.exit(2);
  },
);
