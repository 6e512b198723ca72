import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { MappingError, MappingLibrary, addressLines } from '../../adapters/mapping';
import type { Bs7666Address, CrmAddCaseUpdate } from '../../adapters/canonical';
import { MAPPINGS } from './fixtures';

function tempMappings(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-mappings-'));
  fs.mkdirSync(path.join(dir, 'config'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const CASE_TO_CRM = `/* @target crm.add-case-update
   test mapping */
{ "caseRef": $caseRef, "status": status, "summary": summary, "occurredAt": occurredAt, "sourceEventId": sourceEventId }`;

/** The case.updated fields the test mapping copies: its output is a CrmAddCaseUpdate once $caseRef is added. */
const CASE: Omit<CrmAddCaseUpdate, 'caseRef'> = { status: 'Decided', summary: 'Approved', occurredAt: '2026-12-15T00:00:00Z', sourceEventId: 'planning:1' };

async function mappingError(promise: Promise<unknown>): Promise<MappingError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MappingError, `expected a MappingError, got ${String(err)}`);
    assert.strictEqual(err.transient, false, 'a mapping failure is permanent: the same input fails again');
    return err;
  }
  assert.fail('expected the mapping to fail');
}

describe('mapping library', () => {
  const dirs: string[] = [];
  const library = (files: Record<string, string>) => {
    const dir = tempMappings(files);
    dirs.push(dir);
    return new MappingLibrary({ mappingsDir: dir });
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('lists the repository mappings with their target schemas', () => {
    const names = new MappingLibrary({ mappingsDir: MAPPINGS }).list().map((m) => `${m.name} -> ${m.target}`);
    assert.deepStrictEqual(names, [
      'canonical-to-housing -> housing.update-correspondence-address',
      'canonical-to-planning -> planning.update-party-address',
      'canonical-to-revenues -> revenues.address-change-row',
      'case-to-crm -> crm.add-case-update',
      'crm-event-to-canonical -> person.address.changed.unresolved',
      'payment-to-crm-note -> crm.add-contact-note',
      'payment-to-journal -> finance.journal',
      'planning-event-to-case -> case.updated',
      'refund-to-journal -> finance.journal',
      'repair-to-case -> case.updated',
    ]);
  });

  it('runs a mapping with bindings and returns output that matches the target schema', async () => {
    const lib = library({ 'case-to-crm.jsonata': CASE_TO_CRM });
    const expected: CrmAddCaseUpdate = { caseRef: 'CASE-1', ...CASE };
    assert.deepStrictEqual(await lib.run<CrmAddCaseUpdate>('case-to-crm', CASE, { caseRef: 'CASE-1' }), expected);
    assert.strictEqual(lib.list()[0].description, 'test mapping');
  });

  it('compiles once, and again only when the file changes', async () => {
    const lib = library({ 'case-to-crm.jsonata': CASE_TO_CRM });
    const first = lib.load('case-to-crm');
    assert.strictEqual(lib.load('case-to-crm'), first, 'cached');
    const file = path.join(lib.mappingsDir, 'case-to-crm.jsonata');
    fs.writeFileSync(file, CASE_TO_CRM.replace('"status": status', '"status": "Changed"'));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const second = lib.load('case-to-crm');
    assert.notStrictEqual(second, first, 'recompiled');
    assert.strictEqual((await lib.run<CrmAddCaseUpdate>('case-to-crm', CASE, { caseRef: 'C' })).status, 'Changed');
  });

  it('with a recheck time, looks at the files again only once it has passed (as the hub runs it: 1 s)', async () => {
    let now = 1_000_000;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mappings-recheck-'));
    fs.writeFileSync(path.join(dir, 'case-to-crm.jsonata'), CASE_TO_CRM);
    const lib = new MappingLibrary({ mappingsDir: dir, recheckMs: 1000, now: () => now });
    const first = lib.load('case-to-crm');
    const file = path.join(dir, 'case-to-crm.jsonata');
    fs.writeFileSync(file, CASE_TO_CRM.replace('"status": status', '"status": "Changed"'));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    now += 999;
    assert.strictEqual(lib.load('case-to-crm'), first, 'not looked at within the recheck time');
    now += 1;
    assert.notStrictEqual(lib.load('case-to-crm'), first, 'recompiled once it has passed');
    assert.strictEqual((await lib.run<CrmAddCaseUpdate>('case-to-crm', CASE, { caseRef: 'C' })).status, 'Changed');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('names the mapping, line, column and token of a syntax error', async () => {
    const lib = library({ 'broken.jsonata': '/* @target crm.add-case-update */\n{\n  "caseRef": $caseRef,\n  "status": status +\n}' });
    const err = await mappingError(lib.run('broken', CASE));
    assert.strictEqual(err.stage, 'compile');
    assert.strictEqual(err.mapping, 'broken');
    assert.strictEqual(err.token, '}');
    assert.strictEqual(err.line, 5);
    assert.match(err.message, /^mapping "broken": .*\(at line 5, column 1, position \d+, token "}"\) \[S0211\]$/);
  });

  it('names the position and token of an evaluation error and carries $error messages', async () => {
    const lib = library({
      'bad-call.jsonata': '/* @target crm.add-case-update */\n$number(status)',
      'refuses.jsonata': '/* @target crm.add-case-update */\n$error("amount must be above 0")',
    });
    const cast = await mappingError(lib.run('bad-call', CASE));
    assert.strictEqual(cast.stage, 'evaluate');
    assert.strictEqual(cast.token, 'number');
    assert.strictEqual(cast.code, 'D3030');
    assert.match(cast.message, /mapping "bad-call": Unable to cast value to a number: "Decided" \(at line 2/);
    const refused = await mappingError(lib.run('refuses', CASE));
    assert.strictEqual(refused.reason, 'amount must be above 0');
    assert.strictEqual(refused.code, 'D3137');
  });

  it('names the schema path and the field when the output does not match the target schema', async () => {
    const lib = library({ 'case-to-crm.jsonata': CASE_TO_CRM });
    const err = await mappingError(lib.run('case-to-crm', { ...CASE, occurredAt: 'yesterday' }, { caseRef: 'C' }));
    assert.strictEqual(err.stage, 'validate');
    assert.strictEqual(err.schema, 'crm.add-case-update');
    assert.strictEqual(err.instancePath, '/occurredAt');
    assert.strictEqual(err.schemaPath, 'urn:council-hub:schema:common#/$defs/dateTime/format');
    assert.match(err.message, /output does not match schema crm.add-case-update: \/occurredAt must match format "date-time"/);
    const missing = await mappingError(lib.run('case-to-crm', CASE));
    assert.match(missing.message, /\(the value\) must have property "caseRef" \(schema #\/required\)/);
    const empty = library({ 'nothing.jsonata': '/* @target crm.add-case-update */ no.such.field' });
    assert.match((await mappingError(empty.run('nothing', CASE))).message, /mapping "nothing": produced no output/);
  });

  it('refuses unknown mappings, unsafe names, a missing @target and an unknown schema', async () => {
    const lib = library({
      'no-target.jsonata': '{ "a": 1 }',
      'odd-target.jsonata': '/* @target nobody.knows */ { "a": 1 }',
    });
    assert.match((await mappingError(lib.run('nothing', {}))).message, /no such mapping: .*nothing\.jsonata does not exist/);
    assert.match((await mappingError(lib.run('../etc/passwd', {}))).message, /is not a mapping name/);
    assert.match((await mappingError(lib.run('no-target', {}))).message, /has no "@target <schema>"/);
    assert.match((await mappingError(lib.run('odd-target', {}))).message, /its @target "nobody.knows" is not a known schema/);
    assert.deepStrictEqual(lib.list(), [], 'broken mappings are left out of the list');
  });

  it('binds the config tables, checks them against their schema, and lets bindings override them', async () => {
    const lib = library({
      'funds-name.jsonata': CASE_TO_CRM.replace('"status": status', '"status": $lookup($funds, "CTX").name'),
    });
    const funds = path.join(lib.configDir, 'funds.json');
    fs.writeFileSync(funds, JSON.stringify({ CTX: { name: 'Council tax', costCentre: 'A', incomeAccount: 'B', bankAccount: 'C' } }));
    assert.strictEqual((await lib.run<CrmAddCaseUpdate>('funds-name', CASE, { caseRef: 'C' })).status, 'Council tax');
    const override = { CTX: { name: 'Test', costCentre: 'A', incomeAccount: 'B', bankAccount: 'C' } };
    assert.strictEqual((await lib.run<CrmAddCaseUpdate>('funds-name', CASE, { caseRef: 'C', funds: override })).status, 'Test');
    fs.writeFileSync(funds, JSON.stringify({ CTX: { name: 'Council tax' } }));
    fs.utimesSync(funds, new Date(), new Date(Date.now() + 5000));
    assert.match((await mappingError(lib.run('funds-name', CASE, { caseRef: 'C' }))).message, /configuration table .*funds.json \/CTX must have property "costCentre"/);
    fs.writeFileSync(funds, '{ not json');
    fs.utimesSync(funds, new Date(), new Date(Date.now() + 10000));
    assert.match((await mappingError(lib.run('funds-name', CASE, { caseRef: 'C' }))).message, /funds.json is not valid JSON/);
  });

  it('turns a string `now` binding into $now()', async () => {
    const lib = library({ 'now.jsonata': '/* @target crm.add-case-update */\n{ "caseRef": "C", "status": "s", "summary": "x", "occurredAt": $now(), "sourceEventId": "e" }' });
    assert.strictEqual((await lib.run<CrmAddCaseUpdate>('now', {}, { now: '2026-01-02T03:04:05Z' })).occurredAt, '2026-01-02T03:04:05Z');
  });
});

describe('addressLines (the housing and revenues line rule)', () => {
  const street: Bs7666Address = { uprn: '1', paon: '12', streetDescription: 'HIGH STREET', townName: 'CARDIFF', postTown: 'CARDIFF', postcode: 'CF10 1EP' };
  it('puts a numbered PAON on the street line and a named one above it', () => {
    assert.deepStrictEqual(addressLines({ ...street, saon: 'Flat 2' }, 5, 35), ['Flat 2', '12 HIGH STREET', 'CARDIFF']);
    assert.deepStrictEqual(addressLines({ ...street, paon: 'Rose Cottage', locality: 'Llandaff', townName: 'Penarth' }, 5, 35),
      ['Rose Cottage', 'HIGH STREET', 'Llandaff', 'Penarth', 'CARDIFF']);
  });
  it('wraps at spaces, splits an over-long word, counts letters not bytes, and refuses to drop anything', () => {
    assert.deepStrictEqual(addressLines({ ...street, streetDescription: 'AAAA BBBB CCCC' }, 5, 10), ['12 AAAA', 'BBBB CCCC', 'CARDIFF']);
    assert.deepStrictEqual(addressLines({ ...street, paon: 'X', streetDescription: 'ABCDEFGHIJKL', postTown: 'CDF', townName: 'CDF' }, 5, 5), ['X', 'ABCDE', 'FGHIJ', 'KL', 'CDF']);
    assert.deepStrictEqual(addressLines({ ...street, paon: 'TŶ GWYN', streetDescription: 'HEOL Y FRÂN' }, 5, 7), ['TŶ GWYN', 'HEOL Y', 'FRÂN', 'CARDIFF']);
    const crowded = { ...street, saon: 'Flat 12 Lovelace', paon: 'Orchard House', locality: 'Upper Brackenford', townName: 'Coldharbour Green' };
    assert.throws(() => addressLines(crowded, 4, 20), /address needs 6 lines of at most 20 characters but only 4 are available: Flat 12 Lovelace \/ Orchard House \/ HIGH STREET \/ Upper Brackenford \/ Coldharbour Green \/ CARDIFF/);
  });
  it('tidies whitespace (runs, tabs, line breaks, non-breaking spaces, at either end) and composes accents, leaving tidy text as it is', () => {
    assert.deepStrictEqual(addressLines({ ...street, saon: '  Flat\t2 ', paon: '12', streetDescription: 'HIGH\u00a0 STREET\n' }, 5, 35), ['Flat 2', '12 HIGH STREET', 'CARDIFF']);
    // "FRA" + a combining circumflex is one letter once composed (NFC): it fits a 4-letter line.
    assert.deepStrictEqual(addressLines({ ...street, paon: 'X', streetDescription: 'FRA\u0302N', postTown: 'CDF', townName: 'CDF' }, 5, 4), ['X', 'FR\u00c2N', 'CDF']);
    assert.deepStrictEqual(addressLines({ ...street, saon: 'Flat 2' }, 5, 35), ['Flat 2', '12 HIGH STREET', 'CARDIFF']);
    assert.deepStrictEqual(addressLines({ ...street, locality: ' ', townName: '' }, 5, 35), ['12 HIGH STREET', 'CARDIFF'], 'a part of only spaces is no part');
  });
  it('shares lines between neighbouring parts, from the top, only when the lines would run out', () => {
    const flat: Bs7666Address = { uprn: '1', saon: 'Flat 12', paon: 'Lovelace Court', streetDescription: 'Hawthorn Grove', townName: 'Eastwick Parva', postTown: 'DUNMERE', postcode: 'XM9 1AB' };
    assert.deepStrictEqual(addressLines(flat, 5, 35), ['Flat 12', 'Lovelace Court', 'Hawthorn Grove', 'Eastwick Parva', 'DUNMERE']);
    assert.deepStrictEqual(addressLines(flat, 4, 35), ['Flat 12, Lovelace Court', 'Hawthorn Grove', 'Eastwick Parva', 'DUNMERE']);
    assert.deepStrictEqual(addressLines(flat, 3, 35), ['Flat 12, Lovelace Court', 'Hawthorn Grove, Eastwick Parva', 'DUNMERE']);
  });
});
