import { HubError } from '../errors';

/**
 * What a failed SOAP call means to the rest of the hub: one error class whose `transient`
 * flag the retry engine reads. Transient = worth trying again later (the peer or the
 * network was unavailable); permanent = the same call will fail the same way (a business
 * fault, a malformed or hostile response) and needs a person.
 *
 * SOAP 1.1 answers every fault with HTTP 500, so the status alone decides nothing: a fault
 * is transient only when its name is ServiceUnavailable.
 *
 * SoapCallError follows the hub's error contract (adapters/errors.ts): `transient`, and a
 * `code`: the transport's error code when there is one (ECONNREFUSED, ECONNABORTED...),
 * else the fault's name (ServiceUnavailable, PartyNotFound...), else one per kind
 * (SOAP_FAULT, SOAP_TIMEOUT, SOAP_MALFORMED_RESPONSE...: SOAP_KIND_CODES).
 */

/** Network error codes (Node and axios) that say "the peer or the path was not there". */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED', // axios: request timed out
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** HTTP statuses of a gateway or an overloaded server: transient when no SOAP envelope came back. */
const TRANSIENT_HTTP_STATUSES = new Set([502, 503, 504]);

/** Fault names that mean "try again later" (CONTRACTS.md: ServiceUnavailable). */
const TRANSIENT_FAULT_NAMES = new Set(['ServiceUnavailable']);

/** Why a call failed, in one word the flows and the console can switch on. */
export type SoapFailureKind =
  | 'fault' // the service answered with a SOAP fault
  | 'timeout' // no answer within the call's timeout
  | 'connection' // refused, reset, unreachable
  | 'http' // an HTTP error status without a SOAP envelope
  | 'malformed-response' // not XML, not a SOAP envelope, or no result
  | 'hostile-response' // element or attribute names that could pollute prototypes, or a DOCTYPE
  | 'wsdl' // the WSDL could not be read or understood
  | 'bad-request'; // the caller's request cannot be sent (unknown operation, bad arguments)

/** The code of a failure that has neither a transport code nor a fault name. */
export const SOAP_KIND_CODES: Readonly<Record<SoapFailureKind, string>> = {
  fault: 'SOAP_FAULT',
  timeout: 'SOAP_TIMEOUT',
  connection: 'SOAP_CONNECTION_FAILED',
  http: 'SOAP_HTTP_ERROR',
  'malformed-response': 'SOAP_MALFORMED_RESPONSE',
  'hostile-response': 'SOAP_HOSTILE_RESPONSE',
  wsdl: 'SOAP_WSDL_UNREADABLE',
  'bad-request': 'SOAP_BAD_REQUEST',
};

export interface SoapCallErrorFields {
  kind: SoapFailureKind;
  operation?: string;
  endpoint?: string;
  faultcode?: string;
  faultstring?: string;
  /** The fault's name: detail fault/name, the "Name:" prefix of faultstring, or faultcode's local part. */
  faultName?: string;
  detail?: unknown;
  httpStatus?: number;
  /** Node/axios error code of a transport failure (ECONNRESET...). */
  code?: string;
  transient: boolean;
}

/** The contract code of a failed call: transport code, else fault name, else the kind's code. */
export function soapErrorCode(fields: Pick<SoapCallErrorFields, 'kind' | 'code' | 'faultName'>): string {
  return fields.code || fields.faultName || SOAP_KIND_CODES[fields.kind];
}

/** A SOAP call that failed: a fault, a transport failure, or a response the hub refuses. */
export class SoapCallError extends HubError {
  readonly kind: SoapFailureKind;
  readonly operation?: string;
  readonly endpoint?: string;
  readonly faultcode?: string;
  readonly faultstring?: string;
  readonly faultName?: string;
  readonly detail?: unknown;
  readonly httpStatus?: number;

  constructor(message: string, fields: SoapCallErrorFields) {
    super(soapErrorCode(fields), message, { transient: fields.transient });
    this.name = 'SoapCallError';
    this.kind = fields.kind;
    this.operation = fields.operation;
    this.endpoint = fields.endpoint;
    this.faultcode = fields.faultcode;
    this.faultstring = fields.faultstring;
    this.faultName = fields.faultName;
    this.detail = fields.detail;
    this.httpStatus = fields.httpStatus;
    // Node-RED's Catch copies only message, code, stack and cause of an error into
    // msg.error: the fields ride in `cause` so a flow sees msg.error.cause.transient.
    // (Hooks such as onComplete get this object itself: error.transient.)
    // Never a raw transport error here: those carry the request, credentials included.
    this.cause = this.toJSON();
  }

  /** Plain fields for msg.error, the journal and the console (an Error's own fields do not survive JSON). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      operation: this.operation,
      endpoint: this.endpoint,
      faultcode: this.faultcode,
      faultstring: this.faultstring,
      faultName: this.faultName,
      detail: this.detail,
      httpStatus: this.httpStatus,
      code: this.code,
      transient: this.transient,
    };
  }
}

export function isSoapCallError(err: unknown): err is SoapCallError {
  return err instanceof SoapCallError;
}

export function isTransientFaultName(name: string | undefined): boolean {
  return !!name && TRANSIENT_FAULT_NAMES.has(name);
}

export function isTransientHttpStatus(status: number | undefined): boolean {
  return status !== undefined && TRANSIENT_HTTP_STATUSES.has(status);
}

export function isTransientNetworkCode(code: string | undefined): boolean {
  return !!code && TRANSIENT_NETWORK_CODES.has(code);
}

/** The generic SOAP 1.1 fault codes, which name no fault of their own. */
const GENERIC_FAULTCODES = new Set(['Client', 'Server', 'VersionMismatch', 'MustUnderstand', 'Sender', 'Receiver']);

function localName(qname: string): string {
  const afterPrefix = qname.slice(qname.lastIndexOf(':') + 1);
  // "soap:Server.ServiceUnavailable" style: the part after the last dot is the fault's own name
  return afterPrefix.slice(afterPrefix.lastIndexOf('.') + 1);
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object' && '$value' in value) return textOf((value as { $value: unknown }).$value);
  return undefined;
}

/**
 * The name of a fault, whichever way the service spells it: the hub's convention
 * (detail <fault><name>X</name>, faultstring "X: reason"), a specific faultcode
 * ("tns:NotLoggedOn", "soap:Server.ServiceUnavailable"), or the first element of detail.
 */
export function faultNameOf(faultcode: string | undefined, faultstring: string | undefined, detail: unknown): string | undefined {
  if (detail && typeof detail === 'object') {
    const d = detail as Record<string, unknown>;
    const fault = d.fault as Record<string, unknown> | undefined;
    const named = fault && typeof fault === 'object' ? textOf(fault.name) : undefined;
    if (named) return named;
  }
  const prefix = faultstring ? /^([A-Za-z][A-Za-z0-9_]*):\s/.exec(faultstring) : null;
  if (prefix) return prefix[1];
  if (faultcode) {
    const local = localName(faultcode);
    if (local && !GENERIC_FAULTCODES.has(local)) return local;
  }
  if (detail && typeof detail === 'object') {
    const first = Object.keys(detail).find((k) => k !== 'attributes' && k !== '$value');
    if (first) return localName(first);
  }
  if (faultstring && /^[A-Za-z][A-Za-z0-9_]*$/.test(faultstring.trim())) return faultstring.trim();
  return undefined;
}
