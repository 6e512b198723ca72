import { ReconciliationReport, systems, verdicts } from './reconcile';

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
