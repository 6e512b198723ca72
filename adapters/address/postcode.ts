/**
 * UK postcodes: the format Royal Mail uses (outward code, one space, inward code),
 * including the GIR 0AA special case. Systems hand the hub postcodes in every case and
 * spacing; the hub compares and sends them in this one form.
 */
const POSTCODE = /^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$/;

export class InvalidPostcodeError extends Error {
  constructor(readonly postcode: unknown) {
    super(`"${String(postcode)}" is not a UK postcode`);
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
