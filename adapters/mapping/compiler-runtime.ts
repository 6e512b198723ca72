import jsonata from 'jsonata';

/**
 * What compiled mappings call at run time: JSONata's operators and the checks that keep a
 * compiled evaluation on the shapes it was written for. Each helper does what jsonata 2.x's
 * evaluator does for the same operator (read in node_modules/jsonata/jsonata.js); where a value
 * takes a shape the fast path does not handle (an array where a path expects an object, a
 * function used as a value, a promise from a bound function), the helper throws DEOPT and the
 * whole evaluation is run again by the interpreter, which is safe because mappings are pure.
 */

/** Thrown by compiled code to hand this one evaluation to the jsonata interpreter. */
export const DEOPT: { readonly deopt: true } = Object.freeze({ deopt: true });
/** A frame variable not bound yet: a read falls through to the enclosing frame, as in jsonata. */
export const UNBOUND: unique symbol = Symbol('unbound');

const hasOwn = Object.prototype.hasOwnProperty;

/** JSONata's built-in function definitions ({implementation, signature}), taken from jsonata itself. */
export type BuiltinDefinition = { _jsonata_function: true; implementation: (...args: unknown[]) => unknown; signature?: { validate(args: unknown[], context: unknown): unknown[] } };

/**
 * The built-ins a compiled mapping may call: deterministic, synchronous and not higher-order
 * ($map, $eval, $now... take functions, an environment or the clock; $contains, $match, $split and
 * $replace are asynchronous in jsonata 2.x: the interpreter runs those).
 */
export const COMPILED_BUILTINS = [
  'sum', 'count', 'max', 'min', 'average', 'string', 'substring', 'substringBefore', 'substringAfter', 'lowercase', 'uppercase',
  'length', 'trim', 'pad', 'join', 'formatNumber', 'formatBase', 'formatInteger', 'parseInteger', 'number', 'floor',
  'ceil', 'round', 'abs', 'sqrt', 'power', 'boolean', 'not', 'keys', 'lookup', 'append', 'exists', 'spread', 'merge', 'reverse',
  'error', 'assert', 'type', 'distinct', 'encodeUrlComponent', 'encodeUrl', 'decodeUrlComponent', 'decodeUrl', 'toMillis', 'fromMillis',
] as const;

/** Every name jsonata 2.x binds as a function: a compiled mapping must not mistake one for an unbound variable. */
export const ALL_JSONATA_BUILTINS = new Set<string>([
  ...COMPILED_BUILTINS, 'contains', 'match', 'replace', 'split', 'random', 'map', 'zip', 'filter', 'single', 'reduce', 'sift', 'each', 'sort',
  'shuffle', 'eval', 'clone', 'now', 'millis',
]);

export const builtins: Record<string, BuiltinDefinition> = {};
const builtinDefinitions = new Set<unknown>();
let loaded = false;
/** jsonata exposes its built-ins only through evaluation (async), so they are fetched once at start. */
export const builtinsReady: Promise<void> = (async () => {
  for (const name of COMPILED_BUILTINS) builtins[name] = (await jsonata(`$${name}`).evaluate({})) as BuiltinDefinition;
  for (const definition of Object.values(builtins)) builtinDefinitions.add(definition);
  loaded = true;
})();
export const builtinsLoaded = () => loaded;

function deopt(): never {
  throw DEOPT;
}

function isJsonataFunction(v: unknown): boolean {
  return typeof v === 'function' || (v !== null && typeof v === 'object' && ((v as any)._jsonata_function === true || (v as any)._jsonata_lambda === true));
}

/** jsonata's isNumeric: a number that is not NaN; an infinite one is error D1001. */
function isNumeric(n: unknown): n is number {
  if (typeof n !== 'number' || Number.isNaN(n)) return false;
  if (!Number.isFinite(n)) throw { code: 'D1001', value: n, stack: new Error().stack };
  return true;
}

function createSequence(...items: unknown[]): unknown[] {
  const sequence: unknown[] & { sequence?: boolean } = [];
  sequence.sequence = true;
  if (items.length === 1) sequence.push(items[0]);
  return sequence;
}

