import jsonata from 'jsonata';
import { HubError } from '../errors';
import { ALL_JSONATA_BUILTINS, COMPILED_BUILTINS, COMPILED_LAMBDA, UNBOUND, builtinsLoaded, builtinsReady, runtime } from './compiler-runtime';

/**
 * The JSONata compiler: turns a mapping's syntax tree (jsonata's own parser, `jsonata(text).ast()`)
 * into the source of one JavaScript function, compiled once with `new Function`. Paths become
 * chains of field reads, blocks become comma expressions over hoisted variables, lambdas become
 * closures, and operators and built-ins call the helpers of compiler-runtime.ts, which keep
 * jsonata 2.x's semantics. An expression using anything else fails to compile as a whole
 * (CompileError) and the mapping runs on the interpreter; a value of an unexpected shape at run
 * time (DEOPT) hands that one evaluation to the interpreter. See docs/mappings.md, Compiled mappings.
 */

export type CompiledFunction = (input: unknown, bindings: Record<string, unknown>) => unknown;

/**
 * An expression the compiler does not cover (code MAPPING_NOT_COMPILED, permanent). It never
 * fails a message: the library keeps its text as the mapping's compileProblem and runs the
 * interpreter.
 */
export class CompileError extends HubError {
  constructor(reason: string, readonly position?: number) {
    super('MAPPING_NOT_COMPILED', position === undefined ? reason : `${reason} (at position ${position})`, { transient: false });
    this.name = 'CompileError';
  }
}

type AstNode = Record<string, any>;

interface FunctionScope {
  /** Block variables declared at the top of the generated function. */
  declarations: string[];
  /** The JavaScript name of the context value (JSONata's input) in this function. */
  input: string;
}

interface Scope {
  /** JSONata variable name -> JavaScript identifier, for the variables this frame binds. */
  variables: Map<string, string>;
  /** Lambda parameters are bound from the call on; block variables once their `:=` has run. */
  bound: Set<string>;
  parent?: Scope;
  fn: FunctionScope;
}

const FAST_BUILTINS: Record<string, number> = { exists: 1, not: 1, string: 1, trim: 1, lookup: 2, formatNumber: 2, keys: 1, join: 2, type: 1, floor: 1 };
/** Fast built-ins that take the context too (for jsonata's own implementation when the fast path does not apply). */
const WITH_CONTEXT = new Set(['lookup', 'formatNumber', 'keys', 'join', 'type', 'floor']);
const COMPILED = new Set<string>(COMPILED_BUILTINS);
const COMPARISONS = new Set(['<', '<=', '>', '>=']);
const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);

function only(node: AstNode, keys: string[]): void {
  for (const key of Object.keys(node)) {
    if (node[key] !== undefined && !keys.includes(key)) throw new CompileError(`"${key}" on a ${node.type} node is not compiled`, node.position);
  }
}

class Generator {
  private count = 0;
  private readonly freeVariables = new Map<string, string>();

  private id(prefix: string): string {
    return `${prefix}${++this.count}`;
  }

  private temp(scope: Scope): string {
    const t = this.id('t');
    scope.fn.declarations.push(t);
    return t;
  }

  /**
   * A field read, inlined so that each read site keeps its own inline cache (one shared helper
   * sees every mapping's object shapes and goes megamorphic); anything but a plain object takes
   * the helper (arrays hand the evaluation to the interpreter).
   */
  private field(from: string, key: string, scope: Scope): string {
    const k = JSON.stringify(key);
    if (key in Object.prototype || key === '_jsonata_function' || key === '_jsonata_lambda') return `rt.field(${from}, ${k})`;
    const o = this.temp(scope);
    const v = this.temp(scope);
    return `((${o} = ${from}) !== null && typeof ${o} === 'object' && !Array.isArray(${o}) && ${o}._jsonata_function !== true && ${o}._jsonata_lambda !== true ? ((${v} = ${o}[${k}]) === undefined || hasOwn.call(${o}, ${k}) ? ${v} : undefined) : rt.field(${o}, ${k}))`;
  }

  /** A variable's value as data: functions and flagged arrays go through the helper's checks. */
  private data(read: string, scope: Scope): string {
    const t = this.temp(scope);
    return `((${t} = ${read}) === null || (typeof ${t} !== 'object' && typeof ${t} !== 'function') ? ${t} : rt.value(${t}))`;
  }

  program(ast: AstNode): string {
    const fn: FunctionScope = { declarations: [], input: 'input' };
    const root: Scope = { variables: new Map(), bound: new Set(), fn };
    const body = this.expression(ast, root);
    const free = [...this.freeVariables].map(([name, ident]) => `const ${ident} = rt.free(bindings, ${JSON.stringify(name)});`);
    return [
      'return function compiledMapping(input, bindings) {',
      // A top-level array is one value to jsonata (its outer wrapper): the interpreter's case.
      '  if (Array.isArray(input)) rt.deopt();',
      ...free.map((l) => `  ${l}`),
      fn.declarations.length ? `  let ${fn.declarations.join(', ')};` : '',
      `  return ${body};`,
      '};',
    ].join('\n');
  }

