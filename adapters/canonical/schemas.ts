import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import common from './schemas/common.schema.json';
import bs7666Address from './schemas/bs7666-address.schema.json';
import freeTextAddress from './schemas/free-text-address.schema.json';
import personAddressChanged from './schemas/person.address.changed.schema.json';
import personAddressChangedUnresolved from './schemas/person.address.changed.unresolved.schema.json';
import caseUpdated from './schemas/case.updated.schema.json';
import paymentReceived from './schemas/payment.received.schema.json';
import paymentRefunded from './schemas/payment.refunded.schema.json';
import crmAddContactNote from './schemas/crm.add-contact-note.schema.json';
import planningUpdatePartyAddress from './schemas/planning.update-party-address.schema.json';
import housingUpdateCorrespondenceAddress from './schemas/housing.update-correspondence-address.schema.json';
import revenuesAddressChangeRow from './schemas/revenues.address-change-row.schema.json';
import crmAddCaseUpdate from './schemas/crm.add-case-update.schema.json';
import financeJournal from './schemas/finance.journal.schema.json';
import funds from './schemas/funds.schema.json';
import sharingRules from './schemas/sharing-rules.schema.json';

/**
 * The hub's JSON Schemas (draft 2020-12), by short name: the canonical events, each
 * mapping's target and the configuration tables. A schema's $id is
 * `urn:council-hub:schema:<name>`. One Ajv instance compiles each schema once.
 */
const SCHEMA_ID_PREFIX = 'urn:council-hub:schema:';
const ALL = [
  common, bs7666Address, freeTextAddress, personAddressChanged, personAddressChangedUnresolved, caseUpdated,
  paymentReceived, paymentRefunded, crmAddContactNote, planningUpdatePartyAddress, housingUpdateCorrespondenceAddress, revenuesAddressChangeRow,
  crmAddCaseUpdate, financeJournal, funds, sharingRules,
];

export type SchemaName =
  | 'bs7666-address' | 'free-text-address' | 'person.address.changed' | 'person.address.changed.unresolved'
  | 'case.updated' | 'payment.received' | 'payment.refunded' | 'crm.add-contact-note' | 'planning.update-party-address' | 'housing.update-correspondence-address'
  | 'revenues.address-change-row' | 'crm.add-case-update' | 'finance.journal' | 'funds' | 'sharing-rules';

/** One thing wrong with a value, in the words of its schema. */
export interface SchemaProblem {
  /** JSON Pointer into the value, "" for the value itself (e.g. "/address/uprn"). */
  instancePath: string;
  /** JSON Pointer into the schema, e.g. "urn:council-hub:schema:common#/$defs/uprn/pattern". */
  schemaPath: string;
  message: string;
}

export type SchemaCheck<T> = { valid: true; value: T } | { valid: false; problems: SchemaProblem[] };

function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  // JSON Schema cannot add up numbers: a journal balances when its debits equal its credits.
  ajv.addKeyword({
    keyword: 'balancedJournal',
    type: 'array',
    schemaType: 'boolean',
    error: { message: 'must balance: total debit_pence must equal total credit_pence, and be more than 0' },
    validate: (wanted: boolean, lines: Array<{ debit_pence?: unknown; credit_pence?: unknown }>) => {
      if (!wanted) return true;
      let debit = 0;
      let credit = 0;
      for (const line of lines) {
        debit += typeof line?.debit_pence === 'number' ? line.debit_pence : 0;
        credit += typeof line?.credit_pence === 'number' ? line.credit_pence : 0;
      }
      return debit === credit && debit > 0;
    },
  });
  for (const schema of ALL) ajv.addSchema(schema);
  return ajv;
}

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

export function schemaNames(): SchemaName[] {
  return ALL.map((s) => s.$id.slice(SCHEMA_ID_PREFIX.length)).filter((n) => n !== 'common') as SchemaName[];
}

export function isSchemaName(name: string): name is SchemaName {
  return (schemaNames() as string[]).includes(name);
}

