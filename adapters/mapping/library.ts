import fs from 'fs';
import path from 'path';
import jsonata from 'jsonata';
import { checkSchema, describeProblems, isSchemaName, type SchemaName, type SchemaProblem } from '../canonical/schemas';
import { HubError, errorCode, isClassified } from '../errors';
import { standardFunctions } from './functions';
import { CompiledExpression } from './compiler';

/**
 * The mapping library: JSONata files in mappings/ (one per direction and system), each
 * compiled once, cached, and compiled again only when its file changes (mtime and size are
 * checked on every use: cheaper and surer than fs.watch, which misses atomic renames).
 * Every output is checked against the target schema the mapping declares in its header:
 *
 *   (* @target planning.update-party-address
 *      Canonical person.address.changed -> planning UpdatePartyAddress arguments. *)
 *
 * (JSONata comments are slash-star ... star-slash.) The tables in mappings/config/*.json are
 * bound into every evaluation as $<camelCaseName> ($funds, $sharingRules); a table with a
 * schema of the same name is checked against it.
 */

const MAPPING_NAME = /^[a-z0-9][a-z0-9-]*$/;
const EXTENSION = '.jsonata';

export type MappingStage = 'load' | 'compile' | 'evaluate' | 'validate';

export interface MappingErrorDetails {
  stage: MappingStage;
  /** JSONata error code (e.g. "S0211", "D3137" for $error); the message names it. */
  code?: string;
  /**
   * The error's contract code when JSONata gives none: the code of the hub error a function
   * threw (INVALID_POSTCODE, ADDRESS_TOO_LONG...), else one of the library's own
   * (MAPPING_NOT_FOUND, MAPPING_SCHEMA_MISMATCH...). Default MAPPING_<STAGE>.
   */
  failureCode?: string;
  /** Character offset in the mapping file where JSONata stopped, and its line and column. */
  position?: number;
  line?: number;
  column?: number;
  token?: string;
  /** For a validation failure: the target schema and what did not match. */
  schema?: SchemaName;
  schemaPath?: string;
  instancePath?: string;
  problems?: SchemaProblem[];
  cause?: unknown;
}

/**
 * Any failure of a mapping: names the mapping, and where JSONata or the target schema objected.
 * Permanent (transient false): a mapping is a pure function of its input and the files
 * deployed with the hub, so the same input fails the same way every time; retrying cannot
 * help, a person must look. Its code is JSONata's (S0211, D3137) or failureCode.
 */
export class MappingError extends HubError {
  readonly stage: MappingStage;
  readonly position?: number;
  readonly line?: number;
  readonly column?: number;
  readonly token?: string;
  readonly schema?: SchemaName;
  readonly schemaPath?: string;
  readonly instancePath?: string;
  readonly problems?: SchemaProblem[];

  constructor(readonly mapping: string, readonly reason: string, details: MappingErrorDetails) {
    super(details.code ?? details.failureCode ?? `MAPPING_${details.stage.toUpperCase()}`, `mapping "${mapping}": ${reason}${MappingError.where(details)}`, {
      transient: false,
      cause: details.cause,
    });
    this.name = 'MappingError';
    this.stage = details.stage;
    this.position = details.position;
    this.line = details.line;
    this.column = details.column;
    this.token = details.token;
    this.schema = details.schema;
    this.schemaPath = details.schemaPath;
    this.instancePath = details.instancePath;
    this.problems = details.problems;
  }

  private static where(d: MappingErrorDetails): string {
    if (d.position === undefined) return '';
    const token = d.token !== undefined ? `, token "${d.token}"` : '';
    const code = d.code ? ` [${d.code}]` : '';
    return ` (at line ${d.line}, column ${d.column}, position ${d.position}${token})${code}`;
  }
}

export interface MappingInfo {
  name: string;
  /** The schema its output must match. */
  target: SchemaName;
  /** The first line of the header comment. */
  description: string;
  file: string;
}

export interface CompiledMapping {
  info: MappingInfo;
  /** The jsonata interpreter's expression (the reference). */
  expression: jsonata.Expression;
  /** What runs: the compiled function when the compiler covers the mapping, else the interpreter. */
  evaluator: CompiledExpression;
  /** True when the mapping runs compiled; otherwise compileProblem says why not. */
  compiled: boolean;
  compileProblem?: string;
  source: string;
  mtimeMs: number;
  size: number;
  /** When its file was last looked at (ms). */
  checkedAt: number;
}

