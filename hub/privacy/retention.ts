import type { Journal, RetentionPeriods } from '../journal/journal';
import type { PurgeReport, RetentionCutoffs } from '../journal/types';
import type { AccessLog } from './access-log';

export interface RetentionReport extends PurgeReport {
  accessEntries: number;
  cutoffs: RetentionCutoffs;
  tookMs: number;
}

/**
 * The retention run (nightly, and on demand from the DPO's API): the journal's kinds by
 * their periods, and the access log, kept as long as the audit. Says what it removed.
 */
export async function runRetention(journal: Journal, periods: RetentionPeriods, accessLog?: AccessLog): Promise<RetentionReport> {
  const report = await journal.purge(periods);
  const accessEntries = accessLog ? await accessLog.purge(report.cutoffs.audit) : 0;
  return { ...report, accessEntries };
}

export function describeRetention(r: RetentionReport): string {
  return (
    `retention run: removed ${r.settled} delivered/skipped/superseded, ${r.discarded} discarded dead letters, ${r.refused} refused or failed-in-hub records, ` +
    `${r.messages} messages; pseudonymised ${r.auditPseudonymised} audit records; removed ${r.accessEntries} access log entries (${r.tookMs} ms)`
  );
}
