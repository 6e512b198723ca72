import fs from 'fs';
import path from 'path';
import { MappingError, MappingLibrary } from './library';
import { jsonDiff } from './json-diff';

/**
 * Runs every mapping's fixtures, like unit tests. Layout (one folder per mapping):
 *
 *   <fixtures>/<mapping>/<case>.input.json     the mapping's input
 *   <fixtures>/<mapping>/<case>.expected.json  the exact output expected, or
 *   <fixtures>/<mapping>/<case>.error.json     {"message": "text the error contains"} and/or
 *                                              {"pattern": "regular expression"}, {"stage": "evaluate"}
 *   <fixtures>/<mapping>/<case>.env.json       optional bindings ({"partyId": "P1"} is $partyId)
 *
 * Usage: node dist/adapters/mapping/run-fixtures.js [fixturesDir] [--mappings mappingsDir (default ./mappings)]
 * Prints a readable diff for each failure and, last, "N passed, N failed"; exits 1 on any failure.
 */

export interface FixtureResult {
  mapping: string;
  /** The case name, the file name before ".input.json". */
  name: string;
  passed: boolean;
  /** Why it failed: diff lines or messages. */
  problems: string[];
}

export interface FixtureRunSummary {
  passed: number;
  failed: number;
  results: FixtureResult[];
  /** How each mapping ran: compiled to JavaScript, or on the interpreter and why. */
  modes?: Array<{ mapping: string; compiled: boolean; problem?: string }>;
}

export interface FixtureRunOptions {
  /** Default: <mappingsDir>/fixtures. */
  fixturesDir?: string;
  /** The folder of the mappings (the repository's mappings/). */
  mappingsDir: string;
}

interface ExpectedError {
  message?: string;
  pattern?: string;
  stage?: string;
}

const CASE_FILE = /^(.+)\.(input|expected|error|env)\.json$/;

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

async function runCase(library: MappingLibrary, mapping: string, dir: string, name: string): Promise<string[]> {
  const file = (part: string) => path.join(dir, `${name}.${part}.json`);
  const has = (part: string) => fs.existsSync(file(part));
  if (!has('input')) return [`${name}: has no ${name}.input.json`];
  if (has('expected') === has('error')) return [`${name}: needs exactly one of ${name}.expected.json and ${name}.error.json`];

  let input: unknown;
  let bindings: Record<string, unknown> = {};
  let expected: unknown;
  let expectedError: ExpectedError | undefined;
  try {
    input = readJson(file('input'));
    if (has('env')) bindings = readJson(file('env')) as Record<string, unknown>;
    if (has('expected')) expected = readJson(file('expected'));
    else expectedError = readJson(file('error')) as ExpectedError;
  } catch (err) {
    return [`fixture file is not valid JSON: ${(err as Error).message}`];
  }

  let output: unknown;
  try {
    output = await library.run(mapping, input, bindings);
  } catch (err) {
    const message = (err as Error).message;
    if (!expectedError) return [`expected output, but the mapping failed: ${message}`];
    const problems: string[] = [];
    if (!(err instanceof MappingError)) problems.push(`expected a MappingError, got ${(err as Error).name}: ${message}`);
    if (expectedError.message !== undefined && !message.includes(expectedError.message)) {
      problems.push(`error message does not contain ${JSON.stringify(expectedError.message)}: got ${JSON.stringify(message)}`);
    }
    if (expectedError.pattern !== undefined && !new RegExp(expectedError.pattern).test(message)) {
      problems.push(`error message does not match /${expectedError.pattern}/: got ${JSON.stringify(message)}`);
    }
    if (expectedError.stage !== undefined && (err as MappingError).stage !== expectedError.stage) {
      problems.push(`error stage: expected "${expectedError.stage}", got "${(err as MappingError).stage}"`);
    }
    if (expectedError.message === undefined && expectedError.pattern === undefined) {
      problems.push(`${name}.error.json must give "message" or "pattern"`);
    }
    return problems;
  }
  if (expectedError) return [`expected an error (${JSON.stringify(expectedError)}), but the mapping gave ${JSON.stringify(output)}`];
  return jsonDiff(expected, output);
}

export async function runFixtures(options: FixtureRunOptions): Promise<FixtureRunSummary> {
  // A mapping that falls back is named in the report, not warned about on stderr.
  const library = new MappingLibrary({ mappingsDir: options.mappingsDir, warn: () => undefined });
  const defaultFixtures = path.join(library.mappingsDir, 'fixtures');
  const fixturesDir = path.resolve(options.fixturesDir ?? defaultFixtures);
  const results: FixtureResult[] = [];
  const folders = fs.existsSync(fixturesDir)
    ? fs.readdirSync(fixturesDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
    : [];

  // Over the mappings' own fixtures, a mapping with no cases is itself a failure.
  if (fixturesDir === defaultFixtures) {
    for (const info of library.list()) {
      if (!folders.includes(info.name)) {
        results.push({ mapping: info.name, name: '(none)', passed: false, problems: [`no fixtures in ${path.join(fixturesDir, info.name)}`] });
      }
    }
  }
  if (folders.length === 0) {
    results.push({ mapping: '(none)', name: '(none)', passed: false, problems: [`no fixture folders in ${fixturesDir}`] });
  }

  for (const mapping of folders) {
    const dir = path.join(fixturesDir, mapping);
    const names = new Set<string>();
    for (const file of fs.readdirSync(dir).sort()) {
      const match = CASE_FILE.exec(file);
      if (match) names.add(match[1]);
      else results.push({ mapping, name: file, passed: false, problems: [`${file} is not a fixture file name (<case>.input|expected|error|env.json)`] });
    }
    if (names.size === 0) results.push({ mapping, name: '(none)', passed: false, problems: [`no cases in ${dir}`] });
    for (const name of names) {
      const problems = await runCase(library, mapping, dir, name);
      results.push({ mapping, name, passed: problems.length === 0, problems });
    }
  }
  const passed = results.filter((r) => r.passed).length;
  const modes = library.list().map((info) => {
    const loaded = library.load(info.name);
    return { mapping: info.name, compiled: loaded.compiled, problem: loaded.compileProblem };
  });
  return { passed, failed: results.length - passed, results, modes };
}

/** The failures, each with its diff, then the last line "N passed, N failed". */
export function formatFixtureReport(summary: FixtureRunSummary): string {
  const out: string[] = [];
  for (const result of summary.results.filter((r) => !r.passed)) {
    out.push(`FAIL ${result.mapping}/${result.name}`);
    for (const problem of result.problems) out.push(`  ${problem}`);
    out.push('');
  }
  if (summary.modes?.length) {
    const interpreted = summary.modes.filter((m) => !m.compiled);
    out.push(`${summary.modes.length - interpreted.length} of ${summary.modes.length} mappings run compiled`);
    for (const m of interpreted) out.push(`  ${m.mapping} runs on the jsonata interpreter: ${m.problem}`);
  }
  out.push(`${summary.passed} passed, ${summary.failed} failed`);
  return out.join('\n');
}

async function main(argv: string[]): Promise<number> {
  // npm runs scripts from the repository root, where mappings/ is.
  const options: FixtureRunOptions = { mappingsDir: path.resolve('mappings') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--mappings') options.mappingsDir = argv[++i];
    else options.fixturesDir = argv[i];
  }
  const summary = await runFixtures(options);
  console.log(formatFixtureReport(summary));
  return summary.failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      console.log('0 passed, 1 failed');
      process.exit(1);
    },
  );
}