  private expression(node: AstNode, scope: Scope): string {
    switch (node.type) {
      case 'string':
      case 'value':
        only(node, ['type', 'value', 'position']);
        return JSON.stringify(node.value);
      case 'number':
        only(node, ['type', 'value', 'position']);
        if (!Number.isFinite(node.value)) throw new CompileError('an infinite number literal', node.position);
        return Object.is(node.value, -0) ? '(-0)' : `(${JSON.stringify(node.value)})`;
      case 'path':
        return this.path(node, scope);
      case 'variable':
        only(node, ['type', 'value', 'position', 'predicate']);
        return this.predicates(node, this.data(this.read(node, scope), scope), scope);
      case 'binary':
        return this.binary(node, scope);
      case 'unary':
        return this.unary(node, scope);
      case 'condition': {
        only(node, ['type', 'position', 'condition', 'then', 'else']);
        const condition = this.expression(node.condition, scope);
        const then = this.expression(node.then, scope);
        const otherwise = node.else === undefined ? 'undefined' : this.expression(node.else, scope);
        return `(rt.boolean(${condition}) ? ${then} : ${otherwise})`;
      }
      case 'block':
        return this.block(node, scope);
      case 'function':
        return this.call(node, scope);
      case 'lambda':
        // jsonata's parser wraps a lambda's tail call in a thunk (for its trampoline); called in
        // place it gives the same value and the same error, only the error's position can differ.
        if (node.thunk === true && node.body?.type === 'function' && !(node.arguments ?? []).length) return this.call(node.body, scope);
        throw new CompileError('a function defined outside a binding is not compiled', node.position);
      default:
        throw new CompileError(`a ${node.type === 'bind' ? 'variable binding outside a block' : node.type === 'lambda' ? 'function defined outside a binding' : `${node.type} expression`} is not compiled`, node.position);
    }
  }

