import { mapLimited } from '../concurrency';
import { AckRow } from './files';

/**
 * Settling deliveries from a Revenues ack file: ACCEPTED is delivered, NO_MATCH skipped
 * (no council tax account at the previous address: no relationship, not an error),
 * REJECTED dead with Revenues' reason (a person must look at it). The request_id of each
 * row is the id of the delivery it answers.
 */
export interface DeliverySettler {
  delivered(deliveryId: string): Promise<boolean>;
  skipped(deliveryId: string, reason: string): Promise<boolean>;
  rejected(deliveryId: string, reason: string): Promise<boolean>;
}

export interface AckSummary {
  accepted: number;
  rejected: number;
  noMatch: number;
  /** Request ids the journal has no open delivery for (already settled, or unknown). */
  unmatched: string[];
}

/** Rows settled at once: their journal writes share commits instead of waiting for one flush each. */
const SETTLING_AT_ONCE = 32;

/**
 * Settles every row, several at a time (each row is its own delivery; a request id that
 * comes twice is settled once, the journal's key lock seeing to it). The summary keeps the
 * file's order.
 */
export async function settleAcks(rows: AckRow[], settler: DeliverySettler): Promise<AckSummary> {
  const outcomes = await mapLimited(rows, SETTLING_AT_ONCE, (row) => {
    if (row.outcome === 'ACCEPTED') return settler.delivered(row.requestId);
    if (row.outcome === 'NO_MATCH') return settler.skipped(row.requestId, `revenues: no council tax account at the previous address${row.reason ? ` (${row.reason})` : ''}`);
    return settler.rejected(row.requestId, `revenues rejected the change: ${row.reason}`);
  });
  const summary: AckSummary = { accepted: 0, rejected: 0, noMatch: 0, unmatched: [] };
  rows.forEach((row, i) => {
    if (!outcomes[i]) summary.unmatched.push(row.requestId);
    else if (row.outcome === 'ACCEPTED') summary.accepted += 1;
    else if (row.outcome === 'NO_MATCH') summary.noMatch += 1;
    else summary.rejected += 1;
  });
  return summary;
}
