import assert from 'assert';
import fs from 'fs';
import os from 'os';
import path from 'path';
import fc from 'fast-check';
import jsonata from 'jsonata';
import { CompiledExpression, MappingError, MappingLibrary, compileJsonata, standardFunctions, type CompiledFunction } from '../../adapters/mapping';
import { DEOPT, builtinsReady } from '../../adapters/mapping/compiler-runtime';
import { jsonDiff } from '../../adapters/mapping/json-diff';
import { FIXTURES, MAPPINGS } from './fixtures';

/**
 * Sameness of compiled mappings and the jsonata interpreter: every fixture, thousands of
 * generated inputs per mapping, and random expressions over the constructs the compiler claims.
 * Seeded, so that CI sees the same cases every run; a difference is reported with fast-check's
 * smallest counterexample.
 */

const SEED = 20261202;

type Outcome = { kind: 'value'; value: unknown } | { kind: 'error'; code: unknown; message: string } | { kind: 'deopt' };

/** A value as plain data that keeps what JSON would lose: undefined-valued keys and key order. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return { array: value.map(shape) };
  if (value !== null && typeof value === 'object') return { object: Object.keys(value).map((k) => [k, shape((value as Record<string, unknown>)[k])]) };
  if (value === undefined) return { undefined: true };
  return value;
}

function errorOutcome(err: unknown): Outcome {
  const e = err as { code?: unknown; message?: string };
  return { kind: 'error', code: e?.code, message: String(e?.message ?? err) };
}

function runCompiled(fn: CompiledFunction, input: unknown, bindings: Record<string, unknown>): Outcome {
  try {
    return { kind: 'value', value: fn(input, bindings) };
  } catch (err) {
    if (err === DEOPT) return { kind: 'deopt' };
    return errorOutcome(err);
  }
}

async function runInterpreted(expression: jsonata.Expression, input: unknown, bindings: Record<string, unknown>): Promise<Outcome> {
  try {
    return { kind: 'value', value: await expression.evaluate(input, bindings) };
  } catch (err) {
    return errorOutcome(err);
  }
}

/** Error cases seen, and those where the compiled code's own error code was jsonata's. */
const errorCodes = { cases: 0, same: 0 };

/**
 * Why two outcomes differ, or undefined when they are the same. A DEOPT is the interpreter's
 * answer, so the same. When both fail, the hub reports jsonata's own error (CompiledExpression
 * runs the interpreter for it), so what must agree is that both fail; the compiled code's own
 * code is counted (jsonata evaluates an object's values concurrently, and of two failing values
 * reports whichever fails first in its interleaving, the compiled code the first in key order).
 */
function difference(compiled: Outcome, interpreted: Outcome, strictCodes = false): string | undefined {
  if (compiled.kind === 'deopt') return undefined;
  if (compiled.kind !== interpreted.kind) return `compiled gave ${showOutcome(compiled)}, jsonata ${showOutcome(interpreted)}`;
  if (compiled.kind === 'error' && interpreted.kind === 'error') {
    errorCodes.cases++;
    if (compiled.code === interpreted.code) errorCodes.same++;
    return !strictCodes || compiled.code === interpreted.code ? undefined : `error codes differ: compiled ${String(compiled.code)}, jsonata ${String(interpreted.code)} (${interpreted.message})`;
  }
  const a = (compiled as { value: unknown }).value;
  const b = (interpreted as { value: unknown }).value;
  const json = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  const diff = jsonDiff(json(b), json(a));
  if (diff.length) return diff.join('; ');
  try {
    assert.deepStrictEqual(shape(a), shape(b));
  } catch {
    return `same JSON but not the same values (undefined keys, key order or sequences): compiled ${JSON.stringify(shape(a))}, jsonata ${JSON.stringify(shape(b))}`;
  }
  return undefined;
}

function showOutcome(o: Outcome): string {
  return o.kind === 'value' ? `value ${JSON.stringify(o.value)}` : o.kind === 'error' ? `error ${String(o.code)} (${o.message})` : 'deopt';
}