  /** A variable's value: the nearest frame that has bound it, else the caller's binding or the built-in. */
  private read(node: AstNode, scope: Scope): string {
    const name: string = node.value;
    if (name === '' || name === '$') throw new CompileError(`$${name} (the context or root) is not compiled`, node.position);
    const chain: Array<{ ident: string; definite: boolean }> = [];
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const ident = s.variables.get(name);
      if (ident === undefined) continue;
      chain.push({ ident, definite: s.bound.has(name) });
      if (s.bound.has(name)) break;
    }
    let code: string;
    if (chain.length && chain[chain.length - 1].definite) code = chain.pop()!.ident;
    else {
      if (ALL_JSONATA_BUILTINS.has(name) && !COMPILED.has(name)) throw new CompileError(`$${name} is left to the interpreter`, node.position);
      let ident = this.freeVariables.get(name);
      if (!ident) {
        ident = this.id('free');
        this.freeVariables.set(name, ident);
      }
      code = ident;
    }
    for (let i = chain.length - 1; i >= 0; i--) code = `(${chain[i].ident} !== U ? ${chain[i].ident} : ${code})`;
    return code;
  }

  private isFreeBuiltin(name: string, scope: Scope): boolean {
    for (let s: Scope | undefined = scope; s; s = s.parent) if (s.variables.has(name)) return false;
    return COMPILED.has(name);
  }

  private predicates(node: AstNode, value: string, scope: Scope, key = 'predicate'): string {
    const predicates: AstNode[] | undefined = node[key];
    if (!predicates) return value;
    if (predicates.length !== 1 || predicates[0].type !== 'filter') throw new CompileError('more than one predicate, or a sort or index stage, is not compiled', node.position);
    const predicate = predicates[0].expr;
    if (predicate.type === 'number') return `rt.index(${value}, ${JSON.stringify(predicate.value)})`;
    const fn: FunctionScope = { declarations: [], input: this.id('item') };
    const inner: Scope = { variables: new Map(), bound: new Set(), parent: scope, fn };
    const body = this.expression(predicate, inner);
    const declarations = fn.declarations.length ? `let ${fn.declarations.join(', ')}; ` : '';
    return `rt.filter(${value}, function (${fn.input}) { ${declarations}return ${body}; })`;
  }

  private path(node: AstNode, scope: Scope): string {
    only(node, ['type', 'steps', 'position']);
    const steps: AstNode[] = node.steps;
    let code: string;
    steps.forEach((step, i) => {
      const last = i === steps.length - 1;
      if (i === 0 && step.type === 'variable') {
        only(step, ['type', 'value', 'position', 'predicate']);
        code = this.predicates(step, this.data(this.read(step, scope), scope), scope);
        return;
      }
      if (step.type !== 'name') throw new CompileError(`a ${step.type} step in a path is not compiled`, step.position);
      only(step, ['type', 'value', 'position', 'stages']);
      if (step.stages && !last) throw new CompileError('a predicate before the last step of a path is not compiled', step.position);
      const from = i === 0 ? scope.fn.input : code;
      code = this.predicates(step, this.field(from, step.value, scope), scope, 'stages');
      // jsonata stops a path at the first step that gives nothing: a later step's predicate is then not evaluated.
      if (i > 0 && step.stages && code.startsWith('rt.filter(')) code = `(${from} === undefined ? undefined : ${code})`;
    });
    return code!;
  }

  private binary(node: AstNode, scope: Scope): string {
    only(node, ['type', 'value', 'position', 'lhs', 'rhs']);
    const op: string = node.value;
    const lhs = this.expression(node.lhs, scope);
    const rhs = this.expression(node.rhs, scope);
    if (op === 'and') return `(rt.boolean(${lhs}) ? rt.boolean(${rhs}) : false)`;
    if (op === 'or') return `(rt.boolean(${lhs}) ? true : rt.boolean(${rhs}))`;
    if (op === '=') return `rt.equal(${lhs}, ${rhs})`;
    if (op === '!=') return `rt.notEqual(${lhs}, ${rhs})`;
    if (op === '&') return `rt.concat(${lhs}, ${rhs})`;
    if (op === 'in') return `rt.includes(${lhs}, ${rhs})`;
    if (COMPARISONS.has(op)) return `rt.compare(${lhs}, ${rhs}, ${JSON.stringify(op)})`;
    if (ARITHMETIC.has(op)) return `rt.arithmetic(${lhs}, ${rhs}, ${JSON.stringify(op)})`;
    throw new CompileError(`the operator ${op} is not compiled`, node.position);
  }

  private unary(node: AstNode, scope: Scope): string {
    if (node.value === '-') {
      only(node, ['type', 'value', 'position', 'expression']);
      return `rt.negate(${this.expression(node.expression, scope)})`;
    }
    if (node.value === '[') {
      only(node, ['type', 'value', 'position', 'expressions']);
      const items: AstNode[] = node.expressions;
      const values = items.map((item) => this.expression(item, scope));
      return `rt.arrayItems([${values.join(', ')}], ${JSON.stringify(items.map((item) => item.value === '['))})`;
    }
    if (node.value === '{') {
      only(node, ['type', 'value', 'position', 'lhs']);
      const keys = new Set<string>();
      const parts: string[] = [];
      const object = this.id('object');
      const value = this.id('value');
      scope.fn.declarations.push(object, value);
      for (const [keyNode, valueNode] of node.lhs as AstNode[][]) {
        if (keyNode.type !== 'string') throw new CompileError('an object key that is not a string literal is not compiled', keyNode.position);
        const key: string = keyNode.value;
        if (keys.has(key) || key === '__proto__' || key === '_jsonata_lambda' || key === '_jsonata_function') {
          throw new CompileError(`the object key "${key}" (repeated or reserved) is not compiled`, keyNode.position);
        }
        keys.add(key);
        parts.push(`(${value} = ${this.expression(valueNode, scope)}) !== undefined && (${object}[${JSON.stringify(key)}] = ${value})`);
      }
      // An array context makes jsonata group its items by key: the interpreter's case.
      return `(Array.isArray(${scope.fn.input}) && rt.deopt(), ${object} = {}, ${parts.length ? parts.join(', ') + ', ' : ''}${object})`;
    }
    throw new CompileError(`the unary operator ${node.value} is not compiled`, node.position);
  }

  private block(node: AstNode, scope: Scope): string {
    only(node, ['type', 'position', 'expressions']);
    const frame: Scope = { variables: new Map(), bound: new Set(), parent: scope, fn: scope.fn };
    for (const expression of node.expressions as AstNode[]) {
      if (expression.type === 'bind' && !frame.variables.has(expression.lhs.value)) {
        const ident = this.id('var');
        frame.variables.set(expression.lhs.value, ident);
        scope.fn.declarations.push(`${ident} = U`);
      }
    }
    const parts: string[] = [];
    for (const expression of node.expressions as AstNode[]) {
      if (expression.type !== 'bind') {
        parts.push(this.expression(expression, frame));
        continue;
      }
      only(expression, ['type', 'value', 'position', 'lhs', 'rhs']);
      const name: string = expression.lhs.value;
      const rhs = expression.rhs.type === 'lambda' ? this.lambda(expression.rhs, frame) : this.expression(expression.rhs, frame);
      parts.push(`(${frame.variables.get(name)} = ${rhs})`);
      frame.bound.add(name);
    }
    return parts.length ? `(${parts.join(', ')})` : 'undefined';
  }

  private lambda(node: AstNode, scope: Scope): string {
    only(node, ['type', 'position', 'arguments', 'body', 'thunk']);
    const fn: FunctionScope = { declarations: [], input: scope.fn.input };
    const frame: Scope = { variables: new Map(), bound: new Set(), parent: scope, fn };
    const params = (node.arguments as AstNode[]).map((arg) => {
      const ident = this.id('arg');
      frame.variables.set(arg.value, ident);
      frame.bound.add(arg.value);
      return ident;
    });
    const body = this.expression(node.body, frame);
    const declarations = fn.declarations.length ? `let ${fn.declarations.join(', ')}; ` : '';
    return `rt.lambda(function (${params.join(', ')}) { ${declarations}return ${body}; })`;
  }

  private call(node: AstNode, scope: Scope): string {
    only(node, ['type', 'value', 'position', 'procedure', 'arguments', 'predicate']);
    const procedure: AstNode = node.procedure;
    if (procedure.type !== 'variable') throw new CompileError('a call of anything but a $variable is not compiled', node.position);
    const name: string = procedure.value;
    const fn = this.read(procedure, scope);
    const args = (node.arguments as AstNode[]).map((arg) => this.expression(arg, scope));
    const input = scope.fn.input;
    let generic = `rt.call(${fn}, [${args.join(', ')}], ${input}, ${JSON.stringify(name)})`;
    if (!this.isFreeBuiltin(name, scope)) {
      // A lambda of the mapping is called directly (its own call site, no argument array).
      const f = this.temp(scope);
      generic = `(typeof (${f} = ${fn}) === 'function' && ${f}[L] === true ? ${f}(${args.join(', ')}) : rt.call(${f}, [${args.join(', ')}], ${input}, ${JSON.stringify(name)}))`;
    }
    let code = generic;
    if (this.isFreeBuiltin(name, scope) && FAST_BUILTINS[name] === args.length) {
      const fast = WITH_CONTEXT.has(name) ? `rt.${name}(${args.join(', ')}, ${input})` : `rt.${name}(${args.join(', ')})`;
      code = `(${fn} === rt.builtins.${name} ? ${fast} : ${generic})`;
    }
    return this.predicates(node, code, scope);
  }
}

