/**
 * Reads the house out of an address typed as free text: the SAON (e.g. "Flat 2"), the PAON
 * (a number such as "12" or "12A", or a name such as "Rose Cottage") and the street, so that
 * the gazetteer can match it at its postcode.
 *
 *   "Flat 2, 12 High Street"        -> saon "Flat 2", paon "12", street "High Street"
 *   "Flat 2 12 High Street"         -> the same
 *   "12", "High Street"             -> paon "12", street "High Street"
 *   "Rose Cottage", "Mill Lane"     -> paon "Rose Cottage", street "Mill Lane"
 *   "Flat 1, Rose Court, Mill Lane" -> saon "Flat 1", paon "Rose Court", street "Mill Lane"
 *
 * Lines are split at commas too. The first part that starts with a number is the PAON with its
 * street; anything before it is the SAON. With no number, the first part is the PAON (a house
 * name), unless it starts like a SAON ("Flat", "Apartment", "Unit"...), and the next is the street.
 */
export interface ParsedHouse {
  saon?: string;
  paon?: string;
  street?: string;
}

const SAON_WORDS = '(?:flat|apartment|apt|unit|room|suite|studio|maisonette|annexe|fflat)';
const SAON_START = new RegExp(`^${SAON_WORDS}\\.?\\b`, 'i');
const SAON_THEN_NUMBER = new RegExp(`^(${SAON_WORDS}\\.?\\s+\\S+)\\s+(\\d.*)$`, 'i');
const NUMBER = '\\d+[A-Za-z]?(?:\\s*-\\s*\\d+[A-Za-z]?)?';
const NUMBER_AND_STREET = new RegExp(`^(${NUMBER})\\s*,?\\s+(\\S.*)$`);
const NUMBER_ALONE = new RegExp(`^(${NUMBER})$`);

const tidy = (s: string) => s.normalize('NFC').replace(/\s+/g, ' ').trim();
const upperNumber = (n: string) => n.replace(/\s+/g, '').toUpperCase();

export function parseFreeTextHouse(lines: string[]): ParsedHouse {
  const parts = lines
    .flatMap((line) => (typeof line === 'string' ? line.split(',') : []))
    .map(tidy)
    .filter(Boolean)
    .flatMap((part) => {
      const split = SAON_THEN_NUMBER.exec(part);
      return split ? [split[1], split[2]] : [part];
    });
  if (parts.length === 0) return {};

  const numbered = parts.findIndex((p) => NUMBER_AND_STREET.test(p) || NUMBER_ALONE.test(p));
  if (numbered >= 0) {
    const house: ParsedHouse = {};
    const withStreet = NUMBER_AND_STREET.exec(parts[numbered]);
    if (withStreet) {
      house.paon = upperNumber(withStreet[1]);
      house.street = withStreet[2];
    } else {
      house.paon = upperNumber(parts[numbered]);
      if (parts[numbered + 1]) house.street = parts[numbered + 1];
    }
    if (numbered > 0) house.saon = parts.slice(0, numbered).join(', ');
    return house;
  }
  if (SAON_START.test(parts[0]) && parts.length > 1) {
    return { saon: parts[0], paon: parts[1], ...(parts[2] ? { street: parts[2] } : {}) };
  }
  return { paon: parts[0], ...(parts[1] ? { street: parts[1] } : {}) };
}

/**
 * The form in which two pieces of address text are compared: capitals, no accents
 * ("Tŷ" = "TY"), no punctuation, single spaces.
 */
export function comparable(text: string | undefined): string {
  return (text ?? '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[.,'’"()]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