function validatorFor(name: SchemaName): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    ajv ??= createAjv();
    validate = ajv.getSchema(SCHEMA_ID_PREFIX + name);
    if (!validate) throw new Error(`no schema named "${name}"`);
    validators.set(name, validate);
  }
  return validate;
}

function toProblem(error: ErrorObject): SchemaProblem {
  const params = error.params as Record<string, unknown>;
  // ajv's own messages leave out which property; say it, so the reader need not open the schema.
  const detail =
    error.keyword === 'required' ? `must have property "${String(params.missingProperty)}"`
      : error.keyword === 'additionalProperties' ? `must not have property "${String(params.additionalProperty)}"`
        : error.keyword === 'enum' ? `must be one of ${JSON.stringify(params.allowedValues)}`
          : error.message ?? 'is not valid';
  return { instancePath: error.instancePath, schemaPath: error.schemaPath, message: detail };
}

/**
 * A schema with its $refs written out in place (for a form built from it: the console's
 * edit form), at most `depth` refs deep; a deeper one is left as {"type": "object"}.
 */
export function dereferencedSchema(name: SchemaName, depth = 6): Record<string, unknown> {
  const byId = new Map(ALL.map((s) => [s.$id as string, s as unknown as Record<string, unknown>]));
  const resolve = (ref: string): unknown => {
    const [id, pointer] = ref.split('#');
    let node: unknown = byId.get(id);
    for (const part of (pointer ?? '').split('/').filter(Boolean)) node = (node as Record<string, unknown> | undefined)?.[part];
    return node;
  };
  const walk = (node: unknown, left: number): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, left));
    if (!node || typeof node !== 'object') return node;
    const o = node as Record<string, unknown>;
    if (typeof o.$ref === 'string') {
      if (left <= 0) return { type: 'object' };
      const { $ref, ...rest } = o;
      return { ...(walk(resolve($ref as string), left - 1) as object), ...(walk(rest, left) as object) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (k !== '$defs' && k !== '$schema') out[k] = walk(v, left);
    return out;
  };
  return walk(byId.get(SCHEMA_ID_PREFIX + name), depth) as Record<string, unknown>;
}

/** The schemas a value matches, or (none matching) the one its eventType names: what a form should show. */
export function schemasOf(value: unknown): { name: SchemaName; matches: boolean } | undefined {
  const names = schemaNames().filter((n) => n !== 'funds' && n !== 'sharing-rules');
  const matching = names.find((n) => checkSchema(n, value).valid);
  if (matching) return { name: matching, matches: true };
  const eventType = (value as { eventType?: unknown } | null)?.eventType;
  if (typeof eventType !== 'string') return undefined;
  // the unresolved form first: a payload before the gazetteer is the one people correct
  const named = names.filter((n) => n === eventType || n === `${eventType}.unresolved`).sort((a, b) => b.length - a.length)[0];
  return named ? { name: named, matches: false } : undefined;
}

/** Checks a value against a named schema. */
export function checkSchema<T>(name: SchemaName, value: unknown): SchemaCheck<T> {
  const validate = validatorFor(name);
  if (validate(value)) return { valid: true, value: value as T };
  return { valid: false, problems: (validate.errors ?? []).map(toProblem) };
}

/** "/address/uprn must match pattern ... (schema urn:...#/...)" for each problem, joined by "; ". */
export function describeProblems(problems: SchemaProblem[]): string {
  return problems.map((p) => `${p.instancePath || '(the value)'} ${p.message} (schema ${p.schemaPath})`).join('; ');
}

export class SchemaValidationError extends Error {
  constructor(readonly schema: SchemaName, readonly problems: SchemaProblem[]) {
    super(`does not match schema ${schema}: ${describeProblems(problems)}`);
    this.name = 'SchemaValidationError';
  }
}

/** Returns the value typed as T when it matches the schema, else throws SchemaValidationError. */
export function assertSchema<T>(name: SchemaName, value: unknown): T {
  const result = checkSchema<T>(name, value);
  if (!result.valid) throw new SchemaValidationError(name, result.problems);
  return result.value;
}
