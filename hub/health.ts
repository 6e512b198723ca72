/**
 * Health of the hub's dependencies. Each configured dependency (store, RabbitMQ, Redis)
 * registers a check; /healthz runs them all with a time limit so one hung dependency
 * cannot hang the probe.
 */
export type DependencyState = 'up' | 'down';

export interface DependencyHealth {
  status: DependencyState;
  detail?: string;
  latencyMs?: number;
  /** What a check adds about its dependency (the journal store: its kind and durability). */
  [fact: string]: unknown;
}

/** A check answers a detail line, or the detail with facts beside it, or nothing. */
export type HealthCheck = () => Promise<string | void | { detail?: string; [fact: string]: unknown }>;

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<DependencyHealth> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const answer = await Promise.race([check(), timeout]);
    const facts = typeof answer === 'string' ? { detail: answer } : (answer ?? {});
    return { ...facts, status: 'up', latencyMs: Date.now() - started };
  } catch (err) {
    return { status: 'down', latencyMs: Date.now() - started, detail: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export class HealthChecks {
  private readonly checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async report(timeoutMs = 2000) {
    const names = [...this.checks.keys()];
    const results = await Promise.all(names.map((n) => runCheck(this.checks.get(n)!, timeoutMs)));
    const dependencies = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const up = results.every((r) => r.status === 'up');
    return { status: up ? 'up' : 'degraded', dependencies };
  }
}
