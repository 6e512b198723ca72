import { HubError, permanentError } from '../errors';
import { normalisePostcode } from '../address/postcode';
import type { Bs7666Address } from '../canonical/types';

/**
 * Functions every mapping can call (bound as $addressLines, $normalisePostcode, $toTime,
 * $toDate). They hold the rules that more than one mapping needs, so each rule lives once.
 */

/** A PAON that is a number or a range ("12", "12A", "12-14") goes on the street's line. */
const NUMBERED_PAON = /^\d+[A-Z]?(\s*-\s*\d+[A-Z]?)?$/i;

/** Text beyond ASCII (only such text can change under NFC normalisation). */
const BEYOND_ASCII = /[\u0080-\uffff]/;

/** Whitespace to tidy: a run of two, any but a plain space, or a space at either end. */
const UNTIDY = /\s{2}|[^\S ]|^ | $/;

function tidy(text: unknown): string {
  if (typeof text !== 'string') return '';
  const normal = BEYOND_ASCII.test(text) ? text.normalize('NFC') : text;
  // Most parts are tidy already: tested, not rebuilt.
  return UNTIDY.test(normal) ? normal.replace(/\s+/g, ' ').trim() : normal;
}

/** Characters (code points), not UTF-16 units; text without surrogate pairs needs no counting. */
const SURROGATE = /[\uD800-\uDFFF]/;
const length = (text: string): number => (SURROGATE.test(text) ? Array.from(text).length : text.length);

/** Greedy word wrap; a single word longer than the width is split at the width. */
function wrap(text: string, width: number): string[] {
  // Tidied text (single spaces, trimmed) that fits is its own line: the usual case.
  if (!text) return [];
  if (length(text) <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(' ')) {
    while (length(word) > width) {
      if (line) {
        lines.push(line);
        line = '';
      }
      const chars = Array.from(word);
      lines.push(chars.slice(0, width).join(''));
      word = chars.slice(width).join('');
    }
    if (!word) continue;
    if (!line) line = word;
    else if (length(line) + 1 + length(word) <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Joins neighbouring parts with ", " from the top while the result fits, until `maxLines` is reached. */
function packParts(parts: string[], width: number, maxLines: number): string[] {
  const packed = [...parts];
  for (let i = 0; i < packed.length - 1 && packed.length > maxLines; ) {
    const joined = `${packed[i]}, ${packed[i + 1]}`;
    if (joined.length <= width) packed.splice(i, 2, joined);
    else i += 1;
  }
  return packed;
}

/**
 * An address that cannot be laid out: permanent, the same address fails the same way (a
 * person shortens it or the target's field sizes change). Codes: ADDRESS_MISSING (no
 * address given), ADDRESS_TOO_LONG (more lines than the target has).
 */
export class AddressLinesError extends HubError {
  constructor(message: string, code: 'ADDRESS_MISSING' | 'ADDRESS_TOO_LONG' = 'ADDRESS_TOO_LONG') {
    super(code, message, { transient: false });
    this.name = 'AddressLinesError';
  }
}

/**
 * Lays a BS7666 address out as at most `maxLines` lines of at most `width` characters
 * (the postcode is not a line). The rule, in order:
 *  1. parts: SAON; then a numbered PAON with its street ("12 High Street") or a named PAON
 *     and the street on separate lines ("Rose Cottage", "Mill Lane"); locality; town name
 *     when it differs from the post town; post town. Blank parts are left out; spaces are
 *     collapsed and text is kept as given (UTF-8, NFC: Welsh and accented letters stay).
 *  2. a part longer than `width` wraps at spaces onto the next line; a word longer than
 *     `width` is cut at `width` and continues on the next line. Nothing is dropped.
 *  3. if that needs more than `maxLines` lines, neighbouring parts share a line, joined by
 *     ", ", from the top ("Flat 12, Lovelace Court") as long as the line fits `width`;
 *  4. if it still needs more, throws AddressLinesError: the address is never shortened
 *     silently; a person decides (the delivery needs attention).
 */
export function addressLines(address: Partial<Bs7666Address>, maxLines: number, width: number): string[] {
  if (!address || typeof address !== 'object') throw new AddressLinesError('addressLines: no address given', 'ADDRESS_MISSING');
  const paon = tidy(address.paon);
  const street = tidy(address.streetDescription);
  const locality = tidy(address.locality);
  const townName = tidy(address.townName);
  const postTown = tidy(address.postTown);
  // English has no locale-specific case rules (Turkish, Azeri and Lithuanian do), so the plain
  // upper-casing is en-GB's, without a locale look-up on every call (the mappings' hot spot).
  const same = (a: string, b: string) => a.toUpperCase() === b.toUpperCase();
  const parts = [
    tidy(address.saon),
    ...(NUMBERED_PAON.test(paon) ? [`${paon} ${street}`.trim()] : [paon, street]),
    locality && !same(locality, townName) && !same(locality, postTown) ? locality : '',
    townName && !same(townName, postTown) ? townName : '',
    postTown,
  ].filter(Boolean);
  let lines: string[] = [];
  for (const part of parts) lines = lines.concat(wrap(part, width));
  if (lines.length > maxLines) lines = packParts(parts, width, maxLines).flatMap((part) => wrap(part, width));
  if (lines.length > maxLines) {
    throw new AddressLinesError(
      `address needs ${lines.length} lines of at most ${width} characters but only ${maxLines} are available: ${lines.join(' / ')}`,
    );
  }
  return lines;
}

/** A date ("2026-11-18") as the time 00:00 UTC of that day; a date-time is returned as it is. */
export function toTime(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
}

/** The date part ("2026-11-18") of a date or an ISO 8601 date-time, as written (no time-zone shift). */
export function toDate(value: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})/.exec(String(value));
  if (!match) throw permanentError('INVALID_DATE', `"${String(value)}" is not a date`);
  return match[1];
}

/** The bindings every mapping gets (callers' bindings and config tables take precedence). */
export const standardFunctions: Record<string, unknown> = {
  addressLines,
  normalisePostcode: (postcode: unknown) => normalisePostcode(postcode),
  toTime,
  toDate,
};
