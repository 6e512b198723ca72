import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { spawnSync } from 'child_process';
import { runFixtures } from '../../adapters/mapping';
import type { CrmAddCaseUpdate } from '../../adapters/canonical';
import { MAPPINGS } from './fixtures';

const RUNNER = path.resolve(__dirname, '../../adapters/mapping/run-fixtures.js');

function runCli(...args: string[]) {
  const result = spawnSync(process.execPath, [RUNNER, ...args], { encoding: 'utf8' });
  const lines = result.stdout.trim().split('\n');
  return { status: result.status, stdout: result.stdout, last: lines[lines.length - 1] };
}

function write(file: string, value: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value));
}

describe('mapping fixture runner', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-fixtures-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The case.updated fields case-to-crm copies into a CrmAddCaseUpdate. */
  const caseUpdate: Omit<CrmAddCaseUpdate, 'caseRef'> = {
    status: 'Decided', summary: 'Application decided: Approved', occurredAt: '2026-12-15T00:00:00Z', sourceEventId: 'planning:26/01234/FUL:1187',
  };

  it('passes every fixture of the repository mappings', () => {
    const run = runCli();
    assert.strictEqual(run.status, 0, run.stdout);
    assert.match(run.last, /^\d+ passed, 0 failed$/);
  });

  it('fails on a wrong fixture, with a readable diff and the count on the last line', () => {
    write(path.join(dir, 'case-to-crm/right.input.json'), caseUpdate);
    write(path.join(dir, 'case-to-crm/right.env.json'), { caseRef: 'CASE-1' });
    const right: CrmAddCaseUpdate = { caseRef: 'CASE-1', ...caseUpdate };
    write(path.join(dir, 'case-to-crm/right.expected.json'), right);
    write(path.join(dir, 'case-to-crm/wrong.input.json'), caseUpdate);
    write(path.join(dir, 'case-to-crm/wrong.env.json'), { caseRef: 'CASE-1' });
    write(path.join(dir, 'case-to-crm/wrong.expected.json'), { caseRef: 'CASE-2', ...caseUpdate, status: 'Refused', extra: 1 });
    const run = runCli(dir);
    assert.strictEqual(run.status, 1);
    assert.strictEqual(run.last, '1 passed, 1 failed');
    assert.match(run.stdout, /FAIL case-to-crm\/wrong\n {2}\$\.caseRef: expected "CASE-2", got "CASE-1"\n {2}\$\.status: expected "Refused", got "Decided"\n {2}\$\.extra: missing, expected 1\n/);
  });

  it('checks expected errors: the message, the pattern and the stage', async () => {
    write(path.join(dir, 'case-to-crm/no-ref.input.json'), caseUpdate);
    write(path.join(dir, 'case-to-crm/no-ref.error.json'), { message: 'must have property "caseRef"', stage: 'validate' });
    write(path.join(dir, 'case-to-crm/wrong-message.input.json'), caseUpdate);
    write(path.join(dir, 'case-to-crm/wrong-message.error.json'), { pattern: '^nothing like it$' });
    write(path.join(dir, 'case-to-crm/no-error.input.json'), caseUpdate);
    write(path.join(dir, 'case-to-crm/no-error.env.json'), { caseRef: 'C' });
    write(path.join(dir, 'case-to-crm/no-error.error.json'), { message: 'anything' });
    write(path.join(dir, 'case-to-crm/both.input.json'), caseUpdate);
    write(path.join(dir, 'case-to-crm/both.expected.json'), {});
    write(path.join(dir, 'case-to-crm/both.error.json'), { message: 'x' });
    fs.writeFileSync(path.join(dir, 'case-to-crm/typo.expect.json'), '{}');
    write(path.join(dir, 'no-such-mapping/a.input.json'), {});
    write(path.join(dir, 'no-such-mapping/a.expected.json'), {});
    const summary = await runFixtures({ fixturesDir: dir, mappingsDir: MAPPINGS });
    const outcome = Object.fromEntries(summary.results.map((r) => [`${r.mapping}/${r.name}`, r.problems.join(' | ')]));
    assert.deepStrictEqual(Object.keys(outcome).sort(), [
      'case-to-crm/both', 'case-to-crm/no-error', 'case-to-crm/no-ref', 'case-to-crm/typo.expect.json', 'case-to-crm/wrong-message', 'no-such-mapping/a',
    ]);
    assert.strictEqual(outcome['case-to-crm/no-ref'], '');
    assert.match(outcome['case-to-crm/wrong-message'], /error message does not match \/\^nothing like it\$\//);
    assert.match(outcome['case-to-crm/no-error'], /expected an error .* but the mapping gave/);
    assert.match(outcome['case-to-crm/both'], /needs exactly one of both.expected.json and both.error.json/);
    assert.match(outcome['case-to-crm/typo.expect.json'], /is not a fixture file name/);
    assert.match(outcome['no-such-mapping/a'], /no such mapping/);
    assert.deepStrictEqual([summary.passed, summary.failed], [1, 5]);
  });

  it('fails when a mapping has no fixtures, or the folder has none', async () => {
    const mappings = path.join(dir, 'mappings');
    fs.mkdirSync(path.join(mappings, 'fixtures'), { recursive: true });
    fs.writeFileSync(path.join(mappings, 'lonely.jsonata'), '/* @target crm.add-case-update */ {}');
    const summary = await runFixtures({ mappingsDir: mappings });
    assert.strictEqual(summary.passed, 0);
    assert.match(summary.results.map((r) => r.problems.join()).join('\n'), /no fixtures in .*lonely/);
    const run = runCli(path.join(dir, 'empty'));
    assert.strictEqual(run.status, 1);
    assert.strictEqual(run.last, '0 passed, 1 failed');
  });
});