/** What jsonata's evaluate() does to every result: an empty sequence is nothing, a singleton its item. */
function unsequence(value: unknown): unknown {
  if (Array.isArray(value) && (value as any).sequence === true) {
    if ((value as any).keepSingleton || (value as any).tupleStream) deopt();
    if (value.length === 0) return undefined;
    if (value.length === 1) return value[0];
  }
  return value;
}

export function boolean(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'number':
      return isNumeric(v) && v !== 0;
    case 'boolean':
      return v;
    case 'object':
      if (Array.isArray(v)) {
        if (v.length === 1) return boolean(v[0]);
        return v.length > 1 && v.some((item) => boolean(item));
      }
      return !isJsonataFunction(v) && Object.keys(v).length > 0;
    default:
      return false;
  }
}

/** A field of an object (a name step of a path); an array would make it a mapping over items: the interpreter's. */
export function field(o: unknown, key: string): unknown {
  if (o === null || typeof o !== 'object') return undefined;
  if (Array.isArray(o)) deopt();
  if ((o as any)._jsonata_function === true || (o as any)._jsonata_lambda === true) return undefined;
  return hasOwn.call(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/** A variable's value used as data: a function there (printed as "", compared...) is left to the interpreter. */
export function value(v: unknown): unknown {
  if (typeof v === 'function' || (v !== null && typeof v === 'object' && !Array.isArray(v) && ((v as any)._jsonata_function === true || (v as any)._jsonata_lambda === true))) deopt();
  if (Array.isArray(v) && ((v as any).keepSingleton || (v as any).outerWrapper || (v as any).tupleStream || (v as any).cons)) deopt();
  return v;
}

/** A binding or a built-in, as jsonata's frames resolve a name no block binds: the caller's bindings first. */
export function free(bindings: Record<string, unknown>, name: string): unknown {
  if (bindings && hasOwn.call(bindings, name)) return bindings[name];
  if (hasOwn.call(builtins, name)) return builtins[name];
  if (ALL_JSONATA_BUILTINS.has(name)) deopt();
  return undefined;
}

/** `value[n]` with a number literal: jsonata's evaluateFilter for a numeric predicate. */
export function index(v: unknown, n: number): unknown {
  const items = Array.isArray(v) ? v : [v];
  let i = Math.floor(n);
  if (i < 0) i = items.length + i;
  const item = items[i];
  if (item === undefined) return undefined;
  if (Array.isArray(item)) {
    if ((item as any).sequence) deopt();
    return item;
  }
  return item;
}

/** `value[predicate]`: items whose predicate is true, or whose position the predicate names. */
export function filter(v: unknown, predicate: (item: unknown) => unknown): unknown {
  const items = Array.isArray(v) ? v : [v];
  const results: unknown[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    let res = predicate(item);
    if (isNumeric(res)) res = [res];
    if (Array.isArray(res) && res.every((r) => isNumeric(r))) {
      for (const r of res as number[]) {
        let at = Math.floor(r);
        if (at < 0) at = items.length + at;
        if (at === i) results.push(item);
      }
    } else if (boolean(res)) results.push(item);
  }
  if (results.length === 0) return undefined;
  if (results.length === 1) return results[0];
  return Object.assign(results, { sequence: true });
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  const ak = Object.getOwnPropertyNames(a).sort();
  const bk = Object.getOwnPropertyNames(b).sort();
  if (ak.length !== bk.length) return false;
  for (let i = 0; i < ak.length; i++) if (ak[i] !== bk[i]) return false;
  for (const k of ak) if (!deepEqual((a as any)[k], (b as any)[k])) return false;
  return true;
}

export function equal(a: unknown, b: unknown): boolean {
  return a !== undefined && b !== undefined && deepEqual(a, b);
}

export function notEqual(a: unknown, b: unknown): boolean {
  return a !== undefined && b !== undefined && !deepEqual(a, b);
}

export function compare(a: unknown, b: unknown, op: '<' | '<=' | '>' | '>='): boolean | undefined {
  const at = typeof a;
  const bt = typeof b;
  const aOk = at === 'undefined' || at === 'string' || at === 'number';
  const bOk = bt === 'undefined' || bt === 'string' || bt === 'number';
  if (!aOk || !bOk) throw { code: 'T2010', token: op, value: !(at === 'string' || at === 'number') ? a : b, stack: new Error().stack };
  if (at === 'undefined' || bt === 'undefined') return undefined;
  if (at !== bt) throw { code: 'T2009', token: op, value: a, value2: b, stack: new Error().stack };
  const x = a as number;
  const y = b as number;
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

export function arithmetic(a: unknown, b: unknown, op: '+' | '-' | '*' | '/' | '%'): number | undefined {
  if (a !== undefined && !isNumeric(a)) throw { code: 'T2001', token: op, value: a, stack: new Error().stack };
  if (b !== undefined && !isNumeric(b)) throw { code: 'T2002', token: op, value: b, stack: new Error().stack };
  if (a === undefined || b === undefined) return undefined;
  const x = a as number;
  const y = b as number;
  return op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : op === '/' ? x / y : x % y;
}

export function negate(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (isNumeric(v)) return -v;
  throw { code: 'D1002', token: '-', value: v, stack: new Error().stack };
}

export function includes(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  const items = Array.isArray(b) ? b : [b];
  for (let i = 0; i < items.length; i++) if (items[i] === a) return true;
  return false;
}

/** jsonata's $string (and the `&` operator's casting): text as is, anything else as JSONata prints it. */
export function string(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v === undefined) return undefined;
  if (isJsonataFunction(v)) deopt();
  return builtins.string.implementation(v) as string;
}

export function concat(a: unknown, b: unknown): string {
  return (a === undefined ? '' : (string(a) as string)) + (b === undefined ? '' : (string(b) as string));
}

/** jsonata's $trim: runs of whitespace become one space, then one leading and trailing space go. */
export function trim(v: unknown): string | undefined {
  if (typeof v !== 'string') return callBuiltin('trim', [v], undefined);
  let s = v.replace(/[ \t\n\r]+/gm, ' ');
  if (s.charAt(0) === ' ') s = s.substring(1);
  if (s.charAt(s.length - 1) === ' ') s = s.substring(0, s.length - 1);
  return s;
}

export function exists(v: unknown): boolean {
  return v !== undefined;
}

export function not(v: unknown): boolean | undefined {
  return v === undefined ? undefined : !boolean(v);
}

export function lookup(o: unknown, key: unknown, input: unknown): unknown {
  if (typeof key === 'string' && o !== null && typeof o === 'object' && !Array.isArray(o) && !isJsonataFunction(o)) {
    return hasOwn.call(o, key) ? (o as Record<string, unknown>)[key] : undefined;
  }
  return callBuiltin('lookup', [o, key], input);
}

// jsonata checks each built-in's arguments against its signature with a regular expression on
// every call; for the argument types a mapping normally passes, these give the same answer
// without it, and anything else goes to jsonata's implementation (and its errors).

export function keys(o: unknown, input: unknown): unknown {
  if (o !== null && typeof o === 'object' && !Array.isArray(o) && !isJsonataFunction(o)) {
    const names = Object.keys(o);
    return names.length === 0 ? undefined : names.length === 1 ? names[0] : Object.assign(names, { sequence: true });
  }
  return callBuiltin('keys', [o], input);
}

export function join(items: unknown, separator: unknown, input: unknown): unknown {
  if (Array.isArray(items) && typeof separator === 'string' && items.every((item) => typeof item === 'string')) return items.join(separator);
  return callBuiltin('join', [items, separator], input);
}

export function type(v: unknown, input: unknown): unknown {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number' && Number.isFinite(v)) return 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (v === null) return 'null';
  if (v === undefined) return undefined;
  return callBuiltin('type', [v], input);
}

export function floor(v: unknown, input: unknown): unknown {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.floor(v);
  return callBuiltin('floor', [v], input);
}

/** A plain grouped picture: "#,##0" or "#,##0.00" (what money and counts use). */
const GROUPED_PICTURE = /^#,##0(?:\.(0+))?$/;

/**
 * jsonata's $formatNumber parses its picture on every call; for a plain grouped picture and a
 * number of ordinary size, the same text is jsonata's own $round (half to even) then the digits.
 * Anything else (other pictures, options, zero's sign, huge numbers) is jsonata's implementation.
 */
export function formatNumber(v: unknown, picture: unknown, input: unknown): string | undefined {
  if (typeof v === 'number' && typeof picture === 'string' && Number.isFinite(v) && Math.abs(v) < 1e15) {
    const match = GROUPED_PICTURE.exec(picture);
    if (match) {
      const decimals = match[1] ? match[1].length : 0;
      const rounded = builtins.round.implementation(v, decimals) as number;
      if (rounded !== 0) {
        const [whole, fraction] = Math.abs(rounded).toFixed(decimals).split('.');
        return (rounded < 0 ? '-' : '') + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (fraction ? `.${fraction}` : '');
      }
    }
  }
  return callBuiltin('formatNumber', [v, picture], input);
}

/** Any other built-in: jsonata's own implementation, with its signature check (T0410...). */
export function callBuiltin(name: string, args: unknown[], input: unknown): any {
  const definition = builtins[name];
  if (!definition) deopt();
  return applyBuiltin(definition, args, input, name);
}

function applyBuiltin(definition: BuiltinDefinition, args: unknown[], input: unknown, name: string): unknown {
  for (const arg of args) if (isJsonataFunction(arg)) deopt();
  try {
    const validated = definition.signature ? definition.signature.validate(args, input) : args;
    const focus = { input, environment: undefined, options: undefined, createSequence };
    const result = definition.implementation.apply(focus, validated);
    if (result && typeof (result as any).then === 'function') deopt();
    return unsequence(result);
  } catch (err) {
    if (err && typeof err === 'object' && (err as any).token === undefined && err !== DEOPT) (err as any).token = name;
    throw err;
  }
}

export const COMPILED_LAMBDA = Symbol('compiled lambda');
type CompiledLambda = ((...args: unknown[]) => unknown) & { [COMPILED_LAMBDA]?: true };

export function lambda(fn: (...args: unknown[]) => unknown): CompiledLambda {
  (fn as CompiledLambda)[COMPILED_LAMBDA] = true;
  return fn;
}

/** Calls whatever a `$name(...)` names: a lambda of the mapping, a built-in, or a bound function. */
export function call(fn: unknown, args: unknown[], input: unknown, name: string): unknown {
  if (typeof fn === 'function') {
    if ((fn as CompiledLambda)[COMPILED_LAMBDA]) {
      try {
        return fn(...args);
      } catch (err) {
        if (err && typeof err === 'object' && (err as any).token === undefined && err !== DEOPT) (err as any).token = name;
        throw err;
      }
    }
    for (const arg of args) if (isJsonataFunction(arg)) deopt();
    let result: unknown;
    try {
      result = fn.apply(input, args);
    } catch (err) {
      if (err && typeof err === 'object' && !(err as any).token) (err as any).token = name;
      throw err;
    }
    if (result && typeof (result as any).then === 'function') deopt();
    return unsequence(result);
  }
  if (fn !== null && typeof fn === 'object' && (fn as any)._jsonata_function === true) {
    if (!builtinDefinitions.has(fn)) deopt();
    return applyBuiltin(fn as BuiltinDefinition, args, input, name);
  }
  if (fn !== null && typeof fn === 'object' && (fn as any)._jsonata_lambda === true) deopt();
  throw { code: 'T1006', token: name, stack: new Error().stack };
}

/** `[a, b]`: each item that is an array is spread into the result, except a nested `[...]`. */
export function arrayItems(values: unknown[], nested: boolean[]): unknown[] {
  let result: unknown[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === undefined) continue;
    if (nested[i] || !Array.isArray(v)) result.push(v);
    else result = result.concat(v);
  }
  return result;
}

export const runtime = {
  DEOPT, UNBOUND, deopt, boolean, field, value, free, index, filter, equal, notEqual, compare, arithmetic, negate, includes,
  string, concat, trim, exists, not, lookup, keys, join, type, floor, formatNumber, callBuiltin, lambda, call, arrayItems, builtins,
};
export type Runtime = typeof runtime;