/** The generated source of a JSONata expression (for reading and debugging). Throws CompileError. */
export function generateSource(expression: string | AstNode): string {
  const ast = typeof expression === 'string' ? jsonata(expression).ast() : expression;
  return new Generator().program(ast as AstNode);
}

/**
 * Compiles a JSONata expression to a function of (input, bindings). The function is synchronous
 * and throws DEOPT when this evaluation must be left to the interpreter; use CompiledExpression
 * for the fallback. Throws CompileError for an expression the compiler does not cover.
 */
export function compileJsonata(expression: string | AstNode): CompiledFunction {
  const source = generateSource(expression);
  // new Function on purpose: the source is generated from the mapping's syntax tree, never from input data.
  return new Function('rt', 'U', 'L', 'hasOwn', source)(runtime, UNBOUND, COMPILED_LAMBDA, Object.prototype.hasOwnProperty) as CompiledFunction;
}

export interface EvaluationCounts {
  /** Evaluations the compiled function finished. */
  compiled: number;
  /** Evaluations handed to the interpreter (an unexpected shape, or an error to report as jsonata does). */
  interpreted: number;
}

/**
 * A JSONata expression with its compiled function when there is one. evaluate() runs the
 * compiled function and falls back to the interpreter for a DEOPT; when the compiled function
 * throws, the interpreter runs too, so that the error (message, position, token) is exactly
 * jsonata's: errors are the rare path, and mappings are pure.
 */
export class CompiledExpression {
  readonly compiled?: CompiledFunction;
  /** Why the expression runs on the interpreter, when it does. */
  readonly compileProblem?: string;
  readonly counts: EvaluationCounts = { compiled: 0, interpreted: 0 };

  constructor(readonly interpreter: jsonata.Expression, options: { compile?: boolean } = {}) {
    if (options.compile === false) {
      this.compileProblem = 'compilation is switched off';
      return;
    }
    try {
      this.compiled = compileJsonata(interpreter.ast() as AstNode);
    } catch (err) {
      this.compileProblem = (err as Error).message;
    }
  }

  async evaluate(input: unknown, bindings: Record<string, unknown>): Promise<unknown> {
    if (this.compiled) {
      if (!builtinsLoaded()) await builtinsReady;
      try {
        const result = this.compiled(input, bindings);
        this.counts.compiled++;
        return result;
      } catch {
        // DEOPT, or an error: the interpreter decides (and throws its own error, if any).
      }
    }
    this.counts.interpreted++;
    return this.interpreter.evaluate(input, bindings);
  }
}
