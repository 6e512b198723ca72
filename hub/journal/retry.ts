import { classifyError, errorCode, retryAtOf } from '../../adapters/errors';
import type { DeliveryError, ErrorClass, RetryPolicy } from './types';

/**
 * Transient or permanent? The hub's one rule (adapters/errors.ts): an error that says so
 * (`transient: true | false`, as every adapter and hub error does) is taken at its word;
 * any other is treated as the target's policy says (`unclassified`, transient unless
 * configured otherwise). Re-exported here for the journal's callers.
 */
export { classifyError, retryAtOf };

/** Defaults for a target whose delivery node says nothing else. */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  initialDelayMs: 5000,
  maxDelayMs: 10 * 60 * 1000,
  unclassified: 'transient',
};

/**
 * Delay before the next attempt after `attempts` tries: exponential (initial x 2^(n-1)),
 * capped, with "full jitter" (a random point between half and all of it) so that many
 * deliveries failing together do not all come back at the same moment.
 */
export function retryDelayMs(policy: RetryPolicy, attempts: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * 2 ** Math.max(0, attempts - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped / 2 + random() * (capped / 2));
}

/** The journal's record of an error, with where it happened. */
export function describeError(
  error: unknown,
  unclassified: ErrorClass,
  where: { nodeId?: string; nodeType?: string; nodeName?: string } = {},
  at = Date.now(),
): DeliveryError {
  const e = error as { message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const code = errorCode(error);
  return {
    message,
    ...(code !== undefined ? { code } : {}),
    classification: classifyError(error, unclassified),
    ...Object.fromEntries(Object.entries(where).filter(([, v]) => v !== undefined && v !== '')),
    at,
  };
}

/** Checks a policy from a node's configuration; bad values get a clear error. */
export function retryPolicy(input: Partial<Record<keyof RetryPolicy, unknown>>): RetryPolicy {
  const number = (name: keyof RetryPolicy, fallback: number, min: number) => {
    const raw = input[name];
    if (raw === undefined || raw === '' || raw === null) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`retry policy: ${name} must be a number of at least ${min}, got "${String(raw)}"`);
    return value;
  };
  const unclassified = input.unclassified ?? defaultRetryPolicy.unclassified;
  if (unclassified !== 'transient' && unclassified !== 'permanent') {
    throw new Error(`retry policy: unclassified must be transient or permanent, got "${String(unclassified)}"`);
  }
  const policy = {
    maxAttempts: Math.floor(number('maxAttempts', defaultRetryPolicy.maxAttempts, 1)),
    initialDelayMs: number('initialDelayMs', defaultRetryPolicy.initialDelayMs, 0),
    maxDelayMs: number('maxDelayMs', defaultRetryPolicy.maxDelayMs, 0),
    unclassified: unclassified as ErrorClass,
  };
  if (policy.maxDelayMs < policy.initialDelayMs) throw new Error('retry policy: maxDelayMs must not be less than initialDelayMs');
  return policy;
}
