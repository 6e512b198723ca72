/**
 * The hub's one error contract, shared by adapters, nodes and the journal: every error the
 * hub raises says whether trying again later can help (transient) or not (permanent: the
 * same input fails the same way, a person must look), and carries a code that the console
 * groups failures by and a flow can switch on. The journal retries transient errors with
 * backoff and makes permanent ones dead letters at once.
 *
 * Errors from third-party code (a core node, a library) that say nothing are classified by
 * the target's configured default ("unclassified" on the delivery node, HUB_RETRY_UNCLASSIFIED
 * before any delivery).
 */
export type ErrorClass = 'transient' | 'permanent';

export interface HubErrorOptions {
  /** Worth trying again later: the peer or the network was not there, not the data. */
  transient: boolean;
  cause?: unknown;
  /** A transient error that is a wait, not a failure: try again at this time (ms since 1970), not counted as an attempt. */
  retryAt?: number;
}

export class HubError extends Error {
  readonly code: string;
  readonly transient: boolean;
  readonly retryAt?: number;

  constructor(code: string, message: string, options: HubErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HubError';
    this.code = code;
    this.transient = options.transient;
    if (options.transient && options.retryAt !== undefined) this.retryAt = options.retryAt;
  }
}

/** Bad input: a missing field, a malformed value, a message that cannot be handled as it is. */
export function permanentError(code: string, message: string, cause?: unknown): HubError {
  return new HubError(code, message, { transient: false, cause });
}

/** The peer or the path was not there: try again later. */
export function transientError(code: string, message: string, cause?: unknown): HubError {
  return new HubError(code, message, { transient: true, cause });
}

/**
 * Not yet: the message is right but must wait until `until` (ms since 1970), e.g. a refund
 * held while earlier refunds of its payment may still be on their way. The journal tries it
 * again then, and the wait does not count against the maximum attempts.
 */
export function waitUntil(code: string, message: string, until: number): HubError {
  return new HubError(code, message, { transient: true, retryAt: until });
}

/** When a waiting error (waitUntil) asks to be tried again, if it is one. */
export function retryAtOf(error: unknown): number | undefined {
  const at = (error as { retryAt?: unknown; transient?: unknown } | null)?.retryAt;
  return (error as { transient?: unknown } | null)?.transient === true && typeof at === 'number' && Number.isFinite(at) ? at : undefined;
}

/**
 * Transient or permanent? An error that says so (`transient: true | false`, as every hub
 * error does) is taken at its word; any other gets `unclassified`.
 */
export function classifyError(error: unknown, unclassified: ErrorClass): ErrorClass {
  const flag = (error as { transient?: unknown } | null)?.transient;
  if (flag === true) return 'transient';
  if (flag === false) return 'permanent';
  return unclassified;
}

/** The code of an error (a hub error's code, a Node errno such as ECONNREFUSED), if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}

/** Whether an error follows the contract (says transient or permanent). */
export function isClassified(error: unknown): boolean {
  return typeof (error as { transient?: unknown } | null)?.transient === 'boolean';
}
