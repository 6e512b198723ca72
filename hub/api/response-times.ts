import type { Registry } from 'prom-client';

/**
 * Response times per target system for the console, from the hub's own metrics (the same
 * ones /metrics gives Prometheus): every sample interval, how many deliveries each target
 * took and how long they took on average (councilhub_delivery_latency_seconds), and how many
 * attempts failed (councilhub_deliveries_total, status failed or dead). Kept in memory for
 * the last hours; per hub instance (Prometheus and the Grafana dashboard in docker/ see them
 * all). A target with failures and nothing delivered for longer than the alert time is an
 * alert.
 */
export interface ResponseTimeSample {
  at: number;
  /** deliveries the target took in the interval */
  delivered: number;
  /** failed or dead outcomes in the interval */
  failed: number;
  /** mean latency of those delivered, in seconds (none delivered: undefined) */
  meanSeconds?: number;
  /** failed / (delivered + failed), 0 to 1 */
  errorRate: number;
}

export interface TargetResponseTimes {
  target: string;
  samples: ResponseTimeSample[];
  /** since when the target has been failing with nothing delivered (ms), if it is */
  failingSince?: number;
  alert?: string;
}

interface Totals {
  count: number;
  sum: number;
  failed: number;
}

const HOURS_KEPT = 6;

export class ResponseTimes {
  private readonly series = new Map<string, ResponseTimeSample[]>();
  private readonly failingSince = new Map<string, number>();
  private last = new Map<string, Totals>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: Registry,
    private readonly options: { sampleMs: number; alertFailingMs: number; now?: () => number },
  ) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.options.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  private async totals(): Promise<Map<string, Totals>> {
    const totals = new Map<string, Totals>();
    const of = (target: string) => totals.get(target) ?? (totals.set(target, { count: 0, sum: 0, failed: 0 }).get(target) as Totals);
    const latency = await this.registry.getSingleMetric('councilhub_delivery_latency_seconds')?.get();
    for (const v of latency?.values ?? []) {
      const target = String(v.labels.target ?? '');
      if (!target) continue;
      const name = (v as { metricName?: string }).metricName;
      if (name === 'councilhub_delivery_latency_seconds_count') of(target).count = v.value;
      if (name === 'councilhub_delivery_latency_seconds_sum') of(target).sum = v.value;
    }
    const outcomes = await this.registry.getSingleMetric('councilhub_deliveries_total')?.get();
    for (const v of outcomes?.values ?? []) {
      const target = String(v.labels.target ?? '');
      if (target && (v.labels.status === 'failed' || v.labels.status === 'dead')) of(target).failed += v.value;
    }
    return totals;
  }

  /** Takes one sample now (the timer calls it; tests may too). */
  async sample(): Promise<void> {
    const at = this.now();
    const totals = await this.totals();
    for (const [target, t] of totals) {
      if (target === 'hub') continue; // not a system: failures before delivery are the inbound failures
      const before = this.last.get(target) ?? { count: 0, sum: 0, failed: 0 };
      const delivered = Math.max(0, t.count - before.count);
      const failed = Math.max(0, t.failed - before.failed);
      const sample: ResponseTimeSample = {
        at,
        delivered,
        failed,
        ...(delivered ? { meanSeconds: (t.sum - before.sum) / delivered } : {}),
        errorRate: delivered + failed ? failed / (delivered + failed) : 0,
      };
      const list = this.series.get(target) ?? [];
      list.push(sample);
      while (list.length && list[0].at < at - HOURS_KEPT * 3600_000) list.shift();
      this.series.set(target, list);
      if (delivered > 0) this.failingSince.delete(target);
      else if (failed > 0 && !this.failingSince.has(target)) this.failingSince.set(target, at);
    }
    this.last = totals;
  }

  report(hours = HOURS_KEPT): { sampleSeconds: number; alertAfterMinutes: number; targets: TargetResponseTimes[] } {
    const now = this.now();
    const from = now - hours * 3600_000;
    const targets = [...this.series.keys()].sort().map((target) => {
      const since = this.failingSince.get(target);
      const failingFor = since === undefined ? 0 : now - since;
      return {
        target,
        samples: (this.series.get(target) ?? []).filter((s) => s.at >= from),
        ...(since !== undefined ? { failingSince: since } : {}),
        ...(since !== undefined && failingFor >= this.options.alertFailingMs
          ? { alert: `${target} has been failing with nothing delivered for ${Math.round(failingFor / 60_000)} minutes` }
          : {}),
      };
    });
    return { sampleSeconds: this.options.sampleMs / 1000, alertAfterMinutes: this.options.alertFailingMs / 60_000, targets };
  }
}
