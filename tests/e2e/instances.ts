import { describeFigures, problems, runChangeOfAddressJourney } from './journey';

/**
 * `npm run e2e:instances [-- --events N]` (or E2E_EVENTS=N): three hub instances run the
 * change-of-address journey at size (default 500 events) with every fault, one instance
 * killed for good, one paused past its lease, Redis restarted. Prints the figures (events
 * lost, changes applied twice, work left open, time to take over); exit code 0 when every
 * figure is right, 1 when any is off, 2 when the run itself failed.
 */
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const events = Number(option('events') ?? process.env.E2E_EVENTS ?? 500);
  if (!Number.isInteger(events) || events < 10 || events > 100000) throw new Error(`--events must be a whole number from 10 to 100000, got ${events}`);
  const leaseSeconds = Number(option('lease') ?? process.env.HUB_LEASE_SECONDS ?? 10);
  console.log(`instances e2e: 3 instances, ${events} events, lease ${leaseSeconds} s`);
  const figures = await runChangeOfAddressJourney({ instances: 3, leaseSeconds, events, properties: 8000, ratePerSecond: 20, log: (line) => console.log(line) });
  console.log(describeFigures(figures));
  return problems(figures).length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`e2e: ${(err as Error).stack ?? err}`);
    process.exit(2);
  },
);
