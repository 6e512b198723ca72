import os from 'os';
import { execFileSync } from 'child_process';

/**
 * Side-by-side measurement: each scenario runs the hub's way (the subject) and its reference
 * (the best alternative, or the machine's limit) in the same run, interleaved round by round
 * (A B, then B A, ...), so that whatever else the shared machine is doing falls on both. The
 * figure that counts is the ratio of the medians, not either absolute number.
 */
export interface Measurement {
  /** The figure of one round: operations per second, or seconds, or MiB... */
  value: number;
  /** Other figures of the round worth keeping (peak RSS, operations). */
  extra?: Record<string, number>;
}

export interface Side {
  label: string;
  round(): Promise<Measurement>;
}

export interface Goal {
  /** The ratio subject / reference must be at least this (throughputs), or at most (times, costs). */
  ratioAtLeast?: number;
  ratioAtMost?: number;
  text: string;
}

export interface Comparison {
  scenario: string;
  unit: string;
  /** Throughputs: higher is better; times: lower. */
  higherIsBetter: boolean;
  subject: Side;
  reference: Side;
  goal?: Goal;
  /** Run once before and after the rounds (start and stop what both sides use). */
  setUp?(): Promise<void>;
  tearDown?(): Promise<void>;
}

export interface ComparisonResult {
  scenario: string;
  unit: string;
  subject: { label: string; median: number; rounds: number[]; extra: Record<string, number> };
  reference: { label: string; median: number; rounds: number[]; extra: Record<string, number> };
  /** subject median / reference median */
  ratio: number;
  goal?: string;
  met?: boolean;
}

/** A figure measured alone (a time to beat, a memory ceiling): no reference to compare with. */
export interface Figure {
  scenario: string;
  unit: string;
  median: number;
  rounds: number[];
  extra: Record<string, number>;
  goal?: string;
  met?: boolean;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function medians(extras: Array<Record<string, number> | undefined>): Record<string, number> {
  const names = new Set(extras.flatMap((e) => Object.keys(e ?? {})));
  return Object.fromEntries([...names].map((n) => [n, round3(median(extras.map((e) => e?.[n]).filter((v): v is number => typeof v === 'number')))]));
}


export async function compare(c: Comparison, rounds: number, log: (line: string) => void = () => undefined): Promise<ComparisonResult> {
  await c.setUp?.();
  const subject: Measurement[] = [];
  const reference: Measurement[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      // Alternate which side goes first: a warm cache or a busy neighbour favours neither.
      const order = r % 2 === 0 ? (['subject', 'reference'] as const) : (['reference', 'subject'] as const);
      for (const side of order) {
        global.gc?.();
        const m = side === 'subject' ? await c.subject.round() : await c.reference.round();
        (side === 'subject' ? subject : reference).push(m);
        log(`  ${c.scenario} round ${r + 1}/${rounds}: ${side === 'subject' ? c.subject.label : c.reference.label} ${round3(m.value)} ${c.unit}`);
      }
    }
  } finally {
    await c.tearDown?.();
  }
  const s = median(subject.map((m) => m.value));
  const ref = median(reference.map((m) => m.value));
  const ratio = ref === 0 ? Number.NaN : s / ref;
  const met = c.goal ? (c.goal.ratioAtLeast === undefined || ratio >= c.goal.ratioAtLeast) && (c.goal.ratioAtMost === undefined || ratio <= c.goal.ratioAtMost) : undefined;
  return {
    scenario: c.scenario,
    unit: c.unit,
    subject: { label: c.subject.label, median: round3(s), rounds: subject.map((m) => round3(m.value)), extra: medians(subject.map((m) => m.extra)) },
    reference: { label: c.reference.label, median: round3(ref), rounds: reference.map((m) => round3(m.value)), extra: medians(reference.map((m) => m.extra)) },
    ratio: round3(ratio),
    ...(c.goal ? { goal: c.goal.text, met } : {}),
  };
}

export async function figure(
  scenario: string,
  unit: string,
  rounds: number,
  round: () => Promise<Measurement>,
  goal?: { atMost?: number; atLeast?: number; text: string },
  log: (line: string) => void = () => undefined,
): Promise<Figure> {
  const results: Measurement[] = [];
  for (let r = 0; r < rounds; r++) {
    global.gc?.();
    results.push(await round());
    log(`  ${scenario} round ${r + 1}/${rounds}: ${round3(results[r].value)} ${unit}`);
  }
  const m = median(results.map((x) => x.value));
  const met = goal ? (goal.atMost === undefined || m <= goal.atMost) && (goal.atLeast === undefined || m >= goal.atLeast) : undefined;
  return { scenario, unit, median: round3(m), rounds: results.map((x) => round3(x.value)), extra: medians(results.map((x) => x.extra)), ...(goal ? { goal: goal.text, met } : {}) };
}

/** Operations per second of `count` calls of `op`, `concurrency` at a time. */
export async function throughput(count: number, concurrency: number, op: (i: number) => Promise<unknown> | unknown): Promise<Measurement> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await op(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { value: count / seconds, extra: { seconds: round3(seconds) } };
}

function version(command: string, args: string[], pattern: RegExp): string | undefined {
  try {
    return pattern.exec(execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000 }))?.[1];
  } catch {
    return undefined;
  }
}

/** The machine the figures were taken on. */
export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpu: cpus[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    rabbitmq: version('rabbitmqctl', ['version'], /^(\S+)/m),
    redis: version('redis-server', ['--version'], /v=(\S+)/),
    sqlite: version('node', ['-e', "console.log(new (require('better-sqlite3'))(':memory:').prepare('select sqlite_version() v').get().v)"], /^(\S+)/),
  };
}

/** The table printed at the end: one line a scenario, the ratio first. */
export function table(comparisons: ComparisonResult[], figures: Figure[]): string {
  const rows: string[][] = [['scenario', 'hub', 'reference', 'ratio', 'goal', 'met']];
  for (const c of comparisons) {
    rows.push([c.scenario, `${c.subject.label}: ${c.subject.median} ${c.unit}`, `${c.reference.label}: ${c.reference.median} ${c.unit}`, c.ratio.toFixed(2), c.goal ?? '', c.met === undefined ? '' : c.met ? 'yes' : 'NO']);
  }
  for (const f of figures) {
    const extra = Object.entries(f.extra).map(([k, v]) => `${k} ${v}`).join(', ');
    rows.push([f.scenario, `${f.median} ${f.unit}${extra ? ` (${extra})` : ''}`, '', '', f.goal ?? '', f.met === undefined ? '' : f.met ? 'yes' : 'NO']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, n) => r.map((cell, i) => cell.padEnd(widths[i])).join(' | ') + (n === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('-|-')}` : '')).join('\n');
}