export interface MappingLibraryOptions {
  /** Folder of the .jsonata files (the hub passes the repository's mappings/). */
  mappingsDir: string;
  /** Folder of the configuration tables (default: <mappingsDir>/config). */
  configDir?: string;
  /**
   * How long a mapping or the configuration tables are used before their files are looked at
   * again for a change (default 0: every run). The hub uses 1 s: a file system call per run
   * costs more than the mapping's own work on small messages, and an edit is live a second later.
   */
  recheckMs?: number;
  now?: () => number;
  /**
   * Run the mappings compiled to JavaScript (default true; the hub turns it off with
   * HUB_MAPPINGS_COMPILED=off). A mapping the compiler does not cover runs on the interpreter.
   */
  compile?: boolean;
  /** Told once per file version when a mapping falls back to the interpreter (default: a process warning). */
  warn?: (message: string) => void;
}

interface CachedTable {
  value: unknown;
  mtimeMs: number;
  size: number;
}

function lineAndColumn(source: string, position: number): { line: number; column: number } {
  // JSONata's position is the offset just after the token it stopped at.
  const before = source.slice(0, Math.max(0, position));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length };
}

function camelCase(name: string): string {
  return name.replace(/[-_.]+([a-z0-9])/gi, (_m, c: string) => c.toUpperCase());
}

/** Reads the header comment: `@target <schema>` and the first descriptive line. */
export function readMappingHeader(source: string): { target?: string; description: string } {
  const comment = /^\s*\/\*([\s\S]*?)\*\//.exec(source);
  const text = comment ? comment[1] : '';
  const target = /@target\s+(\S+)/.exec(text)?.[1];
  const description =
    text
      .split('\n')
      .map((l) => l.replace(/^\s*\*?\s?/, '').trim())
      .find((l) => l && !l.startsWith('@')) ?? '';
  return { target, description };
}

export class MappingLibrary {
  readonly mappingsDir: string;
  readonly configDir: string;
  private readonly compiled = new Map<string, CompiledMapping>();
  private readonly tables = new Map<string, CachedTable>();
  private readonly recheckMs: number;
  private readonly now: () => number;
  private readonly compile: boolean;
  private readonly warn: (message: string) => void;
  private bound?: { tables: Record<string, unknown>; checkedAt: number };

  constructor(options: MappingLibraryOptions) {
    this.mappingsDir = path.resolve(options.mappingsDir);
    this.configDir = path.resolve(options.configDir ?? path.join(this.mappingsDir, 'config'));
    this.recheckMs = options.recheckMs ?? 0;
    this.now = options.now ?? Date.now;
    this.compile = options.compile ?? true;
    this.warn = options.warn ?? ((message) => process.emitWarning(message, 'MappingCompileWarning'));
  }

  /** The mappings in the folder, by name (for the editor's list); unreadable ones are left out. */
  list(): MappingInfo[] {
    let files: string[];
    try {
      files = fs.readdirSync(this.mappingsDir).filter((f) => f.endsWith(EXTENSION)).sort();
    } catch {
      return [];
    }
    const infos: MappingInfo[] = [];
    for (const file of files) {
      try {
        infos.push(this.load(file.slice(0, -EXTENSION.length)).info);
      } catch {
        // a broken mapping is reported when it is used; the list shows the working ones
      }
    }
    return infos;
  }

