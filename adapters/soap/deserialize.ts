/**
 * How the soap package turns element text into values. By default it makes xsd:date and
 * xsd:dateTime into JavaScript Dates (which drop the offset and shift dates through the
 * local time zone) and parses "12abc" as the integer 12. The hub keeps dates as the text
 * the council's systems sent (CONTRACTS.md: dates YYYY-MM-DD, times ISO 8601 with
 * offset), and, where it hosts a service, keeps a number it cannot read as NaN so that
 * the request check names the element instead of accepting a wrong value.
 */

const asText = (text: string) => text;

/** For clients: dates and times stay text. */
export const DATES_AS_TEXT = {
  date: asText,
  dateTime: asText,
  time: asText,
};

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function integer(text: string): number {
  return INTEGER.test(text) ? Number.parseInt(text, 10) : Number.NaN;
}

function decimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : Number.NaN;
}

/** A boolean the request check can tell from a wrong value: anything else stays text. */
function boolean(text: string): boolean | string {
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return text;
}

/** For hosted services: dates stay text, numbers and booleans are strict. */
export const STRICT_VALUES = {
  ...DATES_AS_TEXT,
  int: integer,
  integer,
  short: integer,
  long: integer,
  double: decimal,
  float: decimal,
  decimal,
  bool: boolean,
  boolean,
};