/** The bindings MappingLibrary.run gives a mapping: standard functions, config tables, the case's own. */
function bindingsFor(library: MappingLibrary, env: Record<string, unknown>): Record<string, unknown> {
  const tables: Record<string, unknown> = {};
  for (const file of fs.readdirSync(library.configDir).filter((f) => f.endsWith('.json'))) {
    const base = file.slice(0, -'.json'.length);
    tables[base.replace(/[-_.]+([a-z0-9])/gi, (_m, c: string) => c.toUpperCase())] = library.table(base);
  }
  const own = { ...env };
  if (typeof own.now === 'string') {
    const now = own.now;
    own.now = () => now;
  }
  return { ...standardFunctions, ...tables, ...own };
}

interface FixtureCase {
  mapping: string;
  name: string;
  input: unknown;
  env: Record<string, unknown>;
}

function fixtureCases(): FixtureCase[] {
  const cases: FixtureCase[] = [];
  for (const mapping of fs.readdirSync(FIXTURES).sort()) {
    const dir = path.join(FIXTURES, mapping);
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.input.json')).sort()) {
      const name = file.slice(0, -'.input.json'.length);
      const envFile = path.join(dir, `${name}.env.json`);
      cases.push({
        mapping,
        name,
        input: JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')),
        env: fs.existsSync(envFile) ? JSON.parse(fs.readFileSync(envFile, 'utf8')) : {},
      });
    }
  }
  return cases;
}

const mappingNames = fs.readdirSync(MAPPINGS).filter((f) => f.endsWith('.jsonata')).map((f) => f.slice(0, -'.jsonata'.length)).sort();

