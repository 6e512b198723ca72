import type { WSDL } from 'soap';

/**
 * Checks a parsed request against its operation's input element in the WSDL: required
 * elements present and not empty, no element twice where the schema allows one, no
 * element the schema does not know, enumerations, patterns and lengths of simple types,
 * and numbers and booleans of the built-in types. The soap package's server checks none
 * of this; the hub answers every problem with a fault that names the element.
 *
 * It understands the schema constructs the council's WSDLs use (sequence, all, choice,
 * named and anonymous complex and simple types, restriction facets, element refs);
 * anything else (extensions, any, groups) is accepted unchecked rather than refused.
 */

interface SchemaNode {
  name: string;
  children?: SchemaNode[];
  $name?: string;
  $type?: string;
  $ref?: string;
  $base?: string;
  $value?: string;
  $minOccurs?: string;
  $maxOccurs?: string;
  $targetNamespace?: string;
}

interface Schema {
  elements: Record<string, SchemaNode>;
  complexTypes: Record<string, SchemaNode>;
  types: Record<string, SchemaNode>;
}

const XSD_NAMESPACE = 'http://www.w3.org/2001/XMLSchema';

/** Keys the soap package adds to parsed objects that are not elements. */
const NOT_ELEMENTS = new Set(['attributes', '$value', '$xml']);

const INTEGER_TYPES = new Set(['int', 'integer', 'short', 'long', 'byte', 'nonNegativeInteger', 'positiveInteger', 'unsignedInt', 'unsignedLong', 'unsignedShort']);
const DECIMAL_TYPES = new Set(['decimal', 'double', 'float']);
const BOOLEAN_TYPES = new Set(['boolean', 'bool']);

function localName(qname: string): string {
  return qname.slice(qname.indexOf(':') + 1);
}

function prefixOf(qname: string): string | undefined {
  const colon = qname.indexOf(':');
  return colon < 0 ? undefined : qname.slice(0, colon);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value) : typeof value;
}

class RequestChecker {
  private readonly schemas: Schema[];
  private readonly xsdPrefixes: Set<string>;
  readonly problems: string[] = [];

  constructor(private readonly wsdl: WSDL) {
    const definitions = wsdl.definitions as any;
    this.schemas = Object.values(definitions.schemas ?? {}) as Schema[];
    const xmlns: Record<string, string> = { ...(definitions.xmlns ?? {}) };
    for (const schema of Object.values(definitions.schemas ?? {}) as any[]) Object.assign(xmlns, schema.xmlns ?? {}, schema.schemaXmlns ?? {});
    this.xsdPrefixes = new Set(Object.keys(xmlns).filter((prefix) => xmlns[prefix] === XSD_NAMESPACE));
    this.xsdPrefixes.add('xsd').add('xs');
  }

  private find(kind: keyof Schema, qname: string, namespace?: string): SchemaNode | undefined {
    const name = localName(qname);
    const definitions = this.wsdl.definitions as any;
    const preferred = namespace ? (definitions.schemas?.[namespace] as Schema | undefined) : undefined;
    return preferred?.[kind][name] ?? this.schemas.map((s) => s[kind][name]).find(Boolean);
  }

  checkOperation(element: SchemaNode, args: unknown) {
    this.checkElementValue(element, args, element.$name ?? 'request');
  }

  private checkElementValue(element: SchemaNode, value: unknown, path: string) {
    if (element.$type) {
      const type = element.$type;
      const prefix = prefixOf(type);
      if (prefix !== undefined && this.xsdPrefixes.has(prefix)) return this.checkBuiltin(localName(type), value, path);
      const complex = this.find('complexTypes', type, element.$targetNamespace);
      if (complex) return this.checkComplex(complex, value, path);
      const simple = this.find('types', type, element.$targetNamespace);
      if (simple) return this.checkSimple(simple, value, path);
      return; // a type this checker does not know: accepted unchecked
    }
    const inline = element.children?.find((c) => c.name === 'complexType' || c.name === 'simpleType');
    if (inline?.name === 'complexType') return this.checkComplex(inline, value, path);
    if (inline?.name === 'simpleType') return this.checkSimple(inline, value, path);
  }

  /** The element declarations a complex type's content allows, and whether each is optional by construction (choice). */
  private particles(complex: SchemaNode): Array<{ element: SchemaNode; inChoice: boolean }> | undefined {
    const out: Array<{ element: SchemaNode; inChoice: boolean }> = [];
    let understood = true;
    const walk = (node: SchemaNode, inChoice: boolean) => {
      for (const child of node.children ?? []) {
        if (child.name === 'element') out.push({ element: child.$ref ? { ...(this.find('elements', child.$ref) ?? child), $minOccurs: child.$minOccurs, $maxOccurs: child.$maxOccurs } : child, inChoice });
        else if (child.name === 'sequence' || child.name === 'all') walk(child, inChoice);
        else if (child.name === 'choice') walk(child, true);
        else if (child.name !== 'attribute' && child.name !== 'annotation' && child.name !== 'documentation') understood = false;
      }
    };
    walk(complex, false);
    return understood ? out : undefined;
  }