  /** The compiled mapping, compiled at most once per version of its file. Throws MappingError. */
  load(name: string): CompiledMapping {
    if (typeof name !== 'string' || !MAPPING_NAME.test(name)) {
      throw new MappingError(String(name), 'is not a mapping name (lower-case letters, digits and hyphens)', { stage: 'load', failureCode: 'MAPPING_INVALID_NAME' });
    }
    const fresh = this.compiled.get(name);
    const now = this.now();
    if (fresh && this.recheckMs > 0 && now - fresh.checkedAt < this.recheckMs) return fresh;
    const file = path.join(this.mappingsDir, name + EXTENSION);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      throw new MappingError(name, `no such mapping: ${file} does not exist`, { stage: 'load', failureCode: 'MAPPING_NOT_FOUND' });
    }
    const cached = this.compiled.get(name);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) {
      cached.checkedAt = now;
      return cached;
    }

    const source = fs.readFileSync(file, 'utf8');
    const header = readMappingHeader(source);
    if (!header.target) {
      throw new MappingError(name, `${file} has no "@target <schema>" in its header comment`, { stage: 'load', failureCode: 'MAPPING_INVALID_HEADER' });
    }
    if (!isSchemaName(header.target)) {
      throw new MappingError(name, `its @target "${header.target}" is not a known schema`, { stage: 'load', failureCode: 'MAPPING_INVALID_HEADER' });
    }
    let expression: jsonata.Expression;
    try {
      expression = jsonata(source);
    } catch (err) {
      throw this.jsonataError(name, source, 'compile', err);
    }
    // Compiled again with every new version of the file; a mapping the compiler cannot take runs
    // on the interpreter with a warning, never stops.
    const evaluator = new CompiledExpression(expression, { compile: this.compile });
    if (this.compile && evaluator.compileProblem) this.warn(`mapping "${name}" runs on the jsonata interpreter: ${evaluator.compileProblem}`);
    const compiled: CompiledMapping = {
      info: { name, target: header.target, description: header.description, file },
      expression,
      evaluator,
      compiled: evaluator.compiled !== undefined,
      compileProblem: evaluator.compileProblem,
      source,
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      checkedAt: now,
    };
    this.compiled.set(name, compiled);
    return compiled;
  }

  /**
   * Runs a mapping: evaluates it with the standard functions, the config tables and the
   * caller's bindings (a string `now` becomes the function $now()), and checks the output
   * against its target schema. Returns plain JSON. Throws MappingError.
   */
  async run<T = unknown>(name: string, input: unknown, bindings: Record<string, unknown> = {}): Promise<T> {
    const mapping = this.load(name);
    const own = { ...bindings };
    if (typeof own.now === 'string') {
      const now = own.now;
      own.now = () => now;
    }
    let result: unknown;
    try {
      result = await mapping.evaluator.evaluate(input, { ...standardFunctions, ...this.configTables(name), ...own });
    } catch (err) {
      throw this.jsonataError(name, mapping.source, 'evaluate', err);
    }
    // JSON in, JSON out: drops JSONata's sequence flags and undefined fields.
    const output = result === undefined ? undefined : JSON.parse(JSON.stringify(result));
    if (output === undefined) {
      throw new MappingError(name, `produced no output (the input did not have what it reads)`, {
        stage: 'validate', schema: mapping.info.target, failureCode: 'MAPPING_NO_OUTPUT',
      });
    }
    const check = checkSchema<T>(mapping.info.target, output);
    if (!check.valid) {
      const first = check.problems[0];
      throw new MappingError(name, `output does not match schema ${mapping.info.target}: ${describeProblems(check.problems)}`, {
        stage: 'validate',
        failureCode: 'MAPPING_SCHEMA_MISMATCH',
        schema: mapping.info.target,
        schemaPath: first?.schemaPath,
        instancePath: first?.instancePath,
        problems: check.problems,
      });
    }
    return check.value;
  }

  /** One configuration table (mappings/config/<name>.json) as the mappings see it, e.g. `funds`. */
  table(name: string): unknown {
    return this.configTables(name)[camelCase(name)];
  }

  /** The configuration tables, each read again only when its file changed. */
  private configTables(mapping: string): Record<string, unknown> {
    const now = this.now();
    if (this.bound && this.recheckMs > 0 && now - this.bound.checkedAt < this.recheckMs) return this.bound.tables;
    this.bound = undefined;
    let files: string[];
    try {
      files = fs.readdirSync(this.configDir).filter((f) => f.endsWith('.json'));
    } catch {
      return {};
    }
    const bound: Record<string, unknown> = {};
    for (const file of files) {
      const full = path.join(this.configDir, file);
      const base = file.slice(0, -'.json'.length);
      const stat = fs.statSync(full);
      let table = this.tables.get(full);
      if (!table || table.mtimeMs !== stat.mtimeMs || table.size !== stat.size) {
        let value: unknown;
        try {
          value = JSON.parse(fs.readFileSync(full, 'utf8'));
        } catch (err) {
          throw new MappingError(mapping, `configuration table ${full} is not valid JSON: ${(err as Error).message}`, { stage: 'load', failureCode: 'MAPPING_CONFIG_INVALID' });
        }
        if (isSchemaName(base)) {
          const check = checkSchema(base, value);
          if (!check.valid) {
            throw new MappingError(mapping, `configuration table ${full} ${describeProblems(check.problems)}`, { stage: 'load', failureCode: 'MAPPING_CONFIG_INVALID' });
          }
        }
        table = { value, mtimeMs: stat.mtimeMs, size: stat.size };
        this.tables.set(full, table);
      }
      bound[camelCase(base)] = table.value;
    }
    // Only tables that all read well are kept: a broken one is reported on every run until fixed.
    this.bound = { tables: bound, checkedAt: now };
    return bound;
  }

  private jsonataError(name: string, source: string, stage: MappingStage, err: unknown): MappingError {
    const e = err as { message?: string; code?: string; position?: number; token?: string };
    const where = typeof e.position === 'number' ? { position: e.position, ...lineAndColumn(source, e.position) } : {};
    // A hub error thrown by a function ($normalisePostcode, $addressLines) keeps its code as
    // the contract code; only JSONata's own codes are JSONata codes (and named in the message).
    const own = isClassified(err);
    return new MappingError(name, e.message ?? String(err), {
      stage,
      code: own ? undefined : e.code,
      failureCode: own ? errorCode(err) : undefined,
      token: e.token,
      ...where,
      cause: err,
    });
  }
}
