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

export async function settleAcks(rows: AckRow[], settler: DeliverySettler): Promise<AckSummary> {
  const summary: AckSummary = { accepted: 0, rejected: 0, noMatch: 0, unmatched: [] };
  for (const row of rows) {
    let settled: boolean;
    if (row.outcome === 'ACCEPTED') {
      settled = await settler.delivered(row.requestId);
      if (settled) summary.accepted += 1;
    } else if (row.outcome === 'NO_MATCH') {
      settled = await settler.skipped(row.requestId, `revenues: no council tax account at the previous address${row.reason ? ` (${row.reason})` : ''}`);
      if (settled) summary.noMatch += 1;
    } else {
      settled = await settler.rejected(row.requestId, `revenues rejected the change: ${row.reason}`);
      if (settled) summary.rejected += 1;
    }
    if (!settled) summary.unmatched.push(row.requestId);
  }
  return summary;
}
