import { caseProblems, describeCaseFigures, runCaseUpdatesJourney } from './case-journey';

/**
 * `npm run e2e:case-updates [-- --planning N --repairs N]`: the case-updates journey with
 * every fault, at size (default 1,000 planning events and 500 repair statuses). Prints the
 * figures; exit code 0 when every event is on its case once and every case's status is its
 * newest event's, 1 when any figure is off, 2 when the run itself failed. E2E_KEEP=1 keeps
 * the data folder.
 */
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function count(name: string, fallback: number): number {
  const value = Number(option(name) ?? fallback);
  if (!Number.isInteger(value) || value < 10 || value > 100000) throw new Error(`--${name} must be a whole number from 10 to 100000, got ${option(name)}`);
  return value;
}

async function main(): Promise<number> {
  const planningEvents = count('planning', 1000);
  const repairStatuses = count('repairs', 500);
  const properties = count('properties', 8000);
  console.log(`case-updates e2e: ${planningEvents} planning events, ${repairStatuses} repair statuses, ${properties} properties`);
  const figures = await runCaseUpdatesJourney({ planningEvents, repairStatuses, properties, log: (line) => console.log(line) });
  console.log(describeCaseFigures(figures));
  if (process.env.E2E_JSON) console.log(JSON.stringify(figures, null, 2));
  return caseProblems(figures).length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`e2e: ${(err as Error).stack ?? err}`);
    process.exit(2);
  },
);
