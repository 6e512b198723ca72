import { isPostcode, normalisePostcode } from '../adapters/address/postcode';
import { SystemFault } from './faults';
import { Bs7666Address, HousingAddress, compact } from './addresses';

/**
 * Reading the fields of a request: the soap server does not validate against the
 * schema, so each system checks what it was sent and answers InvalidRequest (a broken
 * request) or InvalidAddress (an address it cannot hold) with the reason.
 */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const UPRN = /^\d{1,12}$/;

export function isIsoDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

export function isIsoDateTime(value: string): boolean {
  return ISO_DATE_TIME.test(value) && !Number.isNaN(new Date(value).getTime());
}

export function isUprn(value: string): boolean {
  return UPRN.test(value);
}

/** A string field; a missing or empty required one is InvalidRequest. */
export function text(args: Record<string, unknown>, name: string): string;
export function text(args: Record<string, unknown>, name: string, optional: true): string | undefined;
export function text(args: Record<string, unknown>, name: string, optional = false): string | undefined {
  const value = args?.[name];
  if (value === undefined || value === null || value === '' || (typeof value === 'object' && Object.keys(value).length === 0)) {
    if (optional) return undefined;
    throw new SystemFault('InvalidRequest', `${name} is required`);
  }
  if (typeof value !== 'string' && typeof value !== 'number') throw new SystemFault('InvalidRequest', `${name} must be text`);
  const trimmed = String(value).trim();
  if (trimmed === '' && !optional) throw new SystemFault('InvalidRequest', `${name} is required`);
  return trimmed === '' ? undefined : trimmed;
}

export function isoDate(args: Record<string, unknown>, name: string): string;
export function isoDate(args: Record<string, unknown>, name: string, optional: true): string | undefined;
export function isoDate(args: Record<string, unknown>, name: string, optional = false): string | undefined {
  const value = optional ? text(args, name, true) : text(args, name);
  if (value !== undefined && !isIsoDate(value)) throw new SystemFault('InvalidRequest', `${name} "${value}" is not a date (YYYY-MM-DD)`);
  return value;
}

export function isoDateTime(args: Record<string, unknown>, name: string): string {
  const value = text(args, name);
  if (!isIsoDateTime(value)) throw new SystemFault('InvalidRequest', `${name} "${value}" is not an ISO 8601 time with offset`);
  return value;
}

export function wholeNumber(args: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = text(args, name);
  if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new SystemFault('InvalidRequest', `${name} must be a whole number from ${min} to ${max}`);
  return Number(value);
}

export function uprn(args: Record<string, unknown>, name: string): string {
  const value = text(args, name);
  if (!isUprn(value)) throw new SystemFault('InvalidRequest', `${name} "${value}" is not a UPRN (1-12 digits)`);
  return value;
}

const invalidAddress = (reason: string) => new SystemFault('InvalidAddress', reason);

function addressObject(args: Record<string, unknown>): Record<string, unknown> {
  const address = args?.address;
  if (!address || typeof address !== 'object') throw new SystemFault('InvalidRequest', 'address is required');
  return address as Record<string, unknown>;
}

/** Reads a field of an address: a wrong one is InvalidAddress, not InvalidRequest. */
function addressField(address: Record<string, unknown>, name: string, optional: boolean, maxLength: number): string | undefined {
  let value: string | undefined;
  try {
    value = optional ? text(address, name, true) : text(address, name);
  } catch (err) {
    throw invalidAddress((err as SystemFault).reason);
  }
  if (value !== undefined && value.length > maxLength) throw invalidAddress(`${name} is longer than ${maxLength} characters`);
  return value;
}

function checkPostcode(value: string): string {
  if (!isPostcode(value)) throw invalidAddress(`postcode "${value}" is not a UK postcode`);
  return normalisePostcode(value);
}

/** A BS7666 address as planning holds it (postcode in standard form), or InvalidAddress. */
export function bs7666Address(args: Record<string, unknown>): Bs7666Address {
  const address = addressObject(args);
  const uprnValue = addressField(address, 'uprn', false, 12)!;
  if (!isUprn(uprnValue)) throw invalidAddress(`uprn "${uprnValue}" is not a UPRN (1-12 digits)`);
  return compact({
    uprn: uprnValue,
    saon: addressField(address, 'saon', true, 100),
    paon: addressField(address, 'paon', false, 100)!,
    streetDescription: addressField(address, 'streetDescription', false, 100)!,
    locality: addressField(address, 'locality', true, 35),
    townName: addressField(address, 'townName', false, 30)!,
    postTown: addressField(address, 'postTown', false, 30)!,
    postcode: checkPostcode(addressField(address, 'postcode', false, 8)!),
  });
}

/** Housing lines are 50 characters at most (the housing system's screen width). */
export const HOUSING_LINE_LENGTH = 50;

export function housingAddress(args: Record<string, unknown>): HousingAddress {
  const address = addressObject(args);
  const uprnValue = addressField(address, 'uprn', true, 12);
  if (uprnValue !== undefined && !isUprn(uprnValue)) throw invalidAddress(`uprn "${uprnValue}" is not a UPRN (1-12 digits)`);
  return compact({
    addressLine1: addressField(address, 'addressLine1', false, HOUSING_LINE_LENGTH)!,
    addressLine2: addressField(address, 'addressLine2', true, HOUSING_LINE_LENGTH),
    addressLine3: addressField(address, 'addressLine3', true, HOUSING_LINE_LENGTH),
    addressLine4: addressField(address, 'addressLine4', true, HOUSING_LINE_LENGTH),
    addressLine5: addressField(address, 'addressLine5', true, HOUSING_LINE_LENGTH),
    postcode: checkPostcode(addressField(address, 'postcode', false, 8)!),
    uprn: uprnValue,
  });
}
