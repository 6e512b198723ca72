import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The hub's one Prometheus registry: everything that counts (journal, deliveries,
 * adapters) registers its metrics here, and /metrics serves it.
 */
export const metricsRegistry = new Registry();
metricsRegistry.setDefaultLabels({ app: 'council-hub' });
collectDefaultMetrics({ register: metricsRegistry, prefix: 'councilhub_' });