  private checkComplex(complex: SchemaNode, value: unknown, path: string) {
    const particles = this.particles(complex);
    if (!particles) return;
    if (value === undefined || value === null || value === '') value = {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problems.push(`${path} must contain elements, not ${show(value)}`);
      return;
    }
    const object = value as Record<string, unknown>;
    const known = new Set<string>();
    for (const { element, inChoice } of particles) {
      const name = element.$name;
      if (!name) continue;
      known.add(name);
      const childPath = `${path}.${name}`;
      const child = Object.prototype.hasOwnProperty.call(object, name) ? object[name] : undefined;
      const required = !inChoice && element.$minOccurs !== '0';
      const many = element.$maxOccurs === 'unbounded' || Number(element.$maxOccurs ?? '1') > 1;
      if (isEmpty(child) || (Array.isArray(child) && child.length === 0)) {
        if (required) this.problems.push(`${childPath} is required`);
        continue;
      }
      if (Array.isArray(child) && !many) {
        this.problems.push(`${childPath} appears ${child.length} times; the WSDL allows one`);
        continue;
      }
      for (const item of Array.isArray(child) ? child : [child]) this.checkElementValue(element, item, childPath);
    }
    for (const key of Object.keys(object)) {
      if (!known.has(key) && !NOT_ELEMENTS.has(key)) this.problems.push(`${path}.${key} is not an element of ${path}`);
    }
  }

  private checkSimple(simple: SchemaNode, value: unknown, path: string) {
    const restriction = simple.children?.find((c) => c.name === 'restriction');
    if (!restriction) return;
    if (restriction.$base) {
      const prefix = prefixOf(restriction.$base);
      if (prefix !== undefined && this.xsdPrefixes.has(prefix)) {
        if (!this.checkBuiltin(localName(restriction.$base), value, path)) return;
      }
    }
    const facets = restriction.children ?? [];
    const text = String(value);
    const allowed = facets.filter((f) => f.name === 'enumeration').map((f) => f.$value ?? '');
    if (allowed.length && !allowed.includes(text)) {
      this.problems.push(`${path} must be one of ${allowed.join(', ')} (got ${show(value)})`);
      return;
    }
    const patterns = facets.filter((f) => f.name === 'pattern').map((f) => f.$value ?? '');
    // XSD patterns match the whole value; a pattern JavaScript cannot compile is skipped, not fatal
    const failed = patterns.find((p) => {
      try {
        return !new RegExp(`^(?:${p})$`, 'u').test(text);
      } catch {
        return false;
      }
    });
    if (failed !== undefined) {
      const typeName = simple.$name ? `${simple.$name}, ` : '';
      this.problems.push(`${path} is not valid (${typeName}pattern ${failed}; got ${show(value)})`);
      return;
    }
    for (const facet of facets) {
      const limit = Number(facet.$value);
      if (facet.name === 'maxLength' && text.length > limit) this.problems.push(`${path} is longer than ${limit} characters`);
      if (facet.name === 'minLength' && text.length < limit) this.problems.push(`${path} is shorter than ${limit} characters`);
      if (facet.name === 'length' && text.length !== limit) this.problems.push(`${path} must be ${limit} characters long`);
    }
  }

  /** Checks a value of a built-in XSD type; false when it is wrong (already reported). */
  private checkBuiltin(type: string, value: unknown, path: string): boolean {
    if (INTEGER_TYPES.has(type)) {
      if (typeof value === 'number' && Number.isInteger(value)) return true;
      this.problems.push(`${path} must be a whole number`);
      return false;
    }
    if (DECIMAL_TYPES.has(type)) {
      if (typeof value === 'number' && Number.isFinite(value)) return true;
      this.problems.push(`${path} must be a number`);
      return false;
    }
    if (BOOLEAN_TYPES.has(type)) {
      if (typeof value === 'boolean') return true;
      this.problems.push(`${path} must be true or false (got ${show(value)})`);
      return false;
    }
    if (typeof value === 'object' && value !== null) {
      this.problems.push(`${path} must be text, not elements`);
      return false;
    }
    return true;
  }
}

/** The operation's input element declaration, for document/literal operations. */
function inputElement(wsdl: WSDL, operation: string): SchemaNode | undefined {
  const definitions = wsdl.definitions as any;
  for (const binding of Object.values(definitions.bindings ?? {}) as any[]) {
    const input = binding.methods?.[operation]?.input;
    if (!input?.$name) continue;
    const schema = definitions.schemas?.[input.targetNamespace ?? input.$targetNamespace] as Schema | undefined;
    const element = schema?.elements[input.$name] ?? (Object.values(definitions.schemas ?? {}) as Schema[]).map((s) => s.elements[input.$name]).find(Boolean);
    if (element) return element;
  }
  return undefined;
}

/** Problems of a parsed request, in words that name the element; empty when it is valid. */
export function checkRequest(wsdl: WSDL, operation: string, args: unknown): string[] {
  const element = inputElement(wsdl, operation);
  if (!element) return [];
  const checker = new RequestChecker(wsdl);
  checker.checkOperation(element, args);
  return checker.problems;
}
