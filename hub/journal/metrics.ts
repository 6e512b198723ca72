import { Counter, Histogram, Registry } from 'prom-client';
import { metricsRegistry } from '../metrics';
import type { DeliveryRecord } from './types';

/**
 * The journal's Prometheus metrics on the hub's registry: deliveries by target and the
 * status they reached, attempts started, and the time from a delivery's start to its
 * being delivered, per target.
 */
function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export class JournalMetrics {
  private readonly transitions: Counter<'target' | 'status'>;
  private readonly attempts: Counter<'target'>;
  private readonly latency: Histogram<'target'>;

  constructor(registry: Registry = metricsRegistry) {
    this.transitions = metric(registry, 'councilhub_deliveries_total', () => new Counter({
      name: 'councilhub_deliveries_total',
      help: 'Deliveries that reached a status, by target and status',
      labelNames: ['target', 'status'],
      registers: [registry],
    }));
    this.attempts = metric(registry, 'councilhub_delivery_attempts_total', () => new Counter({
      name: 'councilhub_delivery_attempts_total',
      help: 'Delivery attempts started (first tries, retries and replays), by target',
      labelNames: ['target'],
      registers: [registry],
    }));
    this.latency = metric(registry, 'councilhub_delivery_latency_seconds', () => new Histogram({
      name: 'councilhub_delivery_latency_seconds',
      help: 'Time from the start of a delivery to the target taking it, by target',
      labelNames: ['target'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers: [registry],
    }));
  }

  /** Counts what changed between the stored record (before) and the one written (after). */
  observe(before: DeliveryRecord | undefined, after: DeliveryRecord): void {
    if (before?.status !== after.status) this.transitions.inc({ target: after.target, status: after.status });
    if (after.attempts > (before?.attempts ?? 0)) this.attempts.inc({ target: after.target }, after.attempts - (before?.attempts ?? 0));
    if (after.status === 'delivered' && before?.status !== 'delivered') {
      this.latency.observe({ target: after.target }, Math.max(0, (after.settledAt ?? after.updatedAt) - after.createdAt) / 1000);
    }
  }
}
