import { describePaymentFigures, paymentProblems, runPaymentJourney } from './payment-journey';

/**
 * `npm run e2e:payments [-- --files N --events N --big N --records N]`: the payments journey
 * with every fault, at size (default 50 payment files, 3 of them of 10,000 records, and
 * about 2,000 GOV.UK Pay events). Prints the figures; exit code 0 when the ledger agrees to
 * the penny and every payment and note is there once, 1 when any figure is off, 2 when the
 * run itself failed. E2E_KEEP=1 keeps the data folder.
 */
function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function count(name: string, fallback: number, min: number, max: number): number {
  const value = Number(option(name) ?? fallback);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got ${option(name)}`);
  return value;
}

async function main(): Promise<number> {
  const files = count('files', 50, 10, 900);
  const events = count('events', 2000, 20, 100000);
  const bigFiles = count('big', 3, 0, 3);
  const bigRecords = count('records', 10000, 100, 100000);
  const properties = count('properties', 6000, 1000, 100000);
  console.log(`payments e2e: ${files} payment files (${bigFiles} of ${bigRecords} records), about ${events} GOV.UK Pay events, ${properties} properties`);
  const figures = await runPaymentJourney({ files, events, bigFiles, bigRecords, properties, log: (line) => console.log(line) });
  console.log(describePaymentFigures(figures));
  if (process.env.E2E_JSON) console.log(JSON.stringify(figures, null, 2));
  return paymentProblems(figures).length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`e2e: ${(err as Error).stack ?? err}`);
    process.exit(2);
  },
);
