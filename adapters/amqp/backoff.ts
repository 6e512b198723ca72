export interface BackoffOptions {
  /** First delay; doubles per failed attempt. Default 500 ms. */
  initialDelayMs?: number;
  /** Cap on the delay. Default 30 s. */
  maxDelayMs?: number;
}

/**
 * Exponential backoff with jitter: between half and all of min(max, initial * 2^attempt).
 * The jitter spreads reconnects of many hub instances after a broker restart so they do
 * not all knock at once.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
