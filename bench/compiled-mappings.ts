import assert from 'assert';
import fs from 'fs';
import path from 'path';
import { MappingLibrary, standardFunctions } from '../adapters/mapping';
import { builtinsReady } from '../adapters/mapping/compiler-runtime';
import { mappingsDir } from '../hub/paths';
import type { Comparison, Measurement } from './harness';

/**
 * Scenario 4c: each mapping compiled (the function the MappingLibrary runs) against the same
 * mapping on the jsonata 2.x interpreter, on the same input: the mapping's first fixture case
 * with an expected output, with the bindings MappingLibrary.run gives it (standard functions,
 * config tables, the case's env). Both sides are checked to give the same output before the
 * clock starts. One evaluation after another, no Node-RED, no schema check: the mapping alone.
 * Goal (issue 17): every compiled mapping at least 20 times the interpreter's evaluations/s.
 */

function bindingsFor(library: MappingLibrary, env: Record<string, unknown>): Record<string, unknown> {
  const tables: Record<string, unknown> = {};
  for (const file of fs.readdirSync(library.configDir).filter((f) => f.endsWith('.json'))) {
    const base = file.slice(0, -'.json'.length);
    tables[base.replace(/[-_.]+([a-z0-9])/gi, (_m, c: string) => c.toUpperCase())] = library.table(base);
  }
  return { ...standardFunctions, ...tables, ...env };
}

function firstCase(mapping: string): { input: unknown; env: Record<string, unknown> } {
  const dir = path.join(mappingsDir, 'fixtures', mapping);
  const name = fs.readdirSync(dir).filter((f) => f.endsWith('.expected.json')).sort()[0].slice(0, -'.expected.json'.length);
  const read = (part: string) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.${part}.json`), 'utf8'));
  return { input: read('input'), env: fs.existsSync(path.join(dir, `${name}.env.json`)) ? read('env') : {} };
}

const COMPILED_PASSES = 10;

const perSecond = (count: number, started: bigint): Measurement => {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { value: count / seconds, extra: { seconds: Math.round(seconds * 1000) / 1000 } };
};

export function compiledMappingComparisons(quick: boolean): Comparison[] {
  const count = quick ? 500 : 3000;
  const library = new MappingLibrary({ mappingsDir });
  return library.list().map((info) => {
    const mapping = library.load(info.name);
    const { input, env } = firstCase(info.name);
    const bindings = bindingsFor(library, env);
    // A copy per evaluation, as messages arrive: neither side gets one object hot in cache.
    const inputs = Array.from({ length: count }, () => JSON.parse(JSON.stringify(input)));
    const compiled = mapping.evaluator.compiled;
    return {
      scenario: `4c. ${info.name} compiled against jsonata (${count} evaluations)`,
      unit: 'evaluations/s',
      higherIsBetter: true,
      subject: {
        label: 'compiled',
        async round() {
          // Ten passes: one pass of the compiled function takes a few milliseconds, too short to time well.
          const started = process.hrtime.bigint();
          for (let pass = 0; pass < COMPILED_PASSES; pass++) for (const i of inputs) compiled!(i, bindings);
          return perSecond(count * COMPILED_PASSES, started);
        },
      },
      reference: {
        label: 'jsonata 2.x interpreter',
        async round() {
          const started = process.hrtime.bigint();
          for (const i of inputs) await mapping.expression.evaluate(i, bindings);
          return perSecond(count, started);
        },
      },
      goal: { ratioAtLeast: 20, text: 'compiled at least 20 times the interpreter' },
      async setUp() {
        await builtinsReady;
        assert.ok(compiled, `${info.name} does not compile: ${mapping.compileProblem}`);
        const expected = JSON.parse(JSON.stringify(await mapping.expression.evaluate(input, bindings)));
        assert.deepStrictEqual(JSON.parse(JSON.stringify(compiled(input, bindings))), expected, `${info.name}: compiled and interpreted disagree`);
        // Warm up both (JIT): the compiled function is optimised only after some thousands of calls,
        // as it is in a hub that has been running for a minute.
        for (let pass = 0; pass < COMPILED_PASSES; pass++) for (const i of inputs) compiled(i, bindings);
        for (let i = 0; i < Math.min(300, count); i++) await mapping.expression.evaluate(inputs[i], bindings);
      },
    };
  });
}
