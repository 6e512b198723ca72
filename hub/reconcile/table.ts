import { ReconciliationReport, systems, verdicts } from './reconcile';
import type { CaseReconciliationReport } from './cases';

/**
 * The report as support staff read it in a terminal: one row per person and system that
 * does not agree (all rows with `all`), then one summary line.
 */
function cell(value: string | undefined, width: number): string {
  const text = (value ?? '').replace(/\s+/g, ' ');
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

export function summaryLine(report: ReconciliationReport): string {
  const s = report.summary;
  const parts = systems.map((system) => {
    const counts = s.bySystem[system];
    const shown = verdicts.filter((v) => counts[v] > 0).map((v) => `${counts[v]} ${v}`);
    return `${system}${system === 'revenues' ? ' (from the journal)' : ''}: ${shown.join(', ') || 'none'}`;
  });
  const head = s.allAgree ? `all ${s.people} people agree` : `${s.peopleNotAgreeing} of ${s.people} people do not agree`;
  return `reconciliation: ${head}; ${parts.join('; ')}`;
}

export function formatReport(report: ReconciliationReport, options: { all?: boolean } = {}): string {
  const widths = [10, 22, 9, 12, 44, 60];
  const header = ['contact', 'name', 'system', 'verdict', 'system holds', 'why'];
  const rows: string[][] = [];
  for (const person of report.people) {
    if (person.error) rows.push([person.contactId, person.name ?? '', 'crm', 'unreadable', '', person.error]);
    for (const finding of person.systems) {
      if (!options.all && (finding.verdict === 'agrees' || finding.verdict === 'not-known')) continue;
      rows.push([person.contactId, person.name ?? '', finding.system, finding.verdict, finding.address ?? '', finding.detail]);
    }
  }
  const line = (values: string[]) => values.map((v, i) => cell(v, widths[i])).join('  ').trimEnd();
  const out: string[] = [];
  if (rows.length) {
    out.push(line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  } else {
    out.push(options.all ? 'no people to reconcile' : 'no differences');
  }
  out.push('', ...report.notes.map((n) => `note: ${n}`), summaryLine(report));
  return out.join('\n');
}

// ---- the case-update report (npm run reconcile -- --cases) ------------------------------

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function caseSummaryLine(report: CaseReconciliationReport): string {
  const s = report.summary;
  const agreeing = s.cases === 0 ? 'no cases' : s.cases === 1 ? 'the one case agrees' : `all ${s.cases} cases agree`;
  const head = s.allAgree ? agreeing : `${s.casesNotAgreeing} of ${count(s.cases, 'case')} ${s.casesNotAgreeing === 1 ? 'does' : 'do'} not agree`;
  const parts = [
    count(s.events, 'event'),
    `${s.missing} missing`,
    `${s.duplicated} added more than once`,
    `${s.wrongStatus} wrong status`,
    ...(s.mismatched ? [`${s.mismatched} with another status or time`] : []),
    ...(s.notCreated ? [`${count(s.notCreated, 'case')} not created`] : []),
    ...(s.createdTwice ? [`${count(s.createdTwice, 'case')} created twice`] : []),
    ...(s.byVerdict['in-progress'] ? [`${count(s.byVerdict['in-progress'], 'case')} in progress`] : []),
    ...(s.unreadable ? [`${count(s.unreadable, 'case')} unreadable`] : []),
    ...(s.unmappedMessages ? [`${count(s.unmappedMessages, 'message')} not mapped`] : []),
    ...(s.discarded ? [`${count(s.discarded, 'event')} discarded`] : []),
  ];
  const before = s.deliveries.beforeDelivery;
  const deliveries = `CRM deliveries: ${s.deliveries.dead} dead, ${s.deliveries.needsAttention} need attention${before.dead || before.needsAttention ? `; before delivery: ${before.dead} dead, ${before.needsAttention} need attention` : ''}`;
  return `case reconciliation: ${head}; ${parts.join(', ')}; ${count(s.withoutContact.count, 'case')} without a contact; ${deliveries}`;
}

export function formatCaseReport(report: CaseReconciliationReport, options: { all?: boolean } = {}): string {
  const widths = [28, 10, 11, 8, 7, 7, 5, 40, 10, 70];
  const header = ['case', 'crm case', 'verdict', 'expected', 'on case', 'missing', 'twice', 'status (case / newest event)', 'contact', 'why'];
  const rows: string[][] = [];
  for (const c of report.cases) {
    if (!options.all && c.verdict === 'agrees') continue;
    const twice = c.duplicated.reduce((n, d) => n + d.updates.length, 0);
    const status = c.status.expected === undefined && c.status.onCase === undefined ? '' : `${c.status.onCase ?? '-'} / ${c.status.expected ?? '-'}${c.status.right === false ? ' (wrong)' : ''}`;
    const contact = c.contactId ?? (c.withoutContact ? 'none' : '');
    rows.push([`${c.system}:${c.ref}`, c.caseRef ?? (c.caseExists ? '' : 'none'), c.verdict, String(c.expected.length), String(c.updates.length), String(c.missing.length), String(twice), status, contact, c.error ?? (c.problems.join('; ') || 'agrees')]);
  }
  // The last column (why) is never cut: it names the events that are off.
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v.replace(/\s+/g, ' ') : cell(v, widths[i]))).join('  ').trimEnd();
  const out: string[] = [];
  if (rows.length) out.push(line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  else out.push(options.all ? 'no cases to reconcile' : 'no differences');
  for (const u of report.unmapped) out.push(`not mapped: message ${u.messageId} (${u.source}${u.ref ? ` ${u.ref}` : ''}; deliveries: ${u.deliveries.join(', ') || 'none'}): ${u.error}`);
  const s = report.summary;
  if (s.withoutContact.count) out.push(`cases without a contact (not an error): ${s.withoutContact.cases.map((c) => `${c.system}:${c.ref}${c.caseRef ? ` (${c.caseRef})` : ''}`).join(', ')}`);
  out.push('', ...report.notes.map((n) => `note: ${n}`), caseSummaryLine(report));
  return out.join('\n');
}
