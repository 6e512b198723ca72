import { HubError } from '../errors';

/**
 * UK postcodes: the format Royal Mail uses (outward code, one space, inward code),
 * including the GIR 0AA special case. Systems hand the hub postcodes in every case and
 * spacing; the hub compares and sends them in this one form.
 */
const POSTCODE = /^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$/;

/** Permanent (code INVALID_POSTCODE): the same postcode is refused every time; a person corrects it. */
export class InvalidPostcodeError extends HubError {
  constructor(readonly postcode: unknown) {
    super('INVALID_POSTCODE', `"${String(postcode)}" is not a UK postcode`, { transient: false });
    this.name = 'InvalidPostcodeError';
  }
}

/** Returns the postcode in standard form ("sw1a1aa" -> "SW1A 1AA"), or throws InvalidPostcodeError. */
export function normalisePostcode(input: unknown): string {
  if (typeof input !== 'string') throw new InvalidPostcodeError(input);
  const compact = input.toUpperCase().replace(/\s+/g, '');
  if (compact === 'GIR0AA') return 'GIR 0AA';
  const match = POSTCODE.exec(compact);
  if (!match) throw new InvalidPostcodeError(input);
  return `${match[1]} ${match[2]}`;
}

export function isPostcode(input: unknown): boolean {
  try {
    normalisePostcode(input);
    return true;
  } catch {
    return false;
  }
}