describe('compiled mappings', function () {
  this.timeout(120_000);
  const library = new MappingLibrary({ mappingsDir: MAPPINGS, warn: () => undefined });
  const interpretedLibrary = new MappingLibrary({ mappingsDir: MAPPINGS, compile: false });

  before(() => builtinsReady);

  it('compiles every mapping in mappings/', () => {
    for (const name of mappingNames) {
      const mapping = library.load(name);
      assert.strictEqual(mapping.compileProblem, undefined, `${name}: ${mapping.compileProblem}`);
      assert.ok(mapping.compiled && mapping.evaluator.compiled, `${name} runs compiled`);
    }
    assert.ok(mappingNames.length >= 10, 'the mappings were found');
  });

  it('gives every fixture the same output or the same error code, compiled and interpreted, with no fallback', async () => {
    const cases = fixtureCases();
    assert.ok(cases.length >= 50, `the fixtures were found (${cases.length})`);
    for (const c of cases) {
      const mapping = library.load(c.mapping);
      const bindings = bindingsFor(library, c.env);
      const compiled = runCompiled(mapping.evaluator.compiled!, c.input, bindings);
      assert.notStrictEqual(compiled.kind, 'deopt', `${c.mapping}/${c.name} left to the interpreter`);
      const problem = difference(compiled, await runInterpreted(mapping.expression, c.input, bindings), true);
      assert.strictEqual(problem, undefined, `${c.mapping}/${c.name}: ${problem}`);
    }
  });

  it('gives every fixture the same result through the library, compiled and interpreted: output, or the same MappingError message', async () => {
    for (const c of fixtureCases()) {
      const run = async (lib: MappingLibrary) => {
        try {
          return { output: await lib.run(c.mapping, c.input, c.env) };
        } catch (err) {
          assert.ok(err instanceof MappingError, `${c.mapping}/${c.name}: ${String(err)}`);
          return { error: err.message, code: err.code, stage: err.stage };
        }
      };
      assert.deepStrictEqual(await run(library), await run(interpretedLibrary), `${c.mapping}/${c.name}`);
    }
    const counts = library.load('crm-event-to-canonical').evaluator.counts;
    assert.ok(counts.compiled > 0, 'the library ran the compiled function');
  });

  describe('differential: generated inputs per mapping, compiled against jsonata', () => {
    // Each input is a fixture input with fields kept, removed, or replaced by other JSON:
    // the shapes a wrong upstream system would send, and the edge values JSONata treats apart.
    const leaf = fc.oneof(
      fc.constantFrom('', ' ', '  a  b ', 'ContactAddressChanged', 'payment.received', 'payment.refunded', 'Decided', 'Approved', 'Scheduled',
        'CTX', 'NDR', 'HRA', 'T', 'W', 'xm1 1ab', '2026-11-18', '2026-11-18T10:00:00Z', 'not a date', '10009000001', 'Siân', 'Flat 2'),
      fc.string({ maxLength: 8 }),
      fc.integer({ min: -1000, max: 100000 }),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.constantFrom(null, true, false, 0, 1, 0.1, 1e21, -0),
      fc.constantFrom([], {}, ['a'], ['a', 'b'], [1, 2], { x: 1 }),
    );
    const MISSING = Symbol('missing');
    const mutate = (template: unknown, depth = 0): fc.Arbitrary<unknown> => {
      if (template !== null && typeof template === 'object' && !Array.isArray(template) && depth < 3) {
        const fields: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries(template)) {
          fields[k] = fc.oneof({ weight: 6, arbitrary: mutate(v, depth + 1) }, { weight: 1, arbitrary: fc.constant(MISSING) }, { weight: 1, arbitrary: leaf });
        }
        return fc.record(fields).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== MISSING)));
      }
      return fc.oneof({ weight: 5, arbitrary: fc.constant(template) }, { weight: 2, arbitrary: leaf });
    };

    const cases = fixtureCases();
    for (const name of mappingNames) {
      it(`${name}: 2,000 generated inputs give the same output or error code, and most run compiled`, async () => {
        const mapping = library.load(name);
        const templates = cases.filter((c) => c.mapping === name);
        assert.ok(templates.length > 0, `${name} has fixtures`);
        let compiledRuns = 0;
        let runs = 0;
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: templates.length - 1 }).chain((i) => fc.tuple(fc.constant(i), mutate(templates[i].input), mutate(templates[i].env))), async ([i, input, env]) => {
            const bindings = bindingsFor(library, (env ?? templates[i].env) as Record<string, unknown>);
            const compiled = runCompiled(mapping.evaluator.compiled!, input, bindings);
            runs++;
            if (compiled.kind !== 'deopt') compiledRuns++;
            const problem = difference(compiled, await runInterpreted(mapping.expression, input, bindings));
            if (problem) throw new Error(problem);
          }),
          { seed: SEED, numRuns: 2000 },
        );
        assert.ok(compiledRuns > runs * 0.9, `${name}: only ${compiledRuns} of ${runs} inputs ran compiled`);
      });
    }
  });

  describe('random expressions over the constructs the compiler claims', () => {
    const names = ['a', 'b', 'c'];
    const data = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom(null, true, false, 0, 1, -2, 2.5, '', 'x', ' y z ', 'a', '10'),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom(...names), tie('value'), { maxKeys: 3 }),
      ),
    })).value;

    const variables = ['$v', '$w'];
    const expression = fc.letrec<{ expr: string }>((tie) => ({
      expr: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('1', '0', '2.5', '"x"', '""', 'true', 'false', 'null', 'a', 'b', 'a.b', 'a.c', 'b.a.c', 'a[0]', 'a[1]', 'a[-1]', '$v', '$w', '$v.a', '$v[0]'),
        fc.tuple(tie('expr'), fc.constantFrom('=', '!=', '<', '<=', '>', '>=', '&', 'and', 'or', 'in', '+', '-', '*', '/', '%'), tie('expr')).map(([l, op, r]) => `(${l} ${op} ${r})`),
        fc.tuple(tie('expr'), tie('expr'), fc.option(tie('expr'))).map(([c, t, e]) => (e === null ? `(${c} ? ${t})` : `(${c} ? ${t} : ${e})`)),
        fc.array(tie('expr'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
        fc.array(fc.tuple(fc.constantFrom('k', 'l', 'm'), tie('expr')), { maxLength: 3 }).map((pairs) => {
          const seen = new Set<string>();
          return `{${pairs.filter(([k]) => !seen.has(k) && seen.add(k)).map(([k, v]) => `"${k}": ${v}`).join(', ')}}`;
        }),
        tie('expr').map((e) => `-${e}`),
        fc.tuple(fc.constantFrom('a', 'a.b', '$v', '$w'), tie('expr')).map(([p, e]) => `${p}[${e}]`),
        fc.tuple(fc.constantFrom('string', 'trim', 'exists', 'not', 'uppercase', 'lowercase', 'length', 'boolean', 'number', 'keys', 'count', 'sum', 'floor', 'abs', 'round', 'type', 'reverse', 'keys', 'type', 'floor'), tie('expr')).map(([f, a]) => `$${f}(${a})`),
        fc.tuple(fc.constantFrom('lookup', 'join', 'substring', 'append', 'formatNumber'), tie('expr'), tie('expr')).map(([f, a, b]) => `$${f}(${a}, ${b})`),
        fc.tuple(fc.constantFrom(...variables), tie('expr'), tie('expr')).map(([v, value, body]) => `(${v} := ${value}; ${body})`),
        fc.tuple(tie('expr'), tie('expr')).map(([body, arg]) => `($f := function($v) { ${body} }; $f(${arg}))`),
      ),
    })).expr;

    it('gives the same value or error code as jsonata for 3,000 expressions on random inputs, and compiles them all', async () => {
      let compiledRuns = 0;
      await fc.assert(
        fc.asyncProperty(expression, data, data, async (text, input, bound) => {
          let expr: jsonata.Expression;
          try {
            expr = jsonata(text);
          } catch {
            return; // not JSONata (e.g. a keyword where a name is expected): nothing to compare
          }
          const fn = compileJsonata(expr.ast());
          const bindings = { w: bound };
          const compiled = runCompiled(fn, input, bindings);
          if (compiled.kind !== 'deopt') compiledRuns++;
          const problem = difference(compiled, await runInterpreted(expr, input, bindings));
          if (problem) throw new Error(`${text}: ${problem}`);
        }),
        { seed: SEED, numRuns: 3000 },
      );
      assert.ok(compiledRuns > 1500, `only ${compiledRuns} of 3,000 ran compiled`);
    });
  });

  it('formats numbers with a grouped picture exactly as jsonata\'s $formatNumber, on 5,000 numbers', async () => {
    const pictures = ['#,##0.00', '#,##0', '#,##0.0', '#,##0.000'];
    const fn = compileJsonata('$formatNumber(n, p)');
    const expr = jsonata('$formatNumber(n, p)');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.double({ min: -1e16, max: 1e16, noNaN: true, noDefaultInfinity: true }), fc.integer({ min: -10000000, max: 10000000 }).map((n) => n / 1000), fc.integer().map((n) => n / 8)),
        fc.constantFrom(...pictures),
        async (n, p) => {
          const problem = difference(runCompiled(fn, { n, p }, {}), await runInterpreted(expr, { n, p }, {}), true);
          if (problem) throw new Error(`$formatNumber(${n}, "${p}"): ${problem}`);
        },
      ),
      { seed: SEED, numRuns: 5000 },
    );
  });

  describe('error codes (after the generated cases above)', () => {
    it('agrees on the error code itself in at least 95% of the generated failures', () => {
      assert.ok(errorCodes.cases > 100, `failures were generated (${errorCodes.cases})`);
      assert.ok(errorCodes.same >= errorCodes.cases * 0.95, `${errorCodes.same} of ${errorCodes.cases} had jsonata's code`);
    });
  });

  describe('fallback and recompilation', () => {
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    const header = '/* @target crm.add-case-update\n   test */\n';
    const tempLibrary = (text: string, warnings: string[]) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'council-hub-compiled-'));
      dirs.push(dir);
      fs.mkdirSync(path.join(dir, 'config'));
      fs.writeFileSync(path.join(dir, 'm.jsonata'), header + text);
      return { dir, library: new MappingLibrary({ mappingsDir: dir, warn: (m) => warnings.push(m) }) };
    };
    const CASE = { status: 'Decided', summary: 'Approved', occurredAt: '2026-12-15T00:00:00Z', sourceEventId: 'planning:1' };

    it('runs a mapping the compiler does not cover on the interpreter, with a warning naming it, and the right output', async () => {
      const warnings: string[] = [];
      const { library: lib } = tempLibrary('{ "caseRef": $caseRef, "status": status, "summary": $join($map([summary], function($s) { $uppercase($s) })), "occurredAt": occurredAt, "sourceEventId": sourceEventId }', warnings);
      const output = await lib.run('m', CASE, { caseRef: 'CAS-1' });
      assert.deepStrictEqual(output, { caseRef: 'CAS-1', status: 'Decided', summary: 'APPROVED', occurredAt: CASE.occurredAt, sourceEventId: 'planning:1' });
      const loaded = lib.load('m');
      assert.strictEqual(loaded.compiled, false);
      assert.match(loaded.compileProblem ?? '', /\$map is left to the interpreter/);
      assert.strictEqual(warnings.length, 1);
      assert.match(warnings[0], /mapping "m" runs on the jsonata interpreter/);
      assert.strictEqual(loaded.evaluator.counts.interpreted, 1);
    });

    it('compiles a changed file again, and falls back with a warning when the new version cannot be compiled', async () => {
      const warnings: string[] = [];
      const { dir, library: lib } = tempLibrary('{ "caseRef": $caseRef, "status": status, "summary": summary, "occurredAt": occurredAt, "sourceEventId": sourceEventId }', warnings);
      assert.strictEqual(lib.load('m').compiled, true);
      assert.strictEqual((await lib.run<{ summary: string }>('m', CASE, { caseRef: 'C' })).summary, 'Approved');
      const file = path.join(dir, 'm.jsonata');
      fs.writeFileSync(file, header + '{ "caseRef": $caseRef, "status": status, "summary": $uppercase(summary), "occurredAt": occurredAt, "sourceEventId": sourceEventId }');
      fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
      assert.strictEqual(lib.load('m').compiled, true);
      assert.strictEqual((await lib.run<{ summary: string }>('m', CASE, { caseRef: 'C' })).summary, 'APPROVED');
      fs.writeFileSync(file, header + '{ "caseRef": $caseRef, "status": status, "summary": $eval("summary"), "occurredAt": occurredAt, "sourceEventId": sourceEventId }');
      fs.utimesSync(file, new Date(), new Date(Date.now() + 10000));
      assert.strictEqual(lib.load('m').compiled, false);
      assert.strictEqual((await lib.run<{ summary: string }>('m', CASE, { caseRef: 'C' })).summary, 'Approved');
      assert.strictEqual(warnings.length, 1, warnings.join('\n'));
    });

    it('hands one evaluation with an unexpected shape (an array context) to the interpreter and gives its answer', async () => {
      const expr = jsonata('{ "k": a }');
      const evaluator = new CompiledExpression(expr);
      assert.ok(evaluator.compiled);
      const input = [{ a: 1 }, { a: 2 }];
      assert.deepStrictEqual(JSON.parse(JSON.stringify(await evaluator.evaluate(input, {}))), JSON.parse(JSON.stringify(await expr.evaluate(input, {}))));
      assert.deepStrictEqual(evaluator.counts, { compiled: 0, interpreted: 1 });
      assert.deepStrictEqual(await evaluator.evaluate({ a: 3 }, {}), { k: 3 });
      assert.deepStrictEqual(evaluator.counts, { compiled: 1, interpreted: 1 });
    });

    it('reports a failing evaluation with jsonata\'s own error (code, message, position, token)', async () => {
      const text = '($x := a; $x > 1 ? $error("too big: " & $string($x)) : $x)';
      const evaluator = new CompiledExpression(jsonata(text));
      const own: any = await jsonata(text).evaluate({ a: 5 }).catch((e: any) => e);
      const ours: any = await evaluator.evaluate({ a: 5 }, {}).catch((e: any) => e);
      assert.deepStrictEqual({ code: ours.code, message: ours.message, position: ours.position, token: ours.token }, { code: own.code, message: own.message, position: own.position, token: own.token });
      assert.strictEqual(ours.message, 'too big: 5');
    });

    it('runs everything on the interpreter when compilation is switched off', async () => {
      const lib = new MappingLibrary({ mappingsDir: MAPPINGS, compile: false });
      const mapping = lib.load('case-to-crm');
      assert.strictEqual(mapping.compiled, false);
      assert.strictEqual(mapping.evaluator.compiled, undefined);
    });
  });
});
